"""The facts of units of generated code (see facts.py), read with libcst's scope metadata.

What a unit binds in the module's namespace (libcst's ``ScopeProvider`` follows ``global``
statements and leaves out comprehension and class scopes), what those imports bind (their
qualified names), every module it imports, the ``<runner>.node(...)`` calls it makes, and
the shape of a ``run()`` it defines.

Many units are read as one libcst module, since libcst's metadata costs much less per line
that way; each fact is traced back to its unit by line. Nothing here reads the plan.
"""

from __future__ import annotations

import ast
import bisect
import sys
import threading
from collections.abc import Iterator, Mapping, Sequence
from typing import cast

import libcst as cst
from libcst.helpers import get_full_name_for_node
from libcst.metadata import (
    Assignment,
    CodeRange,
    FunctionScope,
    GlobalScope,
    ImportAssignment,
    MetadataWrapper,
    PositionProvider,
    Scope,
    ScopeProvider,
)

from ...errors import CompilerBug
from .facts import Binding, Import, NodeCall, RunShape, TooDeep, UnitFacts

Scopes = Mapping[cst.CSTNode, Scope | None]


# Lines of units read as one libcst module: enough to spread libcst's cost per parse, few
# enough to keep the tree and its metadata small.
BATCH_LINES = 2000
# Deeply nested code (a thousand unary operators) that CPython compiles exceeds the default
# recursion limit in libcst's visitors; such a batch is read again in a thread with room.
_DEEP_RECURSION_LIMIT = 100_000
_DEEP_STACK_BYTES = 512 * 1024 * 1024


def read_units(texts: Sequence[str]) -> list[UnitFacts]:
    """The facts of each unit (each a complete source text ending in a newline)."""
    elided = [elide_bodies(text) for text in texts]
    facts: list[UnitFacts] = []
    for batch in _batches(elided):
        try:
            facts += _read_batch(batch)
        except TooDeep as exc:  # name the unit as it was given
            raise TooDeep(texts[elided.index(exc.text)]) from None
    return facts


def elide_bodies(text: str) -> str:
    """``text`` with the body of each top-level function but ``run`` made ``...`` and blank
    lines, where the body cannot change what the unit's facts say.

    Only a ``global`` statement lets a function bind a module-level name, and only an
    ``import`` statement imports, so a body with neither word anywhere in its text adds
    nothing but cost (libcst's metadata costs about a millisecond a line): the node's code,
    most of a module. Line numbers stay as they were.
    """
    if "def " not in text or "\r" in text:
        return text
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return text  # libcst says what is wrong
    lines = text.split("\n")
    for statement in tree.body:
        if not isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef)) or statement.name == "run":
            continue
        first, last = statement.body[0].lineno, statement.end_lineno or statement.lineno
        line = lines[first - 1]
        indent = len(line) - len(line.lstrip(" \t"))
        if statement.body[0].col_offset != indent or indent <= statement.col_offset:
            continue  # the body starts on the line of `def`
        body = lines[first - 1 : last]
        if any("import" in part or "global" in part for part in body):
            continue
        lines[first - 1 : last] = [line[:indent] + "...", *([""] * (last - first))]
    return "\n".join(lines)


def _batches(texts: Sequence[str]) -> Iterator[list[str]]:
    batch: list[str] = []
    lines = 0
    for text in texts:
        if batch and lines + text.count("\n") > BATCH_LINES:
            yield batch
            batch, lines = [], 0
        batch.append(text)
        lines += text.count("\n")
    if batch:
        yield batch


def _read_batch(texts: list[str]) -> list[UnitFacts]:
    try:
        return _Reader(texts).facts()
    except cst.ParserSyntaxError:
        if len(texts) > 1:  # find the unit libcst cannot read
            return [facts for text in texts for facts in _read_batch([text])]
        raise _unreadable(texts[0]) from None
    except Exception:  # nesting too deep for the recursion limit, which libcst may
        # report as another error raised while it unwinds (a KeyError of its position provider)
        try:
            return _in_deep_thread(texts)
        except TooDeep:
            if len(texts) > 1:  # find the unit libcst cannot read
                return [facts for text in texts for facts in _read_batch([text])]
            raise


