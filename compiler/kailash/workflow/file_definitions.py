"""Names a workflow file binds at its top level that its code blocks read.

A code block runs in the compiled module, not in the workflow file, so a helper function,
class, constant or import of the file that a block reads must come along: each one becomes a
``DefinitionIR`` holding the statement to copy (an import as one import line) and the other
definitions it reads, found by reading the file's source (not by running it). A definition
that cannot be copied keeps why: a name the file binds more than once or inside a block, a
relative import, anything from the ``kailash`` compiler package (the builder itself, say), a
name the statement reads that the file does not define, or a secret written in its source.
The compiler then refuses a code block that reads it, naming the definition and its line.
"""

from __future__ import annotations

import ast
import builtins
import tokenize
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from .. import codeblock
from ..analysis.exception_imports import is_workflow_file_name, retry_exception_names
from ..analysis.names import AUTO_IMPORT_MODULES
from ..ir import ConnectionIR, DefinitionIR, Location, NodeIR
from ..module_reads import module_names_read
from ..resources.factories import secret_literals
from ..settings import ParallelFetchSettings, TimeoutPrimarySettings, settings_of

# Names every module has: a copied definition may read them.
_MODULE_DUNDERS = frozenset({"__name__", "__doc__", "__file__", "__spec__", "__loader__", "__package__"})
_COMPILER_PACKAGE = "kailash"


def node_code_blocks(node: NodeIR) -> list[str]:
    """Every code block of a node: its code, a parallel fetch's operations, a timeout's fallback code."""
    blocks = [node.code] if node.code else []
    if node.kind == "parallel_fetch":
        blocks += settings_of(node, ParallelFetchSettings).operations.values()
    elif node.kind == "timeout_primary":
        blocks.append(settings_of(node, TimeoutPrimarySettings).fallback_code)
    return [block for block in blocks if block]


# Names a code block reads that bind before a workflow file's definitions would.
_BOUND_FIRST = frozenset(dir(builtins)) | AUTO_IMPORT_MODULES | {"get_resource"}

# Settings naming the entry node of a node's pattern, whose connections also bind its code's names.
_ENTRY_SETTINGS = ("check_id", "scatter_id")


def workflow_definitions(
    nodes: Iterable[NodeIR], connections: Iterable[ConnectionIR], files: dict[str, str]
) -> tuple[DefinitionIR, ...]:
    """The definitions of the workflow files (``files``: shown path -> path to read) that the
    nodes' code blocks read and no connection gives, and the exception classes their retries
    name bare (``retry_on=[Flaky]`` for a class the file defines), with every definition they read in turn;
    sorted by file and line."""
    connected: dict[str, set[str]] = {}
    for connection in connections:
        connected.setdefault(connection.to_node, set()).add(connection.to_input)
    wanted: dict[str, set[str]] = {}
    for node in nodes:
        names = wanted.setdefault(node.location.file, set())
        given = set(connected.get(node.node_id, ()))  # and _BOUND_FIRST, not copied for every node
        for setting in _ENTRY_SETTINGS:
            entry = node.settings.get(setting)
            given |= connected.get(entry, set()) if isinstance(entry, str) else set()
        names.update(name for name in retry_exception_names(node) if is_workflow_file_name(name))
        for block in node_code_blocks(node):
            try:
                names.update(
                    name for name in codeblock.free_names(block) if name not in given and name not in _BOUND_FIRST
                )
            except (SyntaxError, ValueError, codeblock.CodeSyntaxError):
                continue
    found: list[DefinitionIR] = []
    for shown, names in sorted(wanted.items()):
        path = files.get(shown)
        if path is None or not names:
            continue
        bindings = _file_bindings(path)
        if bindings is None:
            continue
        found += _Resolver(shown, bindings).resolve_all(sorted(names))
    return tuple(sorted(found, key=lambda d: (d.location.file, d.location.line, d.name)))


@dataclass(frozen=True)
class _Binding:
    kind: str  # function, class, constant, import, other
    line: int
    source: str  # the statement's text (an import: the one line binding this name)
    reads: tuple[str, ...]  # the names it reads at module level, in order
    problem: str | None = None


def _file_bindings(path: str) -> dict[str, list[_Binding]] | None:
    try:
        stat = Path(path).stat()
    except OSError:
        return None
    return _bindings_of(path, stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=64)
