"""Rendering for the Temporal target: the asyncio target's node functions, one activity per
node, and a ``@workflow.defn`` class whose run method registers the nodes as ``run()`` does.

The node chunks are the asyncio target's own (same templates, same text), so a node runs the
same code on either target. The Temporal templates (templates/temporal) come first in the
search path and add the header, the activity table, the workflow class and the command line.
"""

from __future__ import annotations

import hashlib
from dataclasses import replace
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2
from kailash_rt import __version__ as RUNTIME_VERSION

from ... import codeblock
from ...analysis.namespace import import_bindings
from ...analysis.plan import ModulePlan, NodePlan, Shape
from ...errors import WorkflowError
from ...ir_files import ir_file_text
from ...style import LINE_LENGTH
from ...syntax_version import OLDEST, required_version
from ..asyncio import render as asyncio_render
from ..asyncio.literals import py_string
from ..templating import Templates

_TEMPLATE_SET = "temporal"

# Module-level names a Temporal module adds to the asyncio target's.
TEMPORAL_NAMES = frozenset({"temporalio", "rtt", "NODES", "TASK_QUEUE", "Workflow"})


def template_dirs() -> list[Path]:
    """The Temporal templates first, then the asyncio ones (the node templates are shared)."""
    here = Path(__file__).resolve().parent
    candidates = [here.parents[1] / "templates" / _TEMPLATE_SET, here.parents[3] / "templates" / _TEMPLATE_SET]
    return [path for path in candidates if path.is_dir()] + asyncio_render.template_dirs()


@lru_cache(maxsize=1)
def templates() -> Templates:
    return Templates(_environment, tuple(template_dirs()), None)


def _environment() -> jinja2.Environment:
    env = asyncio_render.environment(None)
    return env.overlay(loader=jinja2.FileSystemLoader([str(path) for path in template_dirs()]))


def task_queue(plan: ModulePlan) -> str:
    """The task queue: the module name and a hash of the IR, so a changed graph gets its own
    queue and workers of the old graph finish the runs they started."""
    digest = hashlib.sha256(ir_file_text(plan.ir).encode("utf-8")).hexdigest()
    return f"{plan.module_name}-{digest[:12]}"


def render_chunks(plan: ModulePlan, source_name: str) -> list[str]:
    """The module as plain-text chunks, each one or more top-level statements."""
    _check_names(plan)
    _check_definitions(plan)
    _check_mappable(plan)
    chosen = templates()
    nodes = [render_node(plan, chosen, node_plan) for node_plan in plan.nodes]
    resources = asyncio_render.render_resources(chosen, plan.resources)
    python = max((required_version(text) for text in [resources, *nodes]), default=OLDEST)
    imported = frozenset[str]().union(*(asyncio_render.packages_imported_in(text) for text in [resources, *nodes]))
    activities = render_activities(plan, chosen)
    header = render_header(plan, source_name, resources, python, chosen, imported)
    return [header, *nodes, activities, render_workflow(plan, chosen)]


def render_header(
    plan: ModulePlan,
    source_name: str,
    resources_source: str,
    python: tuple[int, int],
    chosen: Templates,
    imported: frozenset[str],
) -> str:
    """The asyncio target's header, with temporalio and kailash_rt.temporal imported (and
    listed as required) as well."""
    inputs: dict[str, list[str]] = {}
    for node_plan in plan.nodes:
        for name in node_plan.inputs:
            inputs.setdefault(name, []).append(node_plan.node.node_id)
    stdlib = {"from typing import Any"}
    client = {"import kailash_rt.temporal as rtt", "import temporalio.workflow"}
    for line in [*(f"import {m}" for m in plan.modules), *plan.imports, *plan.resources.imports]:
        (stdlib if asyncio_render._is_stdlib_import(line) else client).add(line)
    requires = asyncio_render._installed_modules(client, plan.resources, imported)
    declared = {declared.name: declared for declared in plan.ir.inputs}
    shown = {name: asyncio_render._declared_input(declared[name]) for name in inputs if name in declared}
    context = {
        "name": plan.ir.name,
        "module": plan.module_name,
        "description": plan.ir.description,
        "source": source_name,
        "inputs": inputs,
        "declared_inputs": shown,
        "definitions": [(str(d.location), d.source.rstrip("\n")) for d in plan.definitions],
        "resources": plan.resources,
        "resources_source": resources_source,
        "python": None if python == OLDEST else "{}.{}".format(*python),
        "stdlib_imports": asyncio_render._sorted_imports(stdlib),
        "client_imports": asyncio_render._sorted_imports(client),
        "requires": requires,
        "install": [asyncio_render._DISTRIBUTIONS.get(module, module) for module in requires],
        "runtime_version": RUNTIME_VERSION,
    }
    return chosen.render("header.py.j2", context, what="the module header")


