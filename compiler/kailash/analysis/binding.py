"""Binding a code block's free names: connections, builtins, resources, modules, inputs."""

from __future__ import annotations

import ast
import difflib

from .. import codeblock
from ..errors import CodeLine, WorkflowError
from ..source_text import split_lines
from .diagnostics import module_use
from .names import AUTO_IMPORT_MODULES, BUILTIN_NAMES, MODULE_DUNDERS
from .plan import NodeScope, Param


def bind_names(scope: NodeScope, names: list[str], code: str, *, warn: bool = True) -> tuple[list[Param], list[str]]:
    """Bind a code block's free names: connection (the node's own, then its pattern entry
    node's), builtin, resource, get_resource, module, input.

    Returns the parameters (connections first, in connection order) and the well-known
    modules to import. Under ``strict`` an input that no connection feeds is an error. An
    input the code reads as an importable module (``yaml.safe_load``) is a warning that the
    code lacks its import (``warn``: the code is this node's own, not planned elsewhere too).
    """
    params = list(scope.connected)
    connected = {p.name for p in params}
    inherited = {p.name: p for p in scope.inherited if p.name not in connected}
    modules: list[str] = []
    for name in names:
        if name in inherited:
            params.append(inherited[name])
            continue
        if name in connected or name in BUILTIN_NAMES or name in MODULE_DUNDERS:
            continue
        if name in scope.resources:
            params.append(Param(name, "resource"))
        elif name == "get_resource":
            params.append(Param(name, "get_resource"))
        elif name in AUTO_IMPORT_MODULES:
            modules.append(name)
        elif name in scope.declared_inputs:
            params.append(Param(name, "input"))
        elif name in scope.definitions:
            _use_definition(scope, name, code)
        else:
            use = module_use(name, code) if warn or scope.strict else None
            if use is not None:
                consequence = "" if scope.diagnostics.strict else f", so {name!r} is a workflow input"
                scope.diagnostics.warn(
                    scope.node,
                    f"the code uses the module {name!r} but does not import it{consequence}",
                    code_line=use,
                    hint=f"add `import {name}` to the code block (or, if {name!r} is meant as an input,"
                    " give it a name no module has)",
                )
            if scope.strict:
                if use is None:  # a module used without its import is reported once, above
                    unbound = _unbound(scope, name, code, sorted(connected | scope.resources))
                    scope.diagnostics.error(unbound, key=("unbound", code, name))
                continue
            params.append(Param(name, "input"))
    return params, modules


def _unbound(scope: NodeScope, name: str, code: str, known: list[str]) -> WorkflowError:
    candidates = known + sorted(AUTO_IMPORT_MODULES) + sorted(BUILTIN_NAMES)
    close = difflib.get_close_matches(name, candidates, n=1)
    hint = f"did you mean {close[0]!r}? " if close else ""
    hint += (
        f"connect an upstream output to it, declare a resource of that name, or declare it as a workflow input"
        f" with builder.add_input({name!r})"
    )
    return WorkflowError(
        f"name {name!r} is not bound: no connection, resource or import provides it",
        location=scope.node.location,
        node_id=scope.node.node_id,
        code_line=_first_use(code, name),
        hint=hint,
    )


def _first_use(code: str, name: str) -> CodeLine | None:
    tree = codeblock.parse(code)
    uses = sorted((n.lineno, n.col_offset) for n in ast.walk(tree) if isinstance(n, ast.Name) and n.id == name)
    if not uses:
        return None
    line, column = uses[0]
    line -= 1  # the parse wraps the block in a function
    return CodeLine(line, split_lines(code)[line - 1], codeblock.block_column(code, line, column))


_HOW_BOUND = {
    "function": "defines as a function",
    "class": "defines as a class",
    "constant": "assigns",
    "import": "imports",
    "other": "binds",
}


def _use_definition(scope: NodeScope, name: str, code: str) -> None:
    """A name the workflow file binds at its top level: copied into the module with what it
    reads, or an error naming the definition and its line when it cannot be."""
    definition = scope.definitions[name]
    if definition.problem is None:
        scope.used_definitions.add(definition)
        return
    how = _HOW_BOUND.get(definition.kind, "binds")
    scope.diagnostics.error(
        key=("definition", code, name),
        error=WorkflowError(
            f"the code reads {name!r}, which the workflow file {how} at {definition.location}, but that cannot be"
            f" copied into the compiled module: {definition.problem}",
            location=scope.node.location,
            node_id=scope.node.node_id,
            code_line=_first_use(code, name),
            hint=f"define or import it inside the code block, or, if {name!r} is meant as a workflow input,"
            f" declare it with builder.add_input({name!r})",
        ),
    )