def _bindings_of(path: str, mtime_ns: int, size: int) -> dict[str, list[_Binding]] | None:
    """Each name the file binds at its top level, with every statement that binds it."""
    try:
        with tokenize.open(path) as file:
            text = file.read()
        tree = ast.parse(text)
    except (OSError, SyntaxError, ValueError, UnicodeDecodeError):
        return None
    lines = text.splitlines(keepends=True)
    found: dict[str, list[_Binding]] = {}
    for statement in tree.body:
        for name, binding in _statement_bindings(statement, lines):
            found.setdefault(name, []).append(binding)
    return found


def _statement_bindings(statement: ast.stmt, lines: list[str]) -> Iterator[tuple[str, _Binding]]:
    if isinstance(statement, (ast.Import, ast.ImportFrom)):
        for alias in statement.names:
            if alias.name != "*":
                yield _import_binding(statement, alias)
        return
    first = min([statement.lineno, *(d.lineno for d in getattr(statement, "decorator_list", []))])
    source = "".join(lines[first - 1 : statement.end_lineno]).rstrip() + "\n"
    if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        kind = "class" if isinstance(statement, ast.ClassDef) else "function"
        yield statement.name, _Binding(kind, statement.lineno, source, _reads(source, {statement.name}))
        return
    if isinstance(statement, (ast.Assign, ast.AnnAssign)) and (
        not isinstance(statement, ast.AnnAssign) or statement.value is not None
    ):
        targets = statement.targets if isinstance(statement, ast.Assign) else [statement.target]
        names = [
            n.id
            for target in targets
            for n in ast.walk(target)
            if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)
        ]
        binding = _Binding("constant", statement.lineno, source, _reads(source, set(names)))
        for name in dict.fromkeys(names):
            yield name, binding
        if names:
            return
    what = _STATEMENT_WORDS.get(type(statement), type(statement).__name__.lower())
    for name in _names_bound_in(statement):
        yield name, _Binding("other", statement.lineno, "", (), f"it is bound by a top-level {what}")
    for name in _names_changed_by(statement):
        yield name, _Binding("change", statement.lineno, "", (), "")


_STATEMENT_WORDS: dict[type, str] = {
    ast.AugAssign: "augmented assignment",
    ast.AnnAssign: "annotation without a value",
    ast.If: "`if` statement",
    ast.For: "`for` loop",
    ast.AsyncFor: "`async for` loop",
    ast.While: "`while` loop",
    ast.With: "`with` statement",
    ast.AsyncWith: "`async with` statement",
    ast.Try: "`try` statement",
    ast.Match: "`match` statement",
    ast.Delete: "`del` statement",
    ast.Expr: "expression (an assignment expression)",
}


def _names_changed_by(statement: ast.stmt) -> list[str]:
    """Names whose value a top-level statement changes in place: ``X[k] = v``, ``X.a = v``,
    ``del X[k]``, ``X.append(v)``: a copy of X's definition would not hold the change."""
    targets: list[ast.expr] = []
    if isinstance(statement, (ast.Assign, ast.Delete)):
        targets = list(statement.targets)
    elif isinstance(statement, (ast.AugAssign, ast.AnnAssign)):
        targets = [statement.target]
    elif (
        isinstance(statement, ast.Expr)
        and isinstance(statement.value, ast.Call)
        and isinstance(statement.value.func, ast.Attribute)
    ):
        targets = [statement.value.func]
    names = []
    for target in targets:
        while isinstance(target, (ast.Attribute, ast.Subscript)):
            target = target.value
            if isinstance(target, ast.Name):
                names.append(target.id)
    return names


def _import_binding(statement: ast.Import | ast.ImportFrom, alias: ast.alias) -> tuple[str, _Binding]:
    line = statement.lineno
    if isinstance(statement, ast.Import):
        bound = alias.asname or alias.name.split(".")[0]
        module = alias.name
        source = f"import {alias.name}" + (f" as {alias.asname}" if alias.asname else "")
    else:
        bound = alias.asname or alias.name
        module = statement.module or ""
        if statement.level:
            problem = "it is a relative import, which a compiled module elsewhere cannot make"
            return bound, _Binding("import", line, "", (), problem)
        source = f"from {module} import {alias.name}" + (f" as {alias.asname}" if alias.asname else "")
    if module.split(".")[0] == _COMPILER_PACKAGE:
        problem = f"it comes from the {_COMPILER_PACKAGE} compiler package, which a compiled module does not import"
        return bound, _Binding("import", line, "", (), problem)
    return bound, _Binding("import", line, source + "\n", ())


