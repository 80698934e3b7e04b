"""The deployed composition, evaluated: template.yaml and the infra/ bricks it nests, for given
parameter values, as CloudFormation would see them.

Conditions are evaluated, nested applications get the parameters their parent passes (defaults
otherwise), ``!GetAtt App.Outputs.X`` follows into the child, and every ``!Ref``/``!GetAtt`` of a
resource becomes ``Res(stack, logical_id)``, so that a queue URL in a function's environment, the
queue ARN in its role's policy and the queue itself compare equal across templates.

    comp = Composition({"SkillId": SKILL_ID, "EnablePolling": "true"})
    for fn in comp.functions():
        fn.handler, fn.environment, fn.statements()
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from cfnlint.decode import cfn_yaml

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "template.yaml"
SKILL_ID = "amzn1.ask.skill.00000000-0000-0000-0000-000000000000"
STYLES = ("Sync", "Async", "Optimistic", "Polling")
NO_VALUE: Any = type("NoValue", (), {"__repr__": lambda self: "NoValue"})()


class CompositionError(AssertionError):
    """The templates do not compose (a missing parameter, output or resource)."""


@dataclass(frozen=True, slots=True)
class Res:
    """A resource of the composition: ``stack`` is the nested application's logical id ("" for
    template.yaml)."""

    stack: str
    logical_id: str

    def __str__(self) -> str:
        return f"{self.stack}/{self.logical_id}" if self.stack else self.logical_id


@dataclass(frozen=True, slots=True)
class Sub:
    """An ``Fn::Sub`` string with the resources it names."""

    text: str
    refs: tuple[Any, ...]


_SUB_VAR = re.compile(r"\$\{([^}!][^}]*)\}")
_PSEUDO = {"AWS::Region", "AWS::AccountId", "AWS::Partition", "AWS::URLSuffix", "AWS::StackName", "AWS::StackId"}
_cache: dict[Path, dict[str, Any]] = {}


def load(path: Path) -> dict[str, Any]:
    """A template with its short-form tags turned into ``{"Ref": ...}``/``{"Fn::...": ...}``."""
    if path not in _cache:
        _cache[path] = cfn_yaml.load(str(path))
    return _cache[path]


class Stack:
    def __init__(
        self,
        comp: Composition,
        name: str,
        path: Path,
        given: dict[str, Any],
        parent: Stack | None,
    ) -> None:
        self.comp, self.name, self.path, self.parent = comp, name, path, parent
        self.template = load(path)
        self.given = given  # parameter values (raw, in the parent's context) or root overrides
        self._conditions: dict[str, bool] = {}
        declared = self.template.get("Parameters", {})
        unknown = set(given) - set(declared)
        if unknown:
            raise CompositionError(f"{self.label}: unknown parameters {sorted(unknown)}")
        missing = [p for p, spec in declared.items() if p not in given and "Default" not in spec]
        if missing:
            raise CompositionError(f"{self.label}: parameters without a value: {missing}")

    @property
    def label(self) -> str:
        return f"{self.path.relative_to(ROOT)}" + (f" ({self.name})" if self.name else "")

    @property
    def resources(self) -> dict[str, Any]:
        return self.template.get("Resources", {})

    def deployed(self, logical_id: str) -> bool:
        condition = self.resources[logical_id].get("Condition")
        return condition is None or self.condition(condition)

    # -- values ---------------------------------------------------------------------------------
    def parameter(self, name: str) -> Any:
        if name in self.given:
            raw = self.given[name]
            value = self.parent.resolve(raw) if self.parent is not None else str(raw)
        else:
            value = str(self.template["Parameters"][name]["Default"])
        if self.template["Parameters"][name].get("Type") == "CommaDelimitedList" and isinstance(value, str):
            return value.split(",")
        return value

    def condition(self, name: str) -> bool:
        if name not in self._conditions:
            self._conditions[name] = self._truth(self.template["Conditions"][name])
        return self._conditions[name]

    def _truth(self, expr: Any) -> bool:
        (fn, args), = expr.items()
        if fn == "Condition":
            return self.condition(args)
        if fn == "Fn::Equals":
            left, right = (self.resolve(a) for a in args)
            return left == right
        if fn == "Fn::Not":
            return not self._truth(args[0])
        if fn == "Fn::And":
            return all(self._truth(a) for a in args)
        if fn == "Fn::Or":
            return any(self._truth(a) for a in args)
        raise CompositionError(f"{self.label}: condition function {fn} not understood")

    def resolve(self, value: Any) -> Any:
        """Evaluate intrinsic functions; drop ``AWS::NoValue`` from mappings and lists."""
        if isinstance(value, dict):
            if len(value) == 1:
                (key, args), = value.items()
                if key == "Ref":
                    return self._ref(args)
                if key == "Fn::GetAtt":
                    return self._get_att(args)
                if key == "Fn::If":
                    return self.resolve(args[1] if self.condition(args[0]) else args[2])
                if key == "Fn::Sub":
                    return self._sub(args)
                if key == "Fn::Join":
                    parts = [self.resolve(p) for p in self.resolve(args[1])]
                    if all(isinstance(p, str) and not p.startswith("<AWS::") for p in parts):
                        return str(args[0]).join(parts)  # known text (conditions compare it)
                    return Sub(str(args[0]).join(str(p) for p in parts), tuple(parts))
                if key == "Fn::Split":
                    source = self.resolve(args[1])
                    if isinstance(source, str) and not source.startswith("<AWS::"):
                        return source.split(str(args[0]))
                    return Sub(f"Fn::Split({args[0]!r})", (source,))  # known at deploy time only
                if key == "Fn::Select":
                    index, items = self.resolve(args[0]), self.resolve(args[1])
                    if isinstance(items, list):
                        return items[int(index)]
                    return Sub(f"Fn::Select({index})", (items,))
                if key.startswith("Fn::"):
                    raise CompositionError(f"{self.label}: {key} not understood")
            out = {}
            for k, v in value.items():
                r = self.resolve(v)
                if r is not NO_VALUE:
                    out[str(k)] = r
            return out
        if isinstance(value, list):
            return [r for r in (self.resolve(v) for v in value) if r is not NO_VALUE]
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, int | float):
            return str(value)
        return str(value) if isinstance(value, str) else value

    def _ref(self, name: str) -> Any:
        if name == "AWS::NoValue":
            return NO_VALUE
        if name in _PSEUDO:
            return f"<{name}>"
        if name in self.template.get("Parameters", {}):
            return self.parameter(name)
        if name in self.resources:
            if not self.deployed(name):
                raise CompositionError(f"{self.label}: !Ref {name}, which is not deployed")
            return Res(self.name, name)
        base, _, attribute = name.partition(".")
        if attribute == "Alias" and self.resources.get(base, {}).get("Type") == "AWS::Serverless::Function":
            # SAM's !Ref Function.Alias: the AWS::Lambda::Alias that AutoPublishAlias makes
            alias = self.resolve(self.resources[base]["Properties"].get("AutoPublishAlias", {"Ref": "AWS::NoValue"}))
            if alias is NO_VALUE:
                raise CompositionError(f"{self.label}: !Ref {name}, but {base} publishes no alias")
            return Res(self.name, f"{base}Alias{alias}")
        raise CompositionError(f"{self.label}: !Ref {name}: no such parameter or resource")

    def _get_att(self, args: Any) -> Any:
        logical_id, attribute = args.split(".", 1) if isinstance(args, str) else args
        logical_id, attribute = str(logical_id), str(attribute)
        if logical_id not in self.resources:
            raise CompositionError(f"{self.label}: !GetAtt {logical_id}: no such resource")
        if not self.deployed(logical_id):
            raise CompositionError(f"{self.label}: !GetAtt {logical_id}, which is not deployed")
        if attribute.startswith("Outputs."):
            return self.comp.stacks[logical_id].output(attribute.removeprefix("Outputs."))
        return Res(self.name, logical_id)

    def _sub(self, args: Any) -> Sub:
        text, variables = (args, {}) if isinstance(args, str) else (args[0], args[1])
        refs = []
        for var in _SUB_VAR.findall(text):
            if var in variables:
                refs.append(self.resolve(variables[var]))
            elif "." in var and var.split(".")[0] in self.resources:
                refs.append(self._get_att(var))
            else:
                refs.append(self._ref(var))
        return Sub(str(text), tuple(refs))

    def rule_failures(self, region: str = "us-east-1") -> list[str]:
        """The ``AssertDescription`` of every failing assertion of the template's ``Rules``, as
        CloudFormation would refuse the parameters (``region`` stands for ``AWS::Region``)."""
        failures = []
        for name, rule in self.template.get("Rules", {}).items():
            if "RuleCondition" in rule and not self._rule_truth(rule["RuleCondition"], region):
                continue
            for assertion in rule["Assertions"]:
                if not self._rule_truth(assertion["Assert"], region):
                    failures.append(f"{name}: {assertion.get('AssertDescription', '')}")
        return failures

    def _rule_value(self, expr: Any, region: str) -> Any:
        if isinstance(expr, dict) and list(expr) == ["Ref"]:
            return region if expr["Ref"] == "AWS::Region" else self.parameter(expr["Ref"])
        if isinstance(expr, dict):
            return self._rule_truth(expr, region)
        if isinstance(expr, list):
            return [self._rule_value(e, region) for e in expr]
        return str(expr)

    def _rule_truth(self, expr: Any, region: str) -> bool:
        (fn, args), = expr.items()
        if fn == "Fn::Equals":
            left, right = (self._rule_value(a, region) for a in args)
            return left == right
        if fn == "Fn::Not":
            return not self._rule_truth(args[0], region)
        if fn == "Fn::And":
            return all(self._rule_truth(a, region) for a in args)
        if fn == "Fn::Or":
            return any(self._rule_truth(a, region) for a in args)
        if fn == "Fn::Contains":
            haystack, needle = (self._rule_value(a, region) for a in args)
            return needle in haystack
        raise CompositionError(f"{self.label}: rule function {fn} not understood")

    def output(self, name: str) -> Any:
        outputs = self.template.get("Outputs", {})
        if name not in outputs:
            raise CompositionError(f"{self.label}: no output {name}")
        spec = outputs[name]
        if "Condition" in spec and not self.condition(spec["Condition"]):
            raise CompositionError(f"{self.label}: output {name} is not deployed")
        return self.resolve(spec["Value"])


@dataclass
class Function:
    comp: Composition
    res: Res
    props: dict[str, Any]

    @property
    def handler(self) -> str:
        return self.props["Handler"]

    @property
    def timeout(self) -> float:
        return float(self.props.get("Timeout", 3))

    @property
    def environment(self) -> dict[str, Any]:
        return self.props.get("Environment", {}).get("Variables", {})

    @property
    def events(self) -> dict[str, dict[str, Any]]:
        return self.props.get("Events", {})

    def sqs_events(self) -> list[dict[str, Any]]:
        return [e["Properties"] for e in self.events.values() if e["Type"] == "SQS"]

    @property
    def role(self) -> Res:
        role = self.props.get("Role")
        if not isinstance(role, Res):
            raise CompositionError(f"{self.res}: Role must be a role of the composition, got {role!r}")
        return role

    def statements(self) -> list[Statement]:
        return self.comp.role_statements(self.role)


@dataclass
class Statement:
    effect: str
    actions: list[str]
    resources: list[Any]
    condition: dict[str, Any] = field(default_factory=dict)
    principals: list[Any] = field(default_factory=list)
    origin: str = ""

    def allows(self, action: str, resource: Any) -> bool:
        if self.effect != "Allow" or action not in self.actions:
            return False
        # a query of one of the table's indexes (``!Sub '${TableArn}/index/Name'``) uses the table
        return resource in self.resources or action == "dynamodb:Query" and any(
            isinstance(r, Sub) and r.refs == (resource,) and "/index/" in r.text for r in self.resources
        )


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def statements_of(document: dict[str, Any], origin: str) -> list[Statement]:
    found = []
    for s in _as_list(document.get("Statement", [])):
        principal = s.get("Principal", {})
        principals = [p for v in principal.values() for p in _as_list(v)] if isinstance(principal, dict) else [principal]
        found.append(
            Statement(
                effect=s["Effect"],
                actions=[str(a) for a in _as_list(s.get("Action", []))],
                resources=_as_list(s.get("Resource", [])),
                condition=s.get("Condition", {}),
                principals=principals,
                origin=origin,
            )
        )
    return found


class Composition:
    """template.yaml and the bricks it deploys for ``parameters``."""

    def __init__(self, parameters: dict[str, str] | None = None) -> None:
        self.parameters = {"SkillId": SKILL_ID, **(parameters or {})}
        self.stacks: dict[str, Stack] = {}
        self.root = Stack(self, "", TEMPLATE, self.parameters, None)
        self.stacks[""] = self.root
        for logical_id, resource in self.root.resources.items():
            if resource["Type"] == "AWS::Serverless::Application" and self.root.deployed(logical_id):
                location = (TEMPLATE.parent / resource["Properties"]["Location"]).resolve()
                given = dict(resource["Properties"].get("Parameters", {}))
                self.stacks[logical_id] = Stack(self, logical_id, location, given, self.root)

    @classmethod
    def with_styles(cls, *styles: str, **parameters: str) -> Composition:
        enabled = {f"Enable{s}": "true" if s in styles else "false" for s in STYLES}
        return cls({**enabled, **parameters})

    def resources(self, kind: str | None = None) -> Iterator[tuple[Res, dict[str, Any]]]:
        """Deployed resources (properties resolved), of one type if given."""
        for stack in self.stacks.values():
            for logical_id, resource in stack.resources.items():
                if (kind is None or resource["Type"] == kind) and stack.deployed(logical_id):
                    yield Res(stack.name, logical_id), resource

    def props(self, res: Res) -> dict[str, Any]:
        stack = self.stacks[res.stack]
        return stack.resolve(stack.resources[res.logical_id].get("Properties", {}))

    def type_of(self, res: Res) -> str:
        return self.stacks[res.stack].resources[res.logical_id]["Type"]

    def raw(self, res: Res) -> dict[str, Any]:
        return self.stacks[res.stack].resources[res.logical_id]

    def functions(self) -> list[Function]:
        return [Function(self, res, self.props(res)) for res, _ in self.resources("AWS::Serverless::Function")]

    def function(self, handler: str) -> Function:
        found = [f for f in self.functions() if f.handler == handler]
        assert len(found) == 1, f"{len(found)} functions with handler {handler}"
        return found[0]

    @cached_property
    def _statements_by_role(self) -> dict[Res, list[Statement]]:
        by_role: dict[Res, list[Statement]] = {}
        for res, _ in self.resources("AWS::IAM::Role"):
            props = self.props(res)
            for policy in props.get("Policies", []):
                by_role.setdefault(res, []).extend(
                    statements_of(policy["PolicyDocument"], f"{res} {policy['PolicyName']}")
                )
        for res, _ in self.resources("AWS::IAM::Policy"):
            props = self.props(res)
            for role in props.get("Roles", []):
                by_role.setdefault(role, []).extend(statements_of(props["PolicyDocument"], str(res)))
        return by_role

    def role_statements(self, role: Res) -> list[Statement]:
        return self._statements_by_role.get(role, [])

    def policy_documents(self) -> Iterator[tuple[str, dict[str, Any]]]:
        """Every policy document of the composition: roles, managed/inline policies, key policies,
        queue and topic policies, trust policies."""

        def walk(node: Any, where: str) -> Iterator[tuple[str, dict[str, Any]]]:
            if isinstance(node, dict):
                if "Statement" in node and isinstance(node.get("Statement"), list):
                    yield where, node
                for key, value in node.items():
                    yield from walk(value, f"{where}.{key}")
            elif isinstance(node, list):
                for i, value in enumerate(node):
                    yield from walk(value, f"{where}[{i}]")

        for res, _ in self.resources():
            yield from walk(self.props(res), str(res))
