"""Analysis: the IR becomes a plan. Every error about the workflow is found here or earlier."""

from __future__ import annotations

from .. import codeblock
from ..errors import CodeLine, WorkflowError
from ..ir import DefinitionIR, NodeIR, WorkflowIR
from ..settings import ScatterGatherSettings, Settings, settings_of
from ..source_text import split_lines
from .binding import use_retry_classes
from .diagnostics import Diagnostics
from .exception_imports import exception_imports
from .graph import check_graph
from .kinds import KINDS
from .names import imported_names, module_identifier, node_identifier, node_identifiers, top_level_bindings
from .namespace import Owner, check_globals, check_module_names, import_bindings
from .plan import ModulePlan, NodePlan, NodeScope, Param
from .resources import ResourceBlock, resource_block


def analyse(ir: WorkflowIR, *, strict: bool = False) -> ModulePlan:
    """The plan of the module; every error found while planning the nodes is reported at once
    (a ``WorkflowErrors`` when there are several)."""
    order = check_graph(ir)
    retry_imports = {node.node_id: exception_imports(node) for node in ir.nodes}
    taken, block = _module_bindings(ir, retry_imports)
    idents = node_identifiers((node.node_id for node in ir.nodes), taken)
    scatter_functions = _scatter_functions(ir, taken | set(idents.values()))
    diagnostics = Diagnostics(strict)
    resources = {r.name for r in ir.resources}
    declared = {declared.name: declared for declared in ir.inputs}
    definitions = _definitions_by_file(ir)
    used: set[DefinitionIR] = set()
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
        scope.declared_inputs = declared
        scope.definitions = definitions.get(node.location.file, {})
        scope.used_definitions = used
        if kind.entry_setting is not None:
            entry = getattr(settings_of(node, Settings), kind.entry_setting)
            scope.inherited = tuple(incoming.get(entry, []))
        use_retry_classes(scope)
        try:
            plans.append(kind.plan(scope))
        except WorkflowError as exc:
            if not diagnostics.errors:
                raise
            diagnostics.error(exc)  # after the errors found before it
            diagnostics.raise_errors()
    _check_declared_inputs_are_read(ir, plans, diagnostics)
    diagnostics.raise_errors()
    copied = _copied(used, definitions)
    copied_imports = tuple(d.source.strip() for d in copied if d.kind == "import")
    statements = tuple(d for d in copied if d.kind != "import")
    owners = check_module_names(plans, block, retry_imports)
    _claim_definitions(copied, owners)
    check_globals(plans, owners)
    needed = {p.from_node for plan in plans for p in plan.params if p.from_node is not None}
    handles = _handles({p.node.node_id: p.ident for p in plans}, needed)
    import_lines = {line for plan in plans for line in (*plan.imports, *retry_imports[plan.node.node_id])}
    return ModulePlan(
        ir=ir,
        module_name=module_identifier(ir.name),
        nodes=tuple(plans),
        order=tuple(order),
        modules=tuple(sorted({m for plan in plans for m in plan.modules})),
        imports=tuple(sorted(import_lines | set(copied_imports))),
        handles=handles,
        resources=block,
        warnings=tuple(diagnostics.warnings),
        definitions=statements,
    )


def _definitions_by_file(ir: WorkflowIR) -> dict[str, dict[str, DefinitionIR]]:
    found: dict[str, dict[str, DefinitionIR]] = {}
    for definition in ir.definitions:
        found.setdefault(definition.location.file, {})[definition.name] = definition
    return found


def _copied(used: set[DefinitionIR], definitions: dict[str, dict[str, DefinitionIR]]) -> tuple[DefinitionIR, ...]:
    """The definitions the code reads and every definition they read, each statement once, in file and line order."""
    found: dict[tuple[str, int, str], DefinitionIR] = {}
    stack = list(used)
    while stack:
        definition = stack.pop()
        key = (definition.location.file, definition.location.line, definition.source)
        if key in found:
            continue
        found[key] = definition
        same_file = definitions.get(definition.location.file, {})
        stack += [same_file[name] for name in definition.reads if name in same_file]
    return tuple(found[key] for key in sorted(found))


def definition_bindings(definition: DefinitionIR) -> list[str]:
    """The module-level names a copied definition binds."""
    if definition.kind == "import":
        return [name for name, _ in import_bindings(definition.source)]
    return top_level_bindings(definition.source)


def _claim_definitions(copied: tuple[DefinitionIR, ...], owners: dict[str, Owner]) -> None:
    """Each name a copied definition binds must be free in the module (a copied import may
    repeat an import of the same thing)."""
    for definition in copied:
        for name in definition_bindings(definition):
            taken = owners.get(name)
            same_import = definition.kind == "import" and taken is not None and taken.target is not None
            if taken is not None and not (same_import and _same_target(definition, name, taken)):
                raise WorkflowError(
                    f"the workflow file's {name!r} ({definition.location}), which a code block reads, would be"
                    f" copied into the compiled module, where it clashes with {taken.description}",
                    location=definition.location,
                    hint=f"rename {name!r} in the workflow file",
                )
            description = f"{name!r}, copied from the workflow file ({definition.location})"
            target = dict(import_bindings(definition.source)).get(name) if definition.kind == "import" else None
            owners[name] = Owner(description, target=target)


def _same_target(definition: DefinitionIR, name: str, taken: Owner) -> bool:
    return dict(import_bindings(definition.source)).get(name) == taken.target


def _check_declared_inputs_are_read(ir: WorkflowIR, plans: list[NodePlan], diagnostics: Diagnostics) -> None:
    read = {param.name for plan in plans for param in plan.params if param.source == "input"}
    for declared in ir.inputs:
        if declared.name not in read:
            diagnostics.warn_at(
                declared.location,
                f"input {declared.name!r} is declared, but no code block reads it as an input",
                hint="drop the declaration, or check its spelling against the code that should read it"
                " (a connection, resource, builtin or module of that name comes first)",
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
    for definition in ir.definitions:  # what a copied definition may bind: no node function takes its name
        if definition.problem is None:
            taken.update(definition_bindings(definition))
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
