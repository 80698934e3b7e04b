"""The CloudFormation model of template.yaml and the bricks it nests, for given parameter values.

One reader for the local stack (``bulb_workbench.local._resources``: what it creates on moto)
and the template tests (``tests/infra/_composition.py``). ``Model`` loads a template and every
nested one it references (``AWS::Serverless::Application`` / ``AWS::CloudFormation::Stack`` with a
local ``Location``/``TemplateURL``), passes each child the parameters its parent gives it
(defaults otherwise), evaluates ``Conditions`` and ``Rules`` and resolves ``Ref``, ``GetAtt``
(``Outputs.X`` of a nested stack included), ``Sub``, ``If``, ``Join``, ``Split``, ``Select`` and
``FindInMap``. A reference to a resource becomes a marker (``Model.mark``), so that a queue URL
in a function's environment and the queue itself compare equal across templates.

Two views, one resolver:

- the default (the local stack's): pseudo parameters have the local values given, ``Sub`` and
  ``Join`` made of known text are rendered, anything the model cannot follow is ``UNRESOLVED``
  and conditions depending on it are ``None``;
- ``strict`` (the template tests'): anything that does not compose is a ``TemplateError``,
  scalars are CloudFormation text, ``Sub`` stays a ``Sub`` naming the resources it uses and
  pseudo parameters are placeholders (``<AWS::Region>``).

Handler names are read from the templates, never assumed here.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

_log = logging.getLogger(__name__)

NESTED_TYPES = ("AWS::Serverless::Application", "AWS::CloudFormation::Stack")
_PSEUDO = (
    "AWS::Region",
    "AWS::AccountId",
    "AWS::Partition",
    "AWS::URLSuffix",
    "AWS::StackName",
    "AWS::StackId",
    "AWS::NotificationARNs",
)
_SUB_VAR = re.compile(r"\$\{([^}!][^}]*)\}")


class TemplateError(AssertionError, RuntimeError):
    """A template is missing, or does not compose (a missing parameter, output or resource).

    An ``AssertionError`` too, so that a template test failing on it reads as a failed check.
    """


@dataclass(frozen=True, slots=True)
class ResourceRef:
    """``!Ref`` of a resource: ``key`` is ``<nested path>/<logical id>``."""

    key: str


@dataclass(frozen=True, slots=True)
class ResourceAtt:
    """``!GetAtt`` of a resource (``Arn``, ``QueueName``, ``QueueUrl``...)."""

    key: str
    attr: str


@dataclass(frozen=True, slots=True)
class Sub:
    """An ``Fn::Sub`` string (strict view) with the values it names, in order."""

    text: str
    refs: tuple[Any, ...]


class _Marker:
    def __init__(self, name: str) -> None:
        self._name = name

    def __repr__(self) -> str:
        return self._name


UNRESOLVED: Any = _Marker("UNRESOLVED")
NO_VALUE: Any = _Marker("NoValue")


@lru_cache(maxsize=64)
def _load_cached(path: Path, mtime: float) -> dict[str, Any]:
    import yaml

    base: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml is ~10x faster

    class Loader(base):  # type: ignore[misc, valid-type]
        pass

    def construct(loader: Any, suffix: str, node: yaml.Node) -> dict[str, Any]:
        value: Any
        if isinstance(node, yaml.ScalarNode):
            value = loader.construct_scalar(node)
        elif isinstance(node, yaml.SequenceNode):
            value = loader.construct_sequence(node, deep=True)
        else:
            value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
        if suffix in ("Ref", "Condition"):
            return {suffix: value}
        if suffix == "GetAtt" and isinstance(value, str):
            value = value.split(".", 1)  # the long form, as CloudFormation reads the short one
        return {f"Fn::{suffix}": value}

    Loader.add_multi_constructor("!", construct)
    try:
        data = yaml.load(path.read_text(), Loader=Loader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        raise TemplateError(f"{path} is not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise TemplateError(f"{path} is not a template")
    return data


def load(path: Path | str) -> dict[str, Any]:
    """A template with its short-form tags turned into ``{"Ref": ...}``/``{"Fn::...": ...}``
    (cached while the file is unchanged; callers must not modify it)."""
    path = Path(path).resolve()
    return _load_cached(path, path.stat().st_mtime)


class Stack:
    """One template of the model with the parameter values its parent gives it."""

    def __init__(
        self,
        model: Model,
        trail: tuple[str, ...],
        path: Path,
        given: Mapping[str, Any],
        parent: Stack | None,
    ) -> None:
        self.model, self.trail, self.path, self.parent = model, trail, path, parent
        self.template = load(path)
        self.given = dict(given)  # raw, in the parent's context (root: the overrides)
        self._conditions: dict[str, bool | None] = {}
        self._parameters: dict[str, Any] = {}
        declared = self.declared
        if model.strict:
            unknown = set(given) - set(declared)
            if unknown:
                raise TemplateError(f"{self.label}: unknown parameters {sorted(unknown)}")
            missing = [
                p for p, spec in declared.items() if p not in given and "Default" not in spec
            ]
            if missing:
                raise TemplateError(f"{self.label}: parameters without a value: {missing}")

    @property
    def name(self) -> str:
        """The nested path of logical ids ("" for the root template)."""
        return "/".join(self.trail)

    @property
    def label(self) -> str:
        try:
            shown = str(self.path.relative_to(self.model.path.parent))
        except ValueError:
            shown = str(self.path)
        return shown + (f" ({self.name})" if self.name else "")

    @property
    def declared(self) -> dict[str, Any]:
        return self.template.get("Parameters") or {}

    @property
    def resources(self) -> dict[str, Any]:
        return self.template.get("Resources") or {}

    @property
    def globals_function(self) -> dict[str, Any]:
        return ((self.template.get("Globals") or {}).get("Function")) or {}

    def key(self, logical_id: str) -> str:
        return "/".join((*self.trail, logical_id))

    def deployed(self, logical_id: str) -> bool:
        """False only when the resource's condition is known to be false."""
        resource = self.resources.get(logical_id)
        condition = resource.get("Condition") if isinstance(resource, dict) else None
        return condition is None or self.condition(condition) is not False

    def child(self, logical_id: str) -> Stack | None:
        return self.model.stacks.get(self.key(logical_id))

    def _fail(self, message: str) -> Any:
        if self.model.strict:
            raise TemplateError(f"{self.label}: {message}")
        return UNRESOLVED

    # -- parameters and conditions ------------------------------------------------------------
    def parameter(self, name: str) -> Any:
        if name not in self._parameters:
            spec = self.declared.get(name)
            spec = spec if isinstance(spec, dict) else {}
            if name in self.given:
                raw = self.given[name]
                value = self.parent.resolve(raw) if self.parent is not None else _text(raw)
            elif "Default" in spec:
                value = _text(spec["Default"])
            else:
                value = self._fail(f"parameter {name} has no value")
            if spec.get("Type") == "CommaDelimitedList" and isinstance(value, str):
                value = value.split(",")
            self._parameters[name] = value
        return self._parameters[name]

    def parameters(self) -> dict[str, Any]:
        """Every declared parameter's value (given, else its default, else ``UNRESOLVED``)."""
        return {name: self.parameter(name) for name in self.declared}

    def condition(self, name: Any) -> bool | None:
        """Three-valued: None when it depends on something the model cannot know."""
        if not isinstance(name, str):
            return self._fail(f"condition {name!r} is not a name") and None
        if name not in self._conditions:
            conditions = self.template.get("Conditions") or {}
            if name not in conditions:
                self._fail(f"no condition {name}")
            self._conditions[name] = None  # guards against cycles
            self._conditions[name] = self._truth(conditions.get(name))
        return self._conditions[name]

    def _truth(self, expr: Any) -> bool | None:
        if isinstance(expr, bool):
            return expr
        if not (isinstance(expr, dict) and len(expr) == 1):
            return self._fail(f"condition {expr!r} not understood") and None
        ((function, args),) = expr.items()
        if function == "Condition":
            return self.condition(args)
        if function == "Fn::Equals" and isinstance(args, list) and len(args) == 2:
            left, right = (self.resolve(a) for a in args)
            if left is UNRESOLVED or right is UNRESOLVED:
                return None
            return _scalar(left) == _scalar(right)
        if function == "Fn::Not" and isinstance(args, list) and len(args) == 1:
            value = self._truth(args[0])
            return None if value is None else not value
        if function in ("Fn::And", "Fn::Or") and isinstance(args, list):
            values = [self._truth(a) for a in args]
            if function == "Fn::And":
                return False if False in values else (None if None in values else True)
            return True if True in values else (None if None in values else False)
        return self._fail(f"condition function {function} not understood") and None

    def rule_failures(self, region: str = "us-east-1") -> list[str]:
        """The ``AssertDescription`` of every failing assertion of the template's ``Rules``, as
        CloudFormation would refuse the parameters (``region`` stands for ``AWS::Region``)."""
        failures = []
        for name, rule in (self.template.get("Rules") or {}).items():
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
        return _text(expr)

    def _rule_truth(self, expr: Any, region: str) -> bool:
        ((function, args),) = expr.items()
        if function == "Fn::Equals":
            left, right = (self._rule_value(a, region) for a in args)
            return bool(left == right)
        if function == "Fn::Not":
            return not self._rule_truth(args[0], region)
        if function == "Fn::And":
            return all(self._rule_truth(a, region) for a in args)
        if function == "Fn::Or":
            return any(self._rule_truth(a, region) for a in args)
        if function == "Fn::Contains":
            haystack, needle = (self._rule_value(a, region) for a in args)
            return needle in haystack
        raise TemplateError(f"{self.label}: rule function {function} not understood")

    # -- values --------------------------------------------------------------------------------
    def resolve(self, value: Any) -> Any:
        """Evaluate intrinsic functions; drop ``AWS::NoValue`` from mappings and lists."""
        if isinstance(value, list):
            return [r for r in (self.resolve(v) for v in value) if r is not NO_VALUE]
        if isinstance(value, dict):
            if len(value) == 1:
                ((function, args),) = value.items()
                if function == "Ref":
                    return self._ref(args)
                if function.startswith("Fn::"):
                    return self._function(function, args)
                if function == "Condition" and isinstance(args, str) and not self.model.strict:
                    return self.condition(args)
            resolved = {str(k): self.resolve(v) for k, v in value.items()}
            return {k: v for k, v in resolved.items() if v is not NO_VALUE}
        return _text(value) if self.model.strict else value

    def output(self, name: str) -> Any:
        spec = (self.template.get("Outputs") or {}).get(name)
        if not isinstance(spec, dict) or "Value" not in spec:
            return self._fail(f"no output {name}")
        if "Condition" in spec and self.condition(spec["Condition"]) is False:
            return self._fail(f"output {name} is not deployed")
        return self.resolve(spec["Value"])

    def _ref(self, name: Any) -> Any:
        if name == "AWS::NoValue":
            return NO_VALUE
        if name in _PSEUDO:
            return self.model.pseudo(name, self.trail)
        if name in self.declared:
            return self.parameter(name)
        if name in self.resources:
            if self.model.strict and not self.deployed(name):
                raise TemplateError(f"{self.label}: !Ref {name}, which is not deployed")
            return self.model.mark(self.name, name, None)
        base, _, attribute = str(name).partition(".")
        resource = self.resources.get(base)
        if (
            attribute == "Alias"
            and isinstance(resource, dict)
            and resource.get("Type") == "AWS::Serverless::Function"
        ):
            # SAM's !Ref Function.Alias: the AWS::Lambda::Alias that AutoPublishAlias makes
            alias = self.resolve(
                (resource.get("Properties") or {}).get("AutoPublishAlias", {"Ref": "AWS::NoValue"})
            )
            if alias is NO_VALUE or alias is UNRESOLVED:
                return self._fail(f"!Ref {name}, but {base} publishes no alias")
            return self.model.mark(self.name, f"{base}Alias{alias}", None)
        return self._fail(f"!Ref {name}: no such parameter or resource")

    def _get_att(self, args: Any) -> Any:
        parts = args.split(".", 1) if isinstance(args, str) else list(args)
        if len(parts) != 2:
            return self._fail(f"!GetAtt {args!r} not understood")
        logical_id, attribute = str(parts[0]), self.resolve(parts[1])
        resource = self.resources.get(logical_id)
        if not isinstance(resource, dict) or not isinstance(attribute, str):
            return self._fail(f"!GetAtt {logical_id}.{attribute}: no such resource")
        if self.model.strict and not self.deployed(logical_id):
            raise TemplateError(f"{self.label}: !GetAtt {logical_id}, which is not deployed")
        if resource.get("Type") in NESTED_TYPES and attribute.startswith("Outputs."):
            child = self.child(logical_id)
            if child is None:
                return self._fail(f"!GetAtt {logical_id}.{attribute}: not a local nested stack")
            return child.output(attribute.removeprefix("Outputs."))
        return self.model.mark(self.name, logical_id, attribute)

    def _function(self, function: str, args: Any) -> Any:
        strict = self.model.strict
        pair = isinstance(args, list) and len(args) == 2
        if function == "Fn::GetAtt":
            return self._get_att(args)
        if function == "Fn::If" and isinstance(args, list) and len(args) == 3:
            return self.resolve(args[2] if self.condition(args[0]) is False else args[1])
        if function == "Fn::Sub":
            return self._sub(args)
        if function == "Fn::Join" and pair:
            parts = self.resolve(args[1])
            if isinstance(parts, list) and all(_known_text(p) for p in parts):
                return str(args[0]).join(str(_scalar(p)) for p in parts)
            if strict and isinstance(parts, list):
                return Sub(str(args[0]).join(str(p) for p in parts), tuple(parts))
            return self._fail(f"Fn::Join of {parts!r}")
        if function == "Fn::Split" and pair:
            source = self.resolve(args[1])
            if _known_text(source) and isinstance(source, str):
                return source.split(str(args[0]))
            return Sub(f"Fn::Split({args[0]!r})", (source,)) if strict else UNRESOLVED
        if function == "Fn::Select" and pair:
            index, items = self.resolve(args[0]), self.resolve(args[1])
            if isinstance(items, list):
                try:
                    return items[int(index)]
                except (TypeError, ValueError, IndexError):
                    return self._fail(f"Fn::Select({index!r}) of {items!r}")
            return Sub(f"Fn::Select({index})", (items,)) if strict else UNRESOLVED
        if function == "Fn::FindInMap" and isinstance(args, list) and len(args) == 3:
            keys = [self.resolve(a) for a in args]
            try:
                return self.resolve(
                    (self.template.get("Mappings") or {})[keys[0]][keys[1]][keys[2]]
                )
            except (KeyError, TypeError):
                return self._fail(f"Fn::FindInMap {keys!r}: no such entry")
        return self._fail(f"{function} not understood")

    def _sub(self, args: Any) -> Any:
        text, variables = (
            (args[0], args[1]) if isinstance(args, list) and len(args) == 2 else (args, {})
        )
        if not isinstance(text, str) or not isinstance(variables, dict):
            return self._fail(f"Fn::Sub {args!r} not understood")
        names = _SUB_VAR.findall(text)
        values = [self._sub_value(name, variables) for name in names]
        if self.model.strict:
            return Sub(text, tuple(values))
        if len(names) == 1 and text == "${" + names[0] + "}":
            return values[0]  # a whole-value reference keeps its marker
        result = text
        for name, value in zip(names, values, strict=True):
            if not _known_text(value):
                return UNRESOLVED
            result = result.replace("${" + name + "}", str(_scalar(value)))
        return result.replace("${!", "${")

    def _sub_value(self, name: str, variables: Mapping[str, Any]) -> Any:
        if name in variables:
            return self.resolve(variables[name])
        if "." in name and name.split(".")[0] in self.resources:
            return self._get_att(name)
        return self._ref(name)


