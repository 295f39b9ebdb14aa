"""Facts (see facts.py) as JSON for the disk cache, and back.

Each fact is a list of its fields in order, which keeps entries small and quick to read.
Reading checks every value's type: an entry that is not facts of this format raises
``ValueError``, ``TypeError``, ``KeyError`` or ``IndexError``, and the cache reads the code again.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, TypeVar

from .facts import REBINDING, REGISTRATION, Binding, ChunkFacts, Import, NodeCall, Problem, RunShape, UnitFacts

T = TypeVar("T")
_RULES = (REGISTRATION, REBINDING)


def encode_unit(facts: UnitFacts) -> str:
    return json.dumps(
        {
            "bindings": [_binding(b) for b in facts.bindings],
            "imports": [[i.module, i.line] for i in facts.imports],
            "calls": [_call(c) for c in facts.calls],
            "declared_global": list(facts.declared_global),
            "runs": [_run(r) for r in facts.runs],
        },
        separators=(",", ":"),
    )


def encode_chunk(facts: ChunkFacts) -> str:
    return json.dumps(
        {
            "bindings": [_binding(b) for b in facts.bindings],
            "imports": [[i.module, i.line] for i in facts.imports],
            "registrations": [_call(c) for c in facts.registrations],
            "problems": [[p.rule, p.line, p.message, p.hint] for p in facts.problems],
            "anchor": facts.anchor,
            "body": list(facts.body),
        },
        separators=(",", ":"),
    )


def decode_unit(text: str) -> UnitFacts:
    data = json.loads(text)
    return UnitFacts(
        bindings=_each(data["bindings"], _read_binding),
        imports=_each(data["imports"], _read_import),
        calls=_each(data["calls"], _read_call),
        declared_global=_each(data["declared_global"], _str),
        runs=_each(data["runs"], _read_run),
    )


def decode_chunk(text: str) -> ChunkFacts:
    data = json.loads(text)
    first, last = _fields(data["body"], 2)
    return ChunkFacts(
        bindings=_each(data["bindings"], _read_binding),
        imports=_each(data["imports"], _read_import),
        registrations=_each(data["registrations"], _read_call),
        problems=_each(data["problems"], _read_problem),
        anchor=_int(data["anchor"]),
        body=(_int(first, minimum=0), _int(last, minimum=-1)),
    )


def _binding(b: Binding) -> list[Any]:
    return [b.name, b.line, b.form, b.top, b.via_global, b.target]


def _call(c: NodeCall) -> list[Any]:
    return [c.receiver, c.node_id, c.function, c.line]


def _run(r: RunShape) -> list[Any]:
    locals_ = [list(pair) for pair in r.locals]
    return [r.line, r.asynchronous, r.runner, locals_, list(r.declared_global), [_call(c) for c in r.calls]]


def _read_binding(value: Any) -> Binding:
    name, line, form, top, via_global, target = _fields(value, 6)
    return Binding(_str(name), _int(line), _str(form), _bool(top), _bool(via_global), _str(target))


def _read_import(value: Any) -> Import:
    module, line = _fields(value, 2)
    return Import(_str(module), _int(line))


def _read_call(value: Any) -> NodeCall:
    receiver, node_id, function, line = _fields(value, 4)
    return NodeCall(_str(receiver), _optional_str(node_id), _optional_str(function), _int(line))


def _read_run(value: Any) -> RunShape:
    line, asynchronous, runner, locals_, declared_global, calls = _fields(value, 6)
    return RunShape(
        line=_int(line),
        asynchronous=_bool(asynchronous),
        runner=_optional_str(runner),
        locals=_each(locals_, _read_name_and_line),
        declared_global=_each(declared_global, _str),
        calls=_each(calls, _read_call),
    )


def _read_name_and_line(value: Any) -> tuple[str, int]:
    name, line = _fields(value, 2)
    return _str(name), _int(line)


def _read_problem(value: Any) -> Problem:
    rule, line, message, hint = _fields(value, 4)
    if rule not in _RULES:
        raise ValueError("not a rule")
    return Problem(rule, _int(line), _str(message), _str(hint))


def _fields(value: Any, count: int) -> list[Any]:
    if not isinstance(value, list) or len(value) != count:
        raise TypeError(f"not a list of {count}")
    return value


def _each(value: Any, read: Callable[[Any], T]) -> tuple[T, ...]:
    if not isinstance(value, list):
        raise TypeError("not a list")
    return tuple(read(item) for item in value)


def _str(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError("not a string")
    return value


def _optional_str(value: Any) -> str | None:
    return None if value is None else _str(value)


def _int(value: Any, minimum: int = 1) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        raise TypeError("not a line number")
    return value


def _bool(value: Any) -> bool:
    if not isinstance(value, bool):
        raise TypeError("not a bool")
    return value
