"""The facts of units of generated code (see facts.py), read with the standard library's ``ast``.

What a unit binds in the module's namespace, what those imports bind (their qualified names),
every module it imports, the ``<runner>.node(...)`` calls it makes, and the shape of a
``run()`` it defines. Names are resolved as Python's scopes do: a ``global`` statement
anywhere in a function or class body sends that body's bindings of the name to the module; a
comprehension's own targets and a class body's names stay out of the module; an assignment
expression (``:=``) in a comprehension binds in the scope around the comprehension; the
targets of ``except ... as``, ``with ... as``, ``for`` and ``match`` patterns bind where they
stand. An annotation without a value (``x: int``) counts as a binding, as it makes the name
the scope's own.

Each unit is parsed on its own and walked with explicit stacks, so no depth of nesting that
CPython's parser accepts makes the reader recurse. Expressions are walked only where they
can add a fact: for ``:=`` when the text holds one, for ``.node(...)`` calls in the module's
and run()'s own scope when the text has a ``.node`` attribute; a node function's body binds
and imports by statements alone. Nothing here reads the plan.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from ...errors import CompilerBug
from .facts import Binding, Import, NodeCall, RunShape, TooDeep, UnitFacts, is_runner

# What a text must contain for its expressions to matter: `:=`, or `.node` with anything
# Python allows between the dot and the name (spaces, line breaks, continuations, comments).
# Possessive, so that a dot before a run of `#` never makes the search backtrack without end.
_WALRUS = ":="
_NODE_ATTRIBUTE = re.compile(r"\.(?:\s|\\|#[^\n]*+)*+node\b")
_IDENTIFIER = re.compile(r"[^\W\d]\w*")
# What may stand between a statement's start, or an expression's end, and the name it binds.
_PUNCTUATION = frozenset("()[]{},*|\\")
# SyntaxError messages of CPython's limits on nesting, rather than of wrong code.
_NESTING_LIMITS = ("too many nested parentheses", "too many levels of indentation", "too many statically nested")

_FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef)
_COMPREHENSIONS = (ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.DictComp)
_TYPE_ALIAS: type | None = getattr(ast, "TypeAlias", None)  # Python 3.12+


def read_units(texts: Sequence[str]) -> list[UnitFacts]:
    """The facts of each unit (each a complete source text ending in a newline)."""
    return [read_unit(text) for text in texts]


def read_unit(text: str) -> UnitFacts:
    return _Reader(text, _parse(text)).facts()


def _parse(text: str) -> ast.Module:
    """The unit's tree; TooDeep when it nests deeper than CPython's parser goes."""
    try:
        return ast.parse(text)
    except (RecursionError, MemoryError):  # the parser's or the tree's depth limit
        raise TooDeep(text) from None
    except SyntaxError as exc:
        if any(limit in str(exc.msg) for limit in _NESTING_LIMITS):
            raise TooDeep(text) from None
        raise CompilerBug(
            f"the generated code does not parse ({exc.msg}, line {exc.lineno}); this is a kailash-compile bug:\n{text}"
        ) from None
    except ValueError as exc:  # a null character
        raise CompilerBug(
            f"the generated code does not parse ({exc}); this is a kailash-compile bug:\n{text}"
        ) from None


# -- scopes --------------------------------------------------------------------------------------
_MODULE, _FUNCTION, _CLASS, _COMPREHENSION = "module", "function", "class", "comprehension"


@dataclass(eq=False)
class _Scope:
    kind: str
    parent: _Scope | None
    run: _Run | None = None  # a top-level run()'s own scope
    globals: set[str] = field(default_factory=set)
    nonlocals: set[str] = field(default_factory=set)

    def child(self, kind: str) -> _Scope:
        return _Scope(kind, self)

    def enclosing_function(self) -> _Scope | None:
        """The scope a ``nonlocal`` name of this one belongs to (class bodies are skipped)."""
        scope = self.parent
        while scope is not None and scope.kind in (_CLASS, _COMPREHENSION):
            scope = scope.parent
        return scope if scope is not None and scope.kind == _FUNCTION else None


@dataclass(eq=False)
class _Run:
    """What run()'s own scope binds, declares and calls."""

    function: ast.FunctionDef | ast.AsyncFunctionDef
    line: int
    locals: list[tuple[str, int]] = field(default_factory=list)
    declared_global: set[str] = field(default_factory=set)
    calls: list[tuple[int, int, NodeCall]] = field(default_factory=list)


@dataclass(frozen=True)
class _Pending:
    """A binding, placed in its scope once every ``global`` and ``nonlocal`` of the unit is known."""

    name: str
    line: int
    form: str
    top: bool
    scope: _Scope
    target: str = ""


