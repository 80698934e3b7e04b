"""The deployed composition, evaluated: template.yaml and the infra/ bricks it nests, for given
parameter values, as CloudFormation would see them.

A thin layer over the workbench's one CloudFormation model (``bulb_workbench.cfn``) in its strict
view: conditions are evaluated, nested applications get the parameters their parent passes
(defaults otherwise), ``!GetAtt App.Outputs.X`` follows into the child, and every
``!Ref``/``!GetAtt`` of a resource becomes ``Res(stack, logical_id)``, so that a queue URL in a
function's environment, the queue ARN in its role's policy and the queue itself compare equal
across templates.

    comp = Composition({"SkillId": SKILL_ID, "EnablePolling": "true"})
    for fn in comp.functions():
        fn.handler, fn.environment, fn.statements()
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from bulb_workbench.cfn import NO_VALUE, Model, Stack, Sub, load
from bulb_workbench.cfn import TemplateError as CompositionError

__all__ = ["NO_VALUE", "CompositionError", "Stack", "Sub", "load"]

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "template.yaml"
SKILL_ID = "amzn1.ask.skill.00000000-0000-0000-0000-000000000000"
STYLES = ("Sync", "Async", "Optimistic", "Polling")


@dataclass(frozen=True, slots=True)
class Res:
    """A resource of the composition: ``stack`` is the nested application's logical id ("" for
    template.yaml)."""

    stack: str
    logical_id: str

    def __str__(self) -> str:
        return f"{self.stack}/{self.logical_id}" if self.stack else self.logical_id


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
            raise CompositionError(
                f"{self.res}: Role must be a role of the composition, got {role!r}"
            )
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
        return resource in self.resources or (
            action == "dynamodb:Query"
            and any(
                isinstance(r, Sub) and r.refs == (resource,) and "/index/" in r.text
                for r in self.resources
            )
        )


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def statements_of(document: dict[str, Any], origin: str) -> list[Statement]:
    found = []
    for s in _as_list(document.get("Statement", [])):
        principal = s.get("Principal", {})
        principals = (
            [p for v in principal.values() for p in _as_list(v)]
            if isinstance(principal, dict)
            else [principal]
        )
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


class Composition(Model):
    """template.yaml and the bricks it deploys for ``parameters``."""

    strict = True

    def __init__(self, parameters: dict[str, str] | None = None) -> None:
        super().__init__(TEMPLATE, {"SkillId": SKILL_ID, **(parameters or {})})

    def mark(self, stack: str, logical_id: str, attribute: str | None) -> Res:
        return Res(stack, logical_id)  # a resource compares equal whatever is asked of it

    @classmethod
    def with_styles(cls, *styles: str, **parameters: str) -> Composition:
        enabled = {f"Enable{s}": "true" if s in styles else "false" for s in STYLES}
        return cls({**enabled, **parameters})

    def resources(self, kind: str | None = None) -> Iterator[tuple[Res, dict[str, Any]]]:  # type: ignore[override]
        """Deployed resources (raw), of one type if given."""
        for stack, logical_id, resource in super().resources(kind):
            yield Res(stack.name, logical_id), resource

    def props(self, res: Res) -> dict[str, Any]:
        """A resource's properties, resolved."""
        stack = self.stacks[res.stack]
        return stack.resolve(stack.resources[res.logical_id].get("Properties", {}))

    def type_of(self, res: Res) -> str:
        return self.stacks[res.stack].resources[res.logical_id]["Type"]

    def raw(self, res: Res) -> dict[str, Any]:
        return self.stacks[res.stack].resources[res.logical_id]

    def functions(self) -> list[Function]:
        return [
            Function(self, res, self.props(res))
            for res, _ in self.resources("AWS::Serverless::Function")
        ]

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
                by_role.setdefault(role, []).extend(
                    statements_of(props["PolicyDocument"], str(res))
                )
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