def _in_deep_thread(texts: list[str]) -> list[UnitFacts]:
    """Reads the units in a thread with a large stack, under a higher recursion limit."""
    outcome: list[list[UnitFacts] | BaseException] = []

    def work() -> None:
        try:
            outcome.append(_Reader(texts).facts())
        except BaseException as exc:  # handed to the calling thread
            outcome.append(exc)

    old_limit = sys.getrecursionlimit()
    old_stack = threading.stack_size(_DEEP_STACK_BYTES)
    try:
        sys.setrecursionlimit(max(old_limit, _DEEP_RECURSION_LIMIT))
        thread = threading.Thread(target=work, name="kailash-validate")
        thread.start()
    finally:
        threading.stack_size(old_stack)
    thread.join()
    sys.setrecursionlimit(old_limit)
    result = outcome[0]
    if isinstance(result, cst.ParserSyntaxError):
        raise _unreadable("".join(texts)) from None
    if _recursion(result):
        raise TooDeep("".join(texts)) from None
    if isinstance(result, BaseException):
        raise CompilerBug(f"libcst cannot read the generated code ({result!r}):\n{''.join(texts)}") from result
    return result


def _recursion(outcome: object) -> bool:
    """Whether ``outcome`` is a RecursionError, or an error raised while one unwound."""
    seen = 0
    while isinstance(outcome, BaseException) and seen < 100:
        if isinstance(outcome, RecursionError):
            return True
        outcome, seen = outcome.__context__, seen + 1
    return False


def _unreadable(text: str) -> CompilerBug:
    return CompilerBug(f"libcst cannot parse the generated code; this is a kailash-compile bug:\n{text}")


class _Reader:
    """The facts of units read as one module."""

    def __init__(self, texts: list[str]) -> None:
        self.starts: list[int] = []
        line = 1
        for text in texts:
            self.starts.append(line)
            line += text.count("\n")
        wrapper = MetadataWrapper(cst.parse_module("".join(texts)), unsafe_skip_copy=True)
        metadata = wrapper.resolve_many([ScopeProvider, PositionProvider])
        self.module = wrapper.module
        self.scopes = cast(Scopes, metadata[ScopeProvider])
        self.positions = cast(Mapping[cst.CSTNode, CodeRange], metadata[PositionProvider])
        scope = self.scopes[self.module]
        assert isinstance(scope, GlobalScope)
        self.global_scope = scope
        self.units = [_UnitCollector(i, ".node" in text) for i, text in enumerate(texts)]

    def facts(self) -> list[UnitFacts]:
        self._bindings()
        self.module.visit(_Visitor(self))
        for statement in self.module.body:
            if isinstance(statement, cst.FunctionDef) and statement.name.value == "run":
                self._run(statement)
        return [unit.facts() for unit in self.units]

    def line(self, node: cst.CSTNode) -> int:
        return self.positions[node].start.line

    def unit(self, line: int) -> tuple[_UnitCollector, int]:
        """The unit holding a line of the batch, and the line's number in the unit."""
        index = bisect.bisect_right(self.starts, line) - 1
        return self.units[index], line - self.starts[index] + 1

    def _bindings(self) -> None:
        top = _top_level_nodes(self.module)
        for assignment in self.global_scope.assignments:
            # `import a.b` binds `a`; libcst also lists `a.b`
            if not isinstance(assignment, Assignment) or "." in assignment.name:
                continue
            node = assignment.node
            where = node.name if isinstance(node, (cst.FunctionDef, cst.ClassDef)) else node
            unit, line = self.unit(self.line(where))
            unit.bindings.append(
                Binding(
                    name=assignment.name,
                    line=line,
                    form=_form(assignment),
                    top=id(node) in top,
                    via_global=self.scopes.get(node) is not self.global_scope,
                    target=_import_target(assignment),
                )
            )

    def _run(self, function: cst.FunctionDef) -> None:
        scope = self._own_scope(function)
        unit, line = self.unit(self.line(function.name))
        runner = _runner(function, scope) if scope is not None else None
        assignments = [a for a in scope.assignments if isinstance(a, Assignment)] if scope is not None else []
        locals_ = [(a.name, self.unit(self.line(_where(a)))[1]) for a in assignments]
        collected = unit.function_calls.pop(id(scope), []) if scope is not None else []
        unit.runs.append(
            RunShape(
                line=line,
                asynchronous=function.asynchronous is not None,
                runner=runner,
                locals=tuple(sorted(locals_)),
                declared_global=tuple(sorted(unit.function_globals.pop(id(scope), set()))),
                calls=tuple(collected),
            )
        )

    def _own_scope(self, function: cst.FunctionDef) -> FunctionScope | None:
        body = function.body
        inner = body.body[0] if isinstance(body, cst.IndentedBlock) and body.body else body
        scope = self.scopes.get(inner)
        return scope if isinstance(scope, FunctionScope) and scope.node is function else None