class _Reader:
    def __init__(self, text: str, tree: ast.Module) -> None:
        self.lines = text.split("\n")
        self.tree = tree
        # Expressions bind only by `:=`, and only calls in the module's or run()'s own scope count.
        self.walrus = _WALRUS in text
        self.node_calls = _NODE_ATTRIBUTE.search(text) is not None
        self.module = _Scope(_MODULE, None)
        self.pending: list[_Pending] = []
        self.imports: list[tuple[int, int, int, Import]] = []
        self.calls: list[tuple[int, int, NodeCall]] = []
        self.declared_global: set[str] = set()
        self.runs: list[_Run] = []
        self.statements: list[tuple[ast.stmt, _Scope, bool]] = []  # to walk: (statement, scope, top)
        self.expression_stack: list[tuple[ast.AST, _Scope]] = []

    def facts(self) -> UnitFacts:
        self.statements = [(statement, self.module, True) for statement in reversed(self.tree.body)]
        while self.statements or self.expression_stack:
            while self.statements:
                self._statement(*self.statements.pop())
            while self.expression_stack:
                self._expression(*self.expression_stack.pop())
        bindings: list[Binding] = []
        for pending in self.pending:
            owner, via_global = _owner(pending.name, pending.scope)
            if owner is self.module:
                bindings.append(
                    Binding(pending.name, pending.line, pending.form, pending.top, via_global, pending.target)
                )
            elif owner is not None and owner.run is not None:
                owner.run.locals.append((pending.name, pending.line))
        return UnitFacts(
            bindings=tuple(sorted(bindings, key=_binding_order)),
            imports=tuple(found for *_, found in sorted(self.imports, key=lambda item: item[:3])),
            calls=_in_order(self.calls),
            declared_global=tuple(sorted(self.declared_global)),
            runs=tuple(self._run_shape(run) for run in self.runs),
        )

    # -- statements ------------------------------------------------------------------------------
    def _statement(self, node: ast.stmt, scope: _Scope, top: bool) -> None:
        if isinstance(node, _FUNCTIONS):
            self._function(node, scope, top)
        elif isinstance(node, ast.ClassDef):
            self._class(node, scope, top)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            self._import(node, scope, top)
        elif isinstance(node, ast.Global):
            scope.globals.update(node.names)
            self.declared_global.update(node.names)
            if scope.run is not None:
                scope.run.declared_global.update(node.names)
        elif isinstance(node, ast.Nonlocal):
            scope.nonlocals.update(node.names)
        else:
            self._other(node, scope, top)

    def _function(self, node: ast.FunctionDef | ast.AsyncFunctionDef, scope: _Scope, top: bool) -> None:
        line = self._name_line(node.lineno, node.col_offset, node.name, ("async", "def"))
        form = "async def" if isinstance(node, ast.AsyncFunctionDef) else "def"
        self.pending.append(_Pending(node.name, line, form, top, scope))
        arguments = node.args
        self._expressions(scope, *node.decorator_list, *arguments.defaults, *arguments.kw_defaults, node.returns)
        self._expressions(scope, *(argument.annotation for argument in _arguments(arguments)))
        own = scope.child(_FUNCTION)
        if top and node.name == "run":
            own.run = _Run(node, line)
            self.runs.append(own.run)
            for argument in _arguments(arguments):
                self.pending.append(_Pending(argument.arg, argument.lineno, "assignment", False, own))
        self.statements += [(statement, own, False) for statement in reversed(node.body)]

    def _class(self, node: ast.ClassDef, scope: _Scope, top: bool) -> None:
        line = self._name_line(node.lineno, node.col_offset, node.name, ("class",))
        self.pending.append(_Pending(node.name, line, "class", top, scope))
        self._expressions(scope, *node.decorator_list, *node.bases, *(keyword.value for keyword in node.keywords))
        own = scope.child(_CLASS)
        self.statements += [(statement, own, False) for statement in reversed(node.body)]

    def _import(self, node: ast.Import | ast.ImportFrom, scope: _Scope, top: bool) -> None:
        position = (node.lineno, node.col_offset)
        if isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
            bound = [
                (alias.asname or alias.name.split(".")[0], alias.name if alias.asname else alias.name.split(".")[0])
                for alias in node.names
            ]
        else:
            module = "." * node.level + (node.module or "")
            modules = [module]
            prefix = module if module.endswith(".") else f"{module}."
            bound = [(alias.asname or alias.name, prefix + alias.name) for alias in node.names if alias.name != "*"]
        self.imports += [(*position, index, Import(name, node.lineno)) for index, name in enumerate(modules)]
        # A name bound twice by one statement is said to import the first of its targets in order.
        targets: dict[str, str] = {}
        for name, target in bound:
            targets[name] = min(targets.get(name, target), target)
        self.pending += [_Pending(name, node.lineno, "import", top, scope, targets[name]) for name, _ in bound]

    def _other(self, node: ast.stmt, scope: _Scope, top: bool) -> None:
        """A statement that opens no scope: its targets, then what it holds."""
        if isinstance(node, ast.Assign):
            for target in node.targets:
                self._targets(target, scope, top)
        elif isinstance(node, (ast.AugAssign, ast.AnnAssign)):
            self._targets(node.target, scope, top)
        elif isinstance(node, (ast.For, ast.AsyncFor)):
            self._targets(node.target, scope, False)
        elif isinstance(node, (ast.With, ast.AsyncWith)):
            for item in node.items:
                if item.optional_vars is not None:
                    self._targets(item.optional_vars, scope, False)
        elif _TYPE_ALIAS is not None and isinstance(node, _TYPE_ALIAS):
            name = node.name  # type: ignore[attr-defined]
            self.pending.append(_Pending(name.id, node.lineno, "assignment", top, scope))
            self._expressions(scope.child(_FUNCTION), node.value)  # type: ignore[attr-defined]
            return
        for value in ast.iter_child_nodes(node):
            if isinstance(value, ast.stmt):
                self.statements.append((value, scope, False))
            elif isinstance(value, ast.expr):
                self._expressions(scope, value)
            elif isinstance(value, ast.ExceptHandler):
                self._handler(value, scope)
            elif isinstance(value, ast.match_case):
                self._case(value, scope)
            elif isinstance(value, ast.withitem):
                self._expressions(scope, value.context_expr, value.optional_vars)

    def _handler(self, node: ast.ExceptHandler, scope: _Scope) -> None:
        if node.name is not None:
            after = node.type if node.type is not None else node
            line = self._name_line(after.end_lineno or after.lineno, after.end_col_offset or 0, node.name, ("as",))
            self.pending.append(_Pending(node.name, line, "assignment", False, scope))
        self._expressions(scope, node.type)
        self.statements += [(statement, scope, False) for statement in reversed(node.body)]

    def _case(self, node: ast.match_case, scope: _Scope) -> None:
        patterns: list[ast.pattern] = [node.pattern]
        while patterns:
            pattern = patterns.pop()
            if isinstance(pattern, ast.MatchAs):
                if pattern.name is not None:
                    line = pattern.lineno  # `case name:`; `case <pattern> as name:` names it after the pattern
                    inner = pattern.pattern
                    if inner is not None:
                        line = self._name_line(
                            inner.end_lineno or line, inner.end_col_offset or 0, pattern.name, ("as",)
                        )
                    self.pending.append(_Pending(pattern.name, line, "assignment", False, scope))
            elif isinstance(pattern, ast.MatchStar):
                if pattern.name is not None:
                    line = self._name_line(pattern.lineno, pattern.col_offset, pattern.name, ())
                    self.pending.append(_Pending(pattern.name, line, "assignment", False, scope))
            elif isinstance(pattern, ast.MatchMapping) and pattern.rest is not None:
                # `**rest` closes the mapping: it follows the last value pattern, or the brace
                line, column = pattern.lineno, pattern.col_offset
                if pattern.patterns:
                    last = pattern.patterns[-1]
                    line, column = last.end_lineno or last.lineno, last.end_col_offset or 0
                line = self._name_line(line, column, pattern.rest, ())
                self.pending.append(_Pending(pattern.rest, line, "assignment", False, scope))
            patterns += [child for child in ast.iter_child_nodes(pattern) if isinstance(child, ast.pattern)]
        self._expressions(scope, node.guard)
        self.statements += [(statement, scope, False) for statement in reversed(node.body)]

    def _targets(self, target: ast.expr, scope: _Scope, top: bool) -> None:
        """The names an assignment's target binds (within tuples, lists and starred targets)."""
        targets = [target]
        while targets:
            found = targets.pop()
            if isinstance(found, ast.Name):
                self.pending.append(_Pending(found.id, found.lineno, "assignment", top, scope))
            elif isinstance(found, (ast.Tuple, ast.List)):
                targets += found.elts
            elif isinstance(found, ast.Starred):
                targets.append(found.value)

    # -- expressions -----------------------------------------------------------------------------
    def _expressions(self, scope: _Scope, *nodes: ast.AST | None) -> None:
        if self.walrus or (self.node_calls and (scope is self.module or scope.run is not None)):
            self.expression_stack += [(node, scope) for node in nodes if node is not None]

    def _expression(self, node: ast.AST, scope: _Scope) -> None:
        stack = self.expression_stack
        if isinstance(node, ast.NamedExpr):
            target = node.target
            self.pending.append(_Pending(target.id, target.lineno, "assignment", False, scope))
            stack.append((node.value, scope))
            return
        if isinstance(node, ast.Call):
            self._call(node, scope)
        elif isinstance(node, ast.Lambda):
            arguments = node.args
            self._expressions(scope, *arguments.defaults, *arguments.kw_defaults)
            self._expressions(scope.child(_FUNCTION), node.body)
            return
        elif isinstance(node, _COMPREHENSIONS):
            first, *others = node.generators
            stack.append((first.iter, scope))  # evaluated in the scope around the comprehension
            own = scope.child(_COMPREHENSION)
            parts: list[ast.expr] = [first.target, *first.ifs]
            for generator in others:
                parts += [generator.target, generator.iter, *generator.ifs]
            parts += [node.key, node.value] if isinstance(node, ast.DictComp) else [node.elt]
            self._expressions(own, *parts)
            return
        stack += [(child, scope) for child in ast.iter_child_nodes(node) if not isinstance(child, ast.expr_context)]

    def _call(self, node: ast.Call, scope: _Scope) -> None:
        function = node.func
        if not (
            isinstance(function, ast.Attribute) and function.attr == "node" and isinstance(function.value, ast.Name)
        ):
            return
        if scope is self.module:
            calls = self.calls
        elif scope.run is not None:
            calls = scope.run.calls
        else:
            return
        positional = [argument for argument in node.args if not isinstance(argument, ast.Starred)]
        first = positional[0] if positional else None
        second = positional[1] if len(positional) > 1 else None
        node_id = first.value if isinstance(first, ast.Constant) and isinstance(first.value, str) else None
        name = second.id if isinstance(second, ast.Name) else None
        calls.append((node.lineno, node.col_offset, NodeCall(function.value.id, node_id, name, node.lineno)))

    # -- run() -----------------------------------------------------------------------------------
    def _run_shape(self, run: _Run) -> RunShape:
        return RunShape(
            line=run.line,
            asynchronous=isinstance(run.function, ast.AsyncFunctionDef),
            runner=None if any(name == "rt" for name, _ in run.locals) else _runner(run.function),
            locals=tuple(sorted(run.locals)),
            declared_global=tuple(sorted(run.declared_global)),
            calls=_in_order(run.calls),
        )

    # -- lines -----------------------------------------------------------------------------------
    def _name_line(self, line: int, column: int, name: str, keywords: tuple[str, ...]) -> int:
        """The line of ``name``, which follows (line, column) with only ``keywords``, brackets,
        commas, stars, bars, comments and line breaks between (``column`` in UTF-8 bytes, as ast
        gives it)."""
        start = line
        text = self.lines[line - 1]
        if not text.isascii():
            column = len(text.encode()[:column].decode(errors="replace"))
        while line <= len(self.lines):
            text = self.lines[line - 1]
            while column < len(text):
                char = text[column]
                if char == "#":
                    break
                if char.isspace() or char in _PUNCTUATION:
                    column += 1
                    continue
                word = _IDENTIFIER.match(text, column)
                if word is None or (word.group() != name and word.group() not in keywords):
                    return start
                if word.group() == name:
                    return line
                column = word.end()
            line, column = line + 1, 0
        return start


