"""The generated module's namespace: every top-level name has one owner.

Node functions, the helpers and imports map code blocks put at module level, the imports
of retry exceptions and resources, and the runtime's own names (``rt``, ``run``,
``RESOURCES``) share one module. A name one node brings must never rebind a name another
node or the runtime reads; these checks refuse such a workflow at compile time, saying
which two things clash.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .. import codeblock
from ..errors import CodeLine, WorkflowError
from ..ir import NodeIR
from ..settings import ParallelFetchSettings, settings_of
from .names import AUTO_IMPORT_MODULES, BUILTIN_NAMES, MODULE_DUNDERS

if TYPE_CHECKING:
    from .plan import NodePlan
    from .resources import ResourceBlock


@dataclass(frozen=True)
class Owner:
    """What a top-level name of the module is."""

    description: str  # for messages: "the function of node 'a'", "`import json as price`", ...
    node_id: str | None = None  # the node that brings the name; None: the module itself
    target: str | None = None  # for a name an import binds: what it binds, as a dotted path
    helper: bool = False  # a helper a code block defines at its top level


# What the header of every generated module binds (its imports) and the names it reserves.
_HEADER_IMPORTS = {
    "rt": ("kailash_rt", "`import kailash_rt as rt`, the runtime"),
    "Any": ("typing.Any", "`from typing import Any`"),
    "Mapping": ("collections.abc.Mapping", "`from collections.abc import Mapping`"),
}
_MODULE_ROLES = {
    "run": "the module's run()",
    "RESOURCES": "the module's resource declarations",
    "SOURCE_LINES": "the workflow file's lines of the module's node code",
}


def header_names() -> dict[str, Owner]:
    owners = {name: Owner("a builtin") for name in BUILTIN_NAMES}
    owners.update({name: Owner("an attribute Python gives every module") for name in MODULE_DUNDERS})
    owners.update({name: Owner(role) for name, role in _MODULE_ROLES.items()})
    for module in sorted(AUTO_IMPORT_MODULES):
        owners[module] = Owner(f"`import {module}`, which code blocks use without importing it", target=module)
    for name, (target, description) in _HEADER_IMPORTS.items():
        owners[name] = Owner(description, target=target)
    return owners


def import_bindings(line: str) -> list[tuple[str, str]]:
    """``(name, dotted path of what it is bound to)`` for each name an import statement binds."""
    found: list[tuple[str, str]] = []
    for statement in ast.parse(line).body:
        if isinstance(statement, ast.Import):
            for alias in statement.names:
                bound = alias.asname or alias.name.split(".")[0]
                found.append((bound, alias.name if alias.asname else bound))
        elif isinstance(statement, ast.ImportFrom):
            module = "." * statement.level + (statement.module or "")
            found += [(a.asname or a.name, f"{module}.{a.name}") for a in statement.names if a.name != "*"]
    return found


def check_module_names(
    plans: Iterable[NodePlan], block: ResourceBlock, retry_imports: dict[str, tuple[str, ...]]
) -> dict[str, Owner]:
    """Every top-level name of the module and its owner; a WorkflowError when a node would bind
    a name something else already owns. ``retry_imports``: node id -> its retry exceptions' imports."""
    plans = list(plans)
    owners = header_names()
    for line in block.imports:
        for name, target in import_bindings(line):
            owners.setdefault(name, Owner(f"`{line}` of the resource declarations", target=target))
    for name in block.bindings:
        owners.setdefault(name, Owner("a name of the resource declarations"))
    for plan in plans:
        owners[plan.ident] = Owner(f"the function of node {plan.node.node_id!r}", plan.node.node_id)
    for plan in plans:
        for name in plan.functions:
            owner = Owner(f"a function of node {plan.node.node_id!r}", plan.node.node_id)
            what = f"the node defines the function {name!r} (for one of its stages or operations)"
            _claim(owners, plan.node, name, owner, what, "give the node, or that operation, another name")
    for plan in plans:
        for line in retry_imports.get(plan.node.node_id, ()):
            _claim_imports(owners, plan.node, line, "for the retry exceptions")
        for line in plan.imports:
            _claim_imports(owners, plan.node, line, "in the code block")
    for plan in plans:
        for name in plan.module_names:
            owner = Owner(f"a helper of node {plan.node.node_id!r}", plan.node.node_id, helper=True)
            what = f"the code block defines {name!r} at its top level"
            _claim(owners, plan.node, name, owner, what, "rename the helper in the code block")
    return owners


