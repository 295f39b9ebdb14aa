"""Analysis: the IR becomes a plan. Every error about the workflow is found here or earlier."""

from __future__ import annotations

from .. import codeblock
from ..errors import CodeLine, WorkflowError
from ..ir import NodeIR, WorkflowIR
from ..settings import ScatterGatherSettings, Settings, settings_of
from ..source_text import split_lines
from .diagnostics import Diagnostics
from .exception_imports import exception_imports
from .graph import check_graph, topological_order
from .kinds import KINDS
from .names import imported_names, module_identifier, node_identifier, node_identifiers, top_level_bindings
from .namespace import check_globals, check_module_names
from .plan import ModulePlan, NodePlan, NodeScope, Param
from .resources import ResourceBlock, resource_block


def analyse(ir: WorkflowIR, *, strict: bool = False) -> ModulePlan:
    check_graph(ir)
    order = topological_order(ir)
    retry_imports = {node.node_id: exception_imports(node) for node in ir.nodes}
    taken, block = _module_bindings(ir, retry_imports)
    idents = node_identifiers((node.node_id for node in ir.nodes), taken)
    scatter_functions = _scatter_functions(ir, taken | set(idents.values()))
    diagnostics = Diagnostics(strict)
    resources = {r.name for r in ir.resources}
    incoming: dict[str, list[Param]] = {}
    for c in ir.connections:
        incoming.setdefault(c.to_node, []).append(Param(c.to_input, "connection", c.from_node, c.from_output))
    plans: list[NodePlan] = []
    for node in ir.nodes:
        _check_required_resources(node, resources)
        _check_resource_literals(node, resources)
        connected = list(incoming.get(node.node_id, []))
        kind = KINDS.get(node.kind)
        if kind is None:
            raise WorkflowError(f"node kind {node.kind!r} cannot be compiled", location=node.location)
        scope = NodeScope(
            node, idents[node.node_id], connected, resources, strict, idents, scatter_functions, diagnostics
        )
        if kind.entry_setting is not None:
            entry = getattr(settings_of(node, Settings), kind.entry_setting)
            scope.inherited = tuple(incoming.get(entry, []))
        plans.append(kind.plan(scope))
    owners = check_module_names(plans, block, retry_imports)
    check_globals(plans, owners)
    needed = {p.from_node for plan in plans for p in plan.params if p.from_node is not None}
    handles = _handles({p.node.node_id: p.ident for p in plans}, needed)
    return ModulePlan(
        ir=ir,
        module_name=module_identifier(ir.name),
        nodes=tuple(plans),
        order=tuple(order),
        modules=tuple(sorted({m for plan in plans for m in plan.modules})),
        imports=tuple(sorted({line for plan in plans for line in (*plan.imports, *retry_imports[plan.node.node_id])})),
        handles=handles,
        resources=block,
        warnings=tuple(diagnostics.warnings),
    )


# Kinds whose code block's other top-level statements (imports, helpers) go to module level.
HOISTING_KINDS = frozenset({"parallel_map", "scatter", "scatter_worker"})


def _module_bindings(ir: WorkflowIR, retry_imports: dict[str, tuple[str, ...]]) -> tuple[set[str], ResourceBlock]:
    """Names the module binds at top level besides node functions (``retry_imports`` of retry
    exceptions, hoisted imports and helpers of map code blocks, the resource block), and the
    resource block itself."""
    taken: set[str] = set()
    for node in ir.nodes:
        taken.update(name for line in retry_imports[node.node_id] for name in imported_names(line))
        if node.kind in HOISTING_KINDS:
            taken.update(top_level_bindings(node.code, skip="process_item"))
    block = resource_block(ir.resources, ir.name, ir.nodes)
    taken.update(block.bindings)
    return taken, block


def _scatter_functions(ir: WorkflowIR, taken: set[str]) -> dict[str, str]:
    """worker prefix -> the name of the scatter-gather function its stages share, which shadows
    no other module-level name."""
    functions: dict[str, str] = {}
    for node in ir.nodes:
        if node.kind == "scatter":
            prefix = settings_of(node, ScatterGatherSettings).worker_prefix
            functions[prefix] = node_identifier(prefix, taken)
            taken = taken | {functions[prefix]}
    return functions


def _check_required_resources(node: NodeIR, declared: set[str]) -> None:
    missing = [name for name in node.required_resources if name not in declared]
    if missing:
        raise WorkflowError(
            f"required resource{'s' if len(missing) > 1 else ''} {', '.join(map(repr, missing))}"
            f" {'are' if len(missing) > 1 else 'is'} not declared",
            location=node.location,
            node_id=node.node_id,
            hint=f"declare it with with_database/with_http_client/with_cache/require_resource"
            f" (declared: {', '.join(sorted(declared)) or 'none'})",
        )


def _check_resource_literals(node: NodeIR, declared: set[str]) -> None:
    for name, line, column in codeblock.resource_literals(node.code) if node.code else ():
        if name not in declared:
            raise WorkflowError(
                f"get_resource({name!r}): no resource of that name is declared",
                location=node.location,
                node_id=node.node_id,
                code_line=CodeLine(
                    line, split_lines(node.code)[line - 1], codeblock.block_column(node.code, line, column)
                ),
                hint=f"declare it with with_database/with_http_client/with_cache/require_resource"
                f" (declared: {', '.join(sorted(declared)) or 'none'})",
            )


def _handles(idents: dict[str, str], needed: set[str]) -> dict[str, str]:
    taken = set(idents.values())
    handles: dict[str, str] = {}
    for node_id, ident in idents.items():
        if node_id not in needed:
            continue
        handle = f"{ident}_out"
        while handle in taken:
            handle += "_"
        taken.add(handle)
        handles[node_id] = handle
    return handles