class _UnitCollector:
    def __init__(self, index: int, calls_wanted: bool) -> None:
        self.index = index
        self.calls_wanted = calls_wanted  # whether the unit may call `<name>.node(...)`
        self.bindings: list[Binding] = []
        self.imports: list[Import] = []
        self.calls: list[NodeCall] = []
        self.declared_global: set[str] = set()
        self.runs: list[RunShape] = []
        # by function scope (its id): what run() makes and declares, once _run collects it
        self.function_calls: dict[int, list[NodeCall]] = {}
        self.function_globals: dict[int, set[str]] = {}

    def facts(self) -> UnitFacts:
        return UnitFacts(
            bindings=tuple(sorted(self.bindings, key=_binding_order)),
            imports=tuple(self.imports),
            calls=tuple(self.calls),
            declared_global=tuple(sorted(self.declared_global)),
            runs=tuple(self.runs),
        )


class _Visitor(cst.CSTVisitor):
    """Imports, ``global`` statements and ``<name>.node(...)`` calls, each filed under its unit.

    Imports and ``global`` are statements, so the expressions of a simple statement are only
    visited in a unit that may make calls (a piece of run()): the rest is a good part of the cost.
    """

    def __init__(self, reader: _Reader) -> None:
        super().__init__()
        self.reader = reader

    def visit_SimpleStatementLine(self, node: cst.SimpleStatementLine) -> bool:
        return self._statements(node.body)

    def visit_SimpleStatementSuite(self, node: cst.SimpleStatementSuite) -> bool:
        return self._statements(node.body)

    def _statements(self, statements: Sequence[cst.BaseSmallStatement]) -> bool:
        unit = None
        for statement in statements:
            if isinstance(statement, (cst.Import, cst.ImportFrom, cst.Global)):
                unit, line = self.reader.unit(self.reader.line(statement))
                if isinstance(statement, cst.Import):
                    unit.imports += [Import(get_full_name_for_node(a.name) or "", line) for a in statement.names]
                elif isinstance(statement, cst.ImportFrom):
                    module = get_full_name_for_node(statement.module) if statement.module is not None else ""
                    unit.imports.append(Import("." * len(statement.relative) + (module or ""), line))
                else:
                    self._global(unit, statement)
        if unit is None and statements:
            unit, _ = self.reader.unit(self.reader.line(statements[0]))
        return unit is not None and unit.calls_wanted

    def _global(self, unit: _UnitCollector, node: cst.Global) -> None:
        names = {item.name.value for item in node.names}
        unit.declared_global |= names
        scope = self.reader.scopes.get(node)
        if isinstance(scope, FunctionScope):
            unit.function_globals.setdefault(id(scope), set()).update(names)

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if not (isinstance(func, cst.Attribute) and isinstance(func.value, cst.Name) and func.attr.value == "node"):
            return
        scope = self.reader.scopes.get(func.value)
        unit, line = self.reader.unit(self.reader.line(node))
        call = NodeCall(func.value.value, _node_id(node), _function_name(node, scope, self.reader.scopes), line)
        if scope is self.reader.global_scope:
            unit.calls.append(call)
        elif isinstance(scope, FunctionScope):
            unit.function_calls.setdefault(id(scope), []).append(call)