class Model:
    """A template and every local template it nests, for ``parameters`` (like ``sam deploy
    --parameter-overrides``; defaults otherwise).

    ``pseudo`` gives the values of pseudo parameters (``AWS::Region``...); those not given are
    placeholders in the strict view and ``UNRESOLVED`` otherwise. ``AWS::StackName`` of a nested
    stack is its parent's followed by the nested path.
    """

    strict = False

    def __init__(
        self,
        template: Path | str,
        parameters: Mapping[str, Any] | None = None,
        *,
        pseudo: Mapping[str, str] | None = None,
    ) -> None:
        self.path = Path(template)
        if not self.path.is_file():
            raise TemplateError(
                f"{self.path} does not exist: the model is read from the SAM template "
                "(template.yaml at the repository root, with infra/*.yaml)"
            )
        self.parameters = dict(parameters or {})
        self._pseudo = dict(pseudo or {})
        self.stacks: dict[str, Stack] = {}
        self.root = Stack(self, (), self.path, self.parameters, None)
        self._add(self.root)

    def _add(self, stack: Stack) -> None:
        """Register ``stack`` and, depth first in template order, every local stack it nests."""
        self.stacks[stack.name] = stack
        for logical_id, resource in stack.resources.items():
            if not (isinstance(resource, dict) and resource.get("Type") in NESTED_TYPES):
                continue
            if not stack.deployed(logical_id):
                continue
            props = resource.get("Properties") or {}
            location = stack.resolve(props.get("Location", props.get("TemplateURL")))
            if not isinstance(location, str) or re.match(r"^[a-z]+://", location):
                if self.strict:
                    raise TemplateError(f"{stack.label}: {logical_id} is not a local template")
                _log.warning(
                    "%s: nested stack %r is not a local file; skipped",
                    stack.key(logical_id),
                    location,
                )
                continue
            file = (stack.path.parent / location).resolve()
            if not file.is_file():
                raise TemplateError(f"{stack.key(logical_id)}: nested template {file} not found")
            self._add(
                Stack(self, (*stack.trail, logical_id), file, props.get("Parameters") or {}, stack)
            )

    def mark(self, stack: str, logical_id: str, attribute: str | None) -> Any:
        """The value of ``!Ref`` (``attribute`` None) or ``!GetAtt`` of a resource."""
        key = f"{stack}/{logical_id}" if stack else logical_id
        return ResourceRef(key) if attribute is None else ResourceAtt(key, attribute)

    def pseudo(self, name: str, trail: tuple[str, ...]) -> Any:
        if name in self._pseudo:
            value = self._pseudo[name]
            return "-".join((value, *trail)) if name == "AWS::StackName" else value
        return f"<{name}>" if self.strict else UNRESOLVED

    def resources(self, kind: str | None = None) -> Iterator[tuple[Stack, str, dict[str, Any]]]:
        """Deployed resources of every stack (of one type if given): (stack, logical id, raw)."""
        for stack in self.stacks.values():
            for logical_id, resource in stack.resources.items():
                if not isinstance(resource, dict) or (
                    kind is not None and resource.get("Type") != kind
                ):
                    continue
                if stack.deployed(logical_id):
                    yield stack, logical_id, resource


def _text(value: Any) -> Any:
    """A scalar as CloudFormation text (parameters always are)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float | str):
        return str(value)
    return value


def _scalar(value: Any) -> Any:
    return _text(value) if isinstance(value, bool | int | float) else value


def _known_text(value: Any) -> bool:
    if isinstance(value, str):
        return not value.startswith("<AWS::")  # a strict view's placeholder is not known
    return isinstance(value, int | float) and not isinstance(value, bool)
