"""Spoiled vendor answers for the malformed-answer checks: a body cut off, a key left out, a value
of the wrong type. The kit records the answers of a good call (``Recorder``), then replays the
call once per ``Mutation`` with a ``Mutator`` as ``VendorCall.spoil``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

#: At most this many mutations per operation (spread over every answer's keys).
MAX_MUTATIONS = 240
#: In a list of objects, keys are left out of the first few elements only, and each of the first
#: few elements is left out in turn.
LIST_ELEMENTS = 6

Path = tuple[str | int, ...]


def render_path(path: Path) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text or "the whole body"


@dataclass(frozen=True, slots=True)
class Mutation:
    """One spoiled answer: the ``index``-th answer of the call, ``kind`` ``cut off`` /
    ``without`` / ``wrong type``, at ``path`` (keys and list indexes)."""

    index: int
    kind: str
    path: Path = ()

    def describe(self) -> str:
        if self.kind == "cut off":
            return "cut off half-way"
        where = render_path(self.path)
        if self.kind == "without":
            return f"without {where}"
        return f"with {where} of the wrong type"

    def apply(self, body: bytes) -> bytes:
        if self.kind == "cut off":
            return body[: max(1, len(body) // 2)]
        document = json.loads(body)
        if self.kind == "without":
            *parents, last = self.path
            container = _at(document, tuple(parents))
            del container[last]
        else:
            if not self.path:
                return json.dumps(_wrong_type(document)).encode()
            *parents, last = self.path
            container = _at(document, tuple(parents))
            container[last] = _wrong_type(container[last])
        return json.dumps(document).encode()


def _at(document: Any, path: Path) -> Any:
    for part in path:
        document = document[part]
    return document


def _wrong_type(value: Any) -> Any:
    if isinstance(value, bool):
        return "not-a-boolean"
    if isinstance(value, int | float):
        return "not-a-number"
    if isinstance(value, str):
        return 12345
    if isinstance(value, dict):
        return ["not", "an", "object"]
    if isinstance(value, list):
        return {"not": "a list"}
    return {"unexpected": True}  # null


class Recorder:
    """``VendorCall.spoil`` that changes nothing and keeps every answer (body, label)."""

    def __init__(self) -> None:
        self.answers: list[tuple[bytes, str]] = []

    def __call__(self, body: bytes, label: str = "") -> bytes:
        self.answers.append((body, label))
        return body


class Mutator:
    """``VendorCall.spoil`` that applies ``mutation`` to its answer and keeps the others."""

    def __init__(self, mutation: Mutation) -> None:
        self.mutation = mutation
        self.seen = 0
        self.label = ""
        self.spoiled: bytes | None = None

    def __call__(self, body: bytes, label: str = "") -> bytes:
        index, self.seen = self.seen, self.seen + 1
        if index != self.mutation.index:
            return body
        self.label = label
        try:
            self.spoiled = self.mutation.apply(body)
        except (ValueError, KeyError, IndexError, TypeError):  # another answer than recorded
            self.spoiled = body
        return self.spoiled


def mutations(answers: list[bytes], limit: int = MAX_MUTATIONS) -> list[Mutation]:
    """The mutations of a call's answers: each non-empty body cut off, and for JSON bodies each
    key left out and each value given the wrong type (the whole body too), spread evenly when
    there are more than ``limit``."""
    found: list[Mutation] = []
    for index, body in enumerate(answers):
        if not body.strip():
            continue
        found.append(Mutation(index, "cut off"))
        try:
            document = json.loads(body)
        except ValueError:
            continue
        found.append(Mutation(index, "wrong type"))
        for path, removable in _paths(document):
            if removable:
                found.append(Mutation(index, "without", path))
            found.append(Mutation(index, "wrong type", path))
    if len(found) <= limit:
        return found
    step = len(found) / limit
    return [found[int(i * step)] for i in range(limit)]


def _paths(document: Any, prefix: Path = ()) -> Iterator[tuple[Path, bool]]:
    """Every key path under ``document`` (breadth first), and whether it can be left out (a
    key, or an object in a list)."""
    queue: list[tuple[Path, Any]] = [(prefix, document)]
    while queue:
        path, node = queue.pop(0)
        if isinstance(node, dict):
            for key, value in node.items():
                yield (*path, key), True
                queue.append(((*path, key), value))
        elif isinstance(node, list):
            for position, value in enumerate(node[:LIST_ELEMENTS]):
                if isinstance(value, dict | list):
                    yield (*path, position), isinstance(value, dict)
                    queue.append(((*path, position), value))