def render_node(plan: ModulePlan, chosen: Templates, node_plan: NodePlan) -> str:
    """The asyncio target's node chunk, declared a Temporal activity: ``@rtt.activity(node_id,
    <the node's policies>)`` where the asyncio target has ``@rt.node(<policies>)``, or the
    ``rtt`` form of a pattern the workflow runs itself."""
    node = asyncio_render._node_context(node_plan)
    backoff = _retries_with_backoff(node_plan)
    workflow_pattern = _workflow_pattern(node_plan)
    node["workflow_pattern"] = workflow_pattern
    node["backoff"] = node_plan.pattern if backoff else None
    # Here has_policy means "declared with @rtt.activity", which every node is but those
    # whose pattern the workflow runs.
    node["has_policy"] = not workflow_pattern and not _answers_in_workflow(plan, node_plan)
    if backoff:  # retries are Temporal's: the function is the plain one, the retry its activity's
        node_plan = replace(node_plan, shape=Shape.PLAIN, pattern=None, signature=None)
    values: dict[str, Any] = {"node": node, "plan": node_plan}
    if node_plan.shape in (Shape.PLAIN, Shape.DECORATED):
        values["body"] = codeblock.indent(node_plan.code)
    if node_plan.shape is Shape.RESOURCE:
        values["arguments"], values["keyed"] = asyncio_render._resource_arguments(node_plan)
    template = asyncio_render.TEMPLATES[node_plan.shape]
    return chosen.render(template, values, what=f"node {node_plan.node.node_id!r}")


def _retries_with_backoff(node_plan: NodePlan) -> bool:
    pattern = node_plan.pattern
    return node_plan.shape is Shape.DECORATED and pattern is not None and pattern.name == "retry_with_backoff"


def _without_policies(node_plan: NodePlan) -> bool:
    node = node_plan.node
    return all(policy is None for policy in (node.timeout, node.max_concurrent_tasks, node.retry, node.fallback))


# Patterns the workflow runs itself, their functions (the items of a map, a primary and its
# fallback, each operation) as activities of their own. A node under policies of its own runs
# as one activity instead, where the policies apply to the node as a whole.
_WORKFLOW_PATTERNS = {
    (Shape.MAPPED, "parallel_map"),
    (Shape.DECORATED, "timeout_with_fallback"),
    (Shape.OPERATIONS, "parallel_fetch"),
}


def _workflow_pattern(node_plan: NodePlan) -> bool:
    pattern = node_plan.pattern
    if pattern is None or not _without_policies(node_plan):
        return False
    return (node_plan.shape, pattern.name) in _WORKFLOW_PATTERNS


def _answers_in_workflow(plan: ModulePlan, node_plan: NodePlan) -> bool:
    """The fallback node of a timeout_with_fallback the workflow runs: it outputs its primary's
    answer in the workflow, no activity of its own."""
    pattern = node_plan.pattern
    if node_plan.shape is not Shape.DECORATED or pattern is None or pattern.name != "fallback":
        return False
    primary = next((other for other in plan.nodes if other.ident == pattern.of), None)
    return _without_policies(node_plan) and primary is not None and _workflow_pattern(primary)