def _claim(owners: dict[str, Owner], node: NodeIR, name: str, owner: Owner, what: str, hint: str) -> None:
    taken = owners.get(name)
    if taken is not None:
        raise WorkflowError(
            f"{what}, which clashes with {taken.description}", location=node.location, node_id=node.node_id, hint=hint
        )
    owners[name] = owner


def _claim_imports(owners: dict[str, Owner], node: NodeIR, line: str, origin: str) -> None:
    for name, target in import_bindings(line):
        taken = owners.get(name)
        if taken is not None and taken.target != target:
            raise WorkflowError(
                f"`{line}` {origin} binds {name!r}, which clashes with {taken.description}",
                location=node.location,
                node_id=node.node_id,
                hint="import it under another name (import ... as ...)",
            )
        if taken is None:
            owners[name] = Owner(f"`{line}` of node {node.node_id!r}", node.node_id, target=target)


# Kinds whose code block is module-level code (imports and helpers beside process_item).
MODULE_CODE_KINDS = frozenset({"parallel_map", "scatter"})


def check_globals(plans: Iterable[NodePlan], owners: dict[str, Owner]) -> None:
    """A code block's ``global`` statements must not name a module-level name the module, the
    runtime or another node relies on (only the node's own helpers), nor one of its inputs."""
    for plan in plans:
        node = plan.node
        inputs = {p.name for p in plan.params} | set(plan.signature or ())
        for code, module_code in _code_blocks(node):
            for name, code_line in _declared_globals(code, module_code):
                owner = owners.get(name)
                if name in inputs:
                    problem = f"`global {name}`: {name!r} is also an input of the node"
                    hint = f"drop the global statement, or give the input another name than {name!r}"
                elif owner is not None and not (owner.helper and owner.node_id == node.node_id):
                    problem = f"`global {name}` would let the code block rebind {name!r}, {owner.description}"
                    hint = (
                        "a code block may not rebind module-level names other code relies on;"
                        " use a local name, or keep state in a helper of a parallel-map code block"
                    )
                else:
                    continue
                raise WorkflowError(
                    problem, location=node.location, node_id=node.node_id, code_line=code_line, hint=hint
                )


def _code_blocks(node: NodeIR) -> Iterator[tuple[str, bool]]:
    """The code blocks of a node, each with whether it is module-level code."""
    if node.kind == "scatter_worker":
        return  # the scatter node's code, checked there
    if node.kind == "parallel_fetch":
        for code in settings_of(node, ParallelFetchSettings).operations.values():
            yield code, False
    elif node.code:
        yield node.code, node.kind in MODULE_CODE_KINDS


def _declared_globals(code: str, module_code: bool) -> Iterator[tuple[str, CodeLine]]:
    if "global" not in code:
        return  # no global statement: spare the parse
    tree = ast.parse(code) if module_code else codeblock.parse(code)
    lines = code.splitlines()
    found = sorted(
        (statement.lineno, statement.col_offset, name)
        for statement in ast.walk(tree)
        if isinstance(statement, ast.Global)
        for name in statement.names
    )
    for line, column, name in found:
        if not module_code:  # the parse wraps the block in a function
            line -= 1
            column = codeblock.block_column(code, line, column)
        yield name, CodeLine(line, lines[line - 1], column)