def _binding_order(b: Binding) -> tuple[int, str, str, bool, bool, str]:
    """Bindings in the order of the code, whatever order libcst keeps them in."""
    return (b.line, b.name, b.form, b.top, b.via_global, b.target)


def _positional(call: cst.Call, index: int) -> cst.BaseExpression | None:
    positional = [arg for arg in call.args if arg.keyword is None and not arg.star]
    return positional[index].value if len(positional) > index else None


def _node_id(call: cst.Call) -> str | None:
    value = _positional(call, 0)
    if isinstance(value, (cst.SimpleString, cst.ConcatenatedString)):
        evaluated = value.evaluated_value
        return evaluated if isinstance(evaluated, str) else None
    return None


def _function_name(call: cst.Call, scope: Scope | None, scopes: Scopes) -> str | None:
    value = _positional(call, 1)
    if isinstance(value, cst.Name) and scopes.get(value) is scope:
        return value.value
    return None


def _runner(function: cst.FunctionDef, scope: FunctionScope) -> str | None:
    """``<runner>`` of the first ``with rt.Run(...) as <runner>:`` directly in the body, where
    ``rt`` is the module's (run() binds no ``rt`` of its own)."""
    if "rt" in scope.assignments:
        return None
    body = function.body
    statements = body.body if isinstance(body, cst.IndentedBlock) else ()
    for statement in statements:
        if not isinstance(statement, cst.With):
            continue
        for item in statement.items:
            call = item.item
            if (
                isinstance(call, cst.Call)
                and isinstance(call.func, cst.Attribute)
                and isinstance(call.func.value, cst.Name)
                and call.func.value.value == "rt"
                and call.func.attr.value == "Run"
                and item.asname is not None
                and isinstance(item.asname.name, cst.Name)
            ):
                return item.asname.name.value
    return None


def _where(assignment: Assignment) -> cst.CSTNode:
    node = assignment.node
    return node.name if isinstance(node, (cst.FunctionDef, cst.ClassDef)) else node


def _form(assignment: Assignment) -> str:
    node = assignment.node
    if isinstance(assignment, ImportAssignment):
        return "import"
    if isinstance(node, cst.FunctionDef):
        return "async def" if node.asynchronous is not None else "def"
    if isinstance(node, cst.ClassDef):
        return "class"
    return "assignment"


def _import_target(assignment: Assignment) -> str:
    if not isinstance(assignment, ImportAssignment):
        return ""
    names = sorted(q.name for q in assignment.get_qualified_names_for(assignment.name))
    return names[0] if names else ""


def _top_level_nodes(module: cst.Module) -> set[int]:
    """Ids of the nodes libcst names as the assignment of a binding made by a statement of the
    module body itself: definitions, imports, and the plain names assigned."""
    found: set[int] = set()
    for statement in module.body:
        if isinstance(statement, (cst.FunctionDef, cst.ClassDef)):
            found.add(id(statement))
        elif isinstance(statement, cst.SimpleStatementLine):
            for small in statement.body:
                if isinstance(small, (cst.Import, cst.ImportFrom)):
                    found.add(id(small))
                elif isinstance(small, cst.Assign):
                    for target in small.targets:
                        found |= _target_names(target.target)
                elif isinstance(small, (cst.AnnAssign, cst.AugAssign)):
                    found |= _target_names(small.target)
    return found


def _target_names(target: cst.BaseExpression) -> set[int]:
    if isinstance(target, cst.Name):
        return {id(target)}
    if isinstance(target, (cst.Tuple, cst.List)):
        return {i for element in target.elements for i in _target_names(element.value)}
    return set()
