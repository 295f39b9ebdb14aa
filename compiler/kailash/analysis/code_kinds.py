"""Planners of the core node kinds: ``code`` and ``parallel_map``."""

from __future__ import annotations

import ast
import difflib

from .. import codeblock
from ..errors import CodeLine, WorkflowError
from ..ir import NodeIR
from ..settings import ParallelMapSettings, settings_of
from ..source_text import PYTHON_WHITESPACE, split_lines
from .binding import bind_names
from .diagnostics import never_returns
from .names import AUTO_IMPORT_MODULES, BUILTIN_NAMES, statement_bindings
from .plan import NodePlan, NodeScope, Param, PatternCall, Shape


def plan_code(scope: NodeScope, *, gives_result: bool = True) -> NodePlan:
    """``gives_result``: the node's output is what the code assigns to ``result``."""
    code = scope.node.code
    names = codeblock.free_names(code)
    params, modules = bind_names(scope, names, code)
    _check_connected_names_are_read(scope, names, params)
    assigns_result = codeblock.binds(code, "result")
    if gives_result and not assigns_result and never_returns(code):
        scope.diagnostics.warn(
            scope.node,
            "the code block never assigns `result`, so the node's output is always None",
            hint="assign the node's output to `result` (result = ...)",
        )
    return NodePlan(
        node=scope.node,
        ident=scope.ident,
        params=tuple(params),
        shape=Shape.PLAIN,
        code=code,
        returns="result" if assigns_result else "None",
        modules=tuple(modules),
    )


def _check_connected_names_are_read(scope: NodeScope, names: list[str], params: list[Param]) -> None:
    """A connection into a name the code never reads, beside an input the code does read that
    is spelled almost the same, is a typo: say so now rather than "needs input" at run time."""
    unbound = [p.name for p in params if p.source == "input"]
    for param in scope.connected:
        if param.name in names:
            continue
        close = difflib.get_close_matches(param.name, unbound, n=1)
        if close:
            raise WorkflowError(
                f"the connection from {param.from_node!r} goes into {param.name!r}, which the code never reads;"
                f" the code reads {close[0]!r}, which nothing connects",
                location=scope.node.location,
                node_id=scope.node.node_id,
                hint=f"did you mean add_connection(..., {scope.node.node_id!r}, {close[0]!r})?",
            )


def plan_parallel_map(scope: NodeScope, *, warn: bool = True) -> NodePlan:
    """``process_item`` becomes the node's function; other top-level statements go to module level.

    ``warn``: the code is this node's own (a scatter-gather's workers plan their scatter's code)."""
    from .map_function import as_node_function  # libcst, imported by the workflows that have a map

    node = scope.node
    code = node.code
    lines = split_lines(code, keepends=True)
    tree = ast.parse(code)
    function_source = ""
    imports: list[str] = []
    preamble: list[str] = []
    bound: set[str] = set()
    defined: set[str] = set()
    for statement in tree.body:
        first = min([statement.lineno, *(d.lineno for d in getattr(statement, "decorator_list", []))])
        segment = "".join(lines[first - 1 : statement.end_lineno]).rstrip(PYTHON_WHITESPACE + "\n") + "\n"
        if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef)) and statement.name == "process_item":
            function_source = segment
            continue
        _check_module_level(node, segment, first)
        if isinstance(statement, (ast.Import, ast.ImportFrom)):
            imports.append(segment.strip(PYTHON_WHITESPACE + "\n"))
            bound.update(statement_bindings(statement))
        else:
            preamble.append(segment)
            defined.update(statement_bindings(statement))
    bound |= defined
    helper_source = "\n".join(preamble)
    modules: set[str] = set()
    for name in codeblock.free_names(helper_source) if helper_source else []:
        if name in AUTO_IMPORT_MODULES:
            modules.add(name)
        elif name not in BUILTIN_NAMES and name not in bound:
            raise WorkflowError(
                f"the top-level statements beside process_item() read {name!r}, which only a node input could give",
                location=node.location,
                node_id=node.node_id,
                hint="move that code into process_item(), which receives inputs as keyword arguments",
            )
    names = [n for n in codeblock.free_names(function_source) if n not in bound]
    settings = settings_of(node, ParallelMapSettings)
    item_field = settings.input_field
    scope.connected = [p for p in scope.connected if p.name != item_field] + [
        p for p in scope.connected if p.name == item_field
    ]
    params, more_modules = bind_names(scope, names, code, warn=warn)
    modules.update(more_modules)
    extras = [p.name for p in params if p.name != item_field]
    clashing = sorted(set(extras) & _parameter_names(function_source))
    if clashing:
        raise WorkflowError(
            f"input {clashing[0]!r} has the name of a parameter of process_item()",
            location=node.location,
            node_id=node.node_id,
            hint=f"process_item() receives each item as its parameter; connect {clashing[0]!r} under another name",
        )
    if item_field not in {p.name for p in params}:
        params.insert(0, Param(item_field, "input"))
    return NodePlan(
        node=node,
        ident=scope.ident,
        params=tuple(params),
        shape=Shape.MAPPED,
        pattern=PatternCall("parallel_map", settings.shown()),
        preamble=helper_source,
        function=as_node_function(function_source, scope.ident, extras),
        modules=tuple(sorted(modules)),
        imports=tuple(imports),
        module_names=tuple(sorted(defined)),
    )


def _check_module_level(node: NodeIR, segment: str, first_line: int) -> None:
    """A statement beside process_item() runs once, at module level, when the module loads: what
    only a function body allows there (``await``, ``return``, ``async for``/``with``) is refused."""
    try:
        compile(segment, "<code block>", "exec", dont_inherit=True)
    except SyntaxError as exc:
        line = first_line + (exc.lineno or 1) - 1
        text, column = codeblock.shown_line(split_lines(node.code)[line - 1], (exc.offset or 1) - 1)
        raise WorkflowError(
            f"{exc.msg}: the top-level statements beside process_item() run once, when the module loads,"
            " outside any function",
            location=node.location,
            node_id=node.node_id,
            code_line=CodeLine(line, text, column),
            hint="move that code into process_item(), which runs for every item and may await",
        ) from None


def _parameter_names(function_source: str) -> set[str]:
    function = ast.parse(function_source).body[0]
    assert isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef))
    arguments = function.args
    every = [*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs, arguments.vararg, arguments.kwarg]
    return {argument.arg for argument in every if argument is not None}