def _names_bound_in(statement: ast.stmt) -> list[str]:
    """Names a compound statement (if, for, with, try, ...) binds at module level."""
    names: list[str] = []
    stack: list[ast.AST] = [statement]
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.append(node.name)
            stack.extend(getattr(node, "decorator_list", []))
            continue
        if isinstance(node, (ast.Lambda, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)):
            continue
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            names += [a.asname or a.name.split(".")[0] for a in node.names if a.name != "*"]
        elif isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            names.append(node.id)
        elif (isinstance(node, ast.ExceptHandler) and node.name) or (
            isinstance(node, (ast.MatchAs, ast.MatchStar)) and node.name
        ):
            names.append(node.name)
        elif isinstance(node, ast.MatchMapping) and node.rest:
            names.append(node.rest)
        stack.extend(ast.iter_child_nodes(node))
    return list(dict.fromkeys(names))


def _reads(source: str, own: set[str]) -> tuple[str, ...]:
    """Module-level names a top-level statement reads (its own body's globals included)."""
    return tuple(module_names_read(source, own, nested_too=True))


class _Resolver:
    """Definitions of one file by name, each with what it reads, resolved once."""

    def __init__(self, shown: str, bindings: dict[str, list[_Binding]]) -> None:
        self.shown = shown
        self.bindings = bindings
        self.done: dict[str, DefinitionIR] = {}
        self.resolving: set[str] = set()

    def resolve_all(self, names: list[str]) -> list[DefinitionIR]:
        for name in names:
            if name in self.bindings:
                self.resolve(name)
        return list(self.done.values())

    def resolve(self, name: str) -> DefinitionIR | None:
        """The definition of ``name``; None while it is being resolved (a recursion of definitions)."""
        if name in self.done:
            return self.done[name]
        if name in self.resolving:
            return None
        self.resolving.add(name)
        try:
            definition = self._definition(name)
        finally:
            self.resolving.discard(name)
        self.done[name] = definition
        return definition

    def _definition(self, name: str) -> DefinitionIR:
        every = self.bindings[name]
        found = [b for b in every if b.kind != "change"]
        changes = [b for b in every if b.kind == "change"]
        if not found:  # only changed in place: bound by something this reading cannot see (a star import)
            problem = "the workflow file changes it in place but binds it where it cannot be read (a star import?)"
            return DefinitionIR(name, "other", Location(self.shown, changes[0].line), problem=problem)
        first = found[0]
        location = Location(self.shown, first.line)
        if len(found) > 1:
            lines = ", ".join(str(b.line) for b in found)
            problem = f"the workflow file binds it {len(found)} times at its top level (lines {lines})"
            return DefinitionIR(name, first.kind, location, problem=problem)
        if first.problem is not None:
            return DefinitionIR(name, first.kind, location, problem=first.problem)
        reads: list[str] = []
        for read in first.reads:
            if read in self.bindings:
                needed = self.resolve(read)
                if needed is not None and needed.problem is not None:
                    why = f"it reads {read!r} (line {needed.location.line}), which cannot be copied: {needed.problem}"
                    return DefinitionIR(name, first.kind, location, problem=why)
                reads.append(read)
            elif not hasattr(builtins, read) and read not in _MODULE_DUNDERS:
                problem = f"it reads {read!r}, which the workflow file does not define at its top level"
                return DefinitionIR(name, first.kind, location, problem=problem)
        secret = next(secret_literals(first.source), None)
        if secret is not None:
            label, line = secret
            problem = f"{label} (line {first.line + line - 1}) is a secret, which a compiled module must not contain"
            return DefinitionIR(name, first.kind, location, problem=problem)
        if changes and first.kind in ("constant", "class"):
            lines = ", ".join(str(b.line) for b in changes)
            problem = f"the workflow file changes it after its definition (line {lines}), which a copy would not hold"
            return DefinitionIR(name, first.kind, location, problem=problem)
        return DefinitionIR(name, first.kind, location, first.source, tuple(reads))