def render_activities(plan: ModulePlan, chosen: Templates) -> str:
    """``NODES``: the node activities a worker registers (not the fallback nodes that answer
    in the workflow), and ``TASK_QUEUE``."""
    activities = [
        node_plan.ident
        for node_plan in (plan.plan(node_id) for node_id in plan.order)
        if not _answers_in_workflow(plan, node_plan)
    ]
    context = {
        "name": py_string(plan.ir.name),
        "activities": activities,
        "declared": bool(plan.ir.resources),
        "task_queue": py_string(task_queue(plan)),
    }
    return chosen.render("activities.py.j2", context, what="the activities")


def render_workflow(plan: ModulePlan, chosen: Templates) -> str:
    """The workflow class: its run method registers one ``r.node(...)`` per node, as ``run()`` does."""
    calls = []
    for node_id in plan.order:
        node_plan = plan.plan(node_id)
        call = {
            "handle": plan.handles.get(node_id),
            "node_id": py_string(node_id),
            "ident": node_plan.ident,
            "args": [(p.name, asyncio_render._argument(p, plan)) for p in node_plan.params],
        }
        what = f"the registration of node {node_id!r}"
        line = chosen.render("run_call.py.j2", {"call": call, "exploded": False}, what=what)
        if len(line.rstrip("\n")) + 12 > LINE_LENGTH:
            line = chosen.render("run_call.py.j2", {"call": call, "exploded": True}, what=what)
        calls.append(line)
    context = {"name": py_string(plan.ir.name), "calls": calls}
    return chosen.render("workflow.py.j2", context, what="the workflow class")


def _check_names(plan: ModulePlan) -> None:
    """A node whose name would hide a name the Temporal module defines is refused, naming it."""
    for node_plan in plan.nodes:
        names = {node_plan.ident, *node_plan.functions, *node_plan.module_names}
        for line in node_plan.imports:
            names.update(name for name, _ in import_bindings(line))
        clash = sorted(names & TEMPORAL_NAMES)
        if clash:
            raise WorkflowError(
                f"its code defines {clash[0]!r}, a name the Temporal module defines itself",
                location=node_plan.node.location,
                node_id=node_plan.node.node_id,
                hint=f"rename it (names a Temporal module reserves: {', '.join(sorted(TEMPORAL_NAMES))})",
            )


def _check_definitions(plan: ModulePlan) -> None:
    """A name of the workflow file copied into the module may not hide one the Temporal module defines."""
    for definition in plan.definitions:
        if definition.name in TEMPORAL_NAMES:
            raise WorkflowError(
                f"the workflow file's {definition.name!r}, which a node's code reads, is a name the Temporal"
                " module defines itself",
                location=definition.location,
                hint=f"rename it (names a Temporal module reserves: {', '.join(sorted(TEMPORAL_NAMES))})",
            )


def _check_mappable(plan: ModulePlan) -> None:
    """A setting Temporal has no equivalent of is refused, naming the node and the pattern:
    nothing is dropped silently."""
    for node_plan in plan.nodes:
        node = node_plan.node
        shrinking = []
        if node.retry is not None and node.retry.backoff < 1:
            shrinking.append(("the retry policy", "backoff", node.retry.backoff))
        if _retries_with_backoff(node_plan) and node_plan.pattern is not None:
            factor = node_plan.pattern.values.get("backoff_factor", 2.0)
            if factor < 1:
                shrinking.append(("retry_with_backoff", "backoff_factor", factor))
        if node.retry is not None and _retries_with_backoff(node_plan):
            raise WorkflowError(
                "it has a retry policy and retry_with_backoff: retries of retries cannot be one Temporal RetryPolicy",
                location=node.location,
                node_id=node.node_id,
                hint="keep one of the two to compile with --target temporal",
            )
        for pattern, setting, value in shrinking:
            raise WorkflowError(
                f"{pattern} has {setting}={value!r}: waits that shrink from retry to retry cannot be a"
                " Temporal RetryPolicy (its backoff coefficient is at least 1)",
                location=node.location,
                node_id=node.node_id,
                hint=f"give {setting} 1 or more to compile with --target temporal",
            )