def _owner(name: str, scope: _Scope) -> tuple[_Scope | None, bool]:
    """The scope a binding of ``name`` made in ``scope`` belongs to, and whether it reaches the
    module through a ``global`` statement. None: a ``nonlocal`` with no function around it."""
    while scope.kind == _COMPREHENSION and scope.parent is not None:  # an assignment expression
        scope = scope.parent
    found: _Scope | None = scope
    while found is not None and found.kind != _MODULE:
        if name in found.globals:
            return _module_of(found), True
        if name not in found.nonlocals:
            return found, False
        found = found.enclosing_function()
    return found, False


def _module_of(scope: _Scope) -> _Scope:
    while scope.parent is not None:
        scope = scope.parent
    return scope


def _arguments(arguments: ast.arguments) -> Iterator[ast.arg]:
    yield from arguments.posonlyargs
    yield from arguments.args
    if arguments.vararg is not None:
        yield arguments.vararg
    yield from arguments.kwonlyargs
    if arguments.kwarg is not None:
        yield arguments.kwarg


def _runner(function: ast.FunctionDef | ast.AsyncFunctionDef) -> str | None:
    """``<runner>`` of the first ``with rt.Run(...) as <runner>:`` directly in the body."""
    for statement in function.body:
        if not isinstance(statement, (ast.With, ast.AsyncWith)):
            continue
        for item in statement.items:
            if is_runner(item):
                assert isinstance(item.optional_vars, ast.Name)
                return item.optional_vars.id
    return None


def _in_order(calls: list[tuple[int, int, NodeCall]]) -> tuple[NodeCall, ...]:
    return tuple(call for *_, call in sorted(calls, key=lambda item: item[:2]))


def _binding_order(b: Binding) -> tuple[int, str, str, bool, bool, str]:
    return (b.line, b.name, b.form, b.top, b.via_global, b.target)
