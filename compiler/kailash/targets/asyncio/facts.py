"""What the validator knows of generated code: what each piece binds, imports and registers.

A *unit* is a piece of generated source that parses on its own: a chunk of the module (its
header, one node) or a piece of ``run()`` (see chunk_facts.py). Its facts (``UnitFacts``,
read with the standard library's ast by read_facts.py) depend on its text alone, so they are cached by text.
A chunk's facts (``ChunkFacts``) are what validate.py compares with the plan.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

# Rules a chunk can break whatever the plan says (validate.py checks the rest).
REGISTRATION = "registration"
REBINDING = "rebinding"


@dataclass(frozen=True)
class Binding:
    """A name bound in the module's namespace."""

    name: str
    line: int
    form: str  # "async def", "def", "class", "import" or "assignment"
    top: bool  # by a statement of the module body itself, not nested in a block or a function
    via_global: bool  # inside a function, under a `global` statement
    target: str = ""  # for an import: the qualified name it binds ("kailash_rt", "typing.Any")


@dataclass(frozen=True)
class Import:
    module: str  # dotted; a relative import starts with its dots
    line: int


@dataclass(frozen=True)
class NodeCall:
    """``<receiver>.node(<node id>, <function>, ...)``."""

    receiver: str
    node_id: str | None  # None: the first argument is not a string literal
    function: str | None  # None: the second argument is not a plain name read in the call's scope
    line: int


@dataclass(frozen=True)
class RunShape:
    """A top-level ``def run`` of the unit."""

    line: int
    asynchronous: bool
    runner: str | None  # `async with rt.Run(...) as <runner>` directly in its body; None: no such block
    locals: tuple[tuple[str, int], ...]  # the names run() binds in its own scope, with their lines
    declared_global: tuple[str, ...]  # names of its `global` statements
    calls: tuple[NodeCall, ...]  # made in run()'s own scope


@dataclass(frozen=True)
class UnitFacts:
    bindings: tuple[Binding, ...]  # in the unit's global scope
    imports: tuple[Import, ...]
    calls: tuple[NodeCall, ...]  # made in the unit's global scope
    declared_global: tuple[str, ...]  # names of every `global` statement of the unit
    runs: tuple[RunShape, ...] = ()


@dataclass(frozen=True)
class Problem:
    """A rule a chunk breaks by itself."""

    rule: str
    line: int
    message: str
    hint: str


@dataclass(frozen=True)
class ChunkFacts:
    bindings: tuple[Binding, ...]  # of names in the module's namespace
    imports: tuple[Import, ...]
    registrations: tuple[NodeCall, ...] = ()  # run(): the calls of `<runner>.node(...)`
    problems: tuple[Problem, ...] = ()
    anchor: int = 1  # the line to show for what is missing from the chunk
    body: tuple[int, int] = (0, -1)  # run(): the first and last line of its runner block's body


class TooDeep(Exception):
    """Code nested deeper than CPython's parser goes (its limits on brackets, indentation and
    the depth of the tree it builds): ``text`` is the unit."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text


def is_runner(item: ast.withitem) -> bool:
    """Whether a ``with`` item is ``rt.Run(...) as <name>``: the block where run() registers nodes."""
    call = item.context_expr
    return (
        isinstance(call, ast.Call)
        and isinstance(call.func, ast.Attribute)
        and isinstance(call.func.value, ast.Name)
        and call.func.value.id == "rt"
        and call.func.attr == "Run"
        and isinstance(item.optional_vars, ast.Name)
    )
