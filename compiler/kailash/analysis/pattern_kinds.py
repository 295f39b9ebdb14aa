"""Planners of the pattern node kinds: each pattern becomes one visible ``kailash_rt`` decorator
(or a plainly named stage function) with its settings as literal arguments.

A pattern of several nodes (timeout with fallback, cache-aside, scatter-gather) gives every
node its own chunk, in builder order, each defining the name ``run()`` calls for that node.
"""

from __future__ import annotations

from dataclasses import replace

from .. import codeblock
from ..errors import WorkflowError
from ..ir import NodeIR
from ..settings import (
    BatchProcessorSettings,
    CacheAsideSettings,
    CircuitBreakerSettings,
    ParallelFetchSettings,
    RateLimitedSettings,
    RetryWithBackoffSettings,
    ScatterGatherSettings,
    TimeoutFallbackSettings,
    TimeoutPrimarySettings,
    settings_of,
)
from ..workflow.patterns import SHARD_START
from .binding import bind_names
from .code_kinds import plan_code, plan_parallel_map
from .diagnostics import never_returns
from .names import to_identifier
from .plan import NodePlan, NodeScope, Operation, Param, PatternCall, Shape


def _decorated(scope: NodeScope, pattern: PatternCall, *, returns: str | None = None) -> NodePlan:
    """The node's code as an async function under ``pattern``; its parameters are what run() passes.

    ``returns``: the name the code assigns the node's output to, when not ``result``."""
    base = plan_code(scope, gives_result=returns is None)
    return replace(
        base,
        shape=Shape.DECORATED,
        pattern=pattern,
        signature=tuple(p.name for p in base.params),
        returns=base.returns if returns is None else returns,
    )


# -- single-node patterns ---------------------------------------------------------------------
def plan_retry_with_backoff(scope: NodeScope) -> NodePlan:
    # retry_on: exception names (a target refers to the classes); analysis adds their imports
    settings = settings_of(scope.node, RetryWithBackoffSettings)
    return _decorated(scope, PatternCall("retry_with_backoff", settings.shown()))


def plan_rate_limited(scope: NodeScope) -> NodePlan:
    settings = settings_of(scope.node, RateLimitedSettings)
    return _decorated(scope, PatternCall("rate_limited", settings.shown()))


def plan_circuit_breaker(scope: NodeScope) -> NodePlan:
    settings = settings_of(scope.node, CircuitBreakerSettings)
    return _decorated(scope, PatternCall("circuit_breaker", settings.shown()))


def plan_batch_processor(scope: NodeScope) -> NodePlan:
    node = scope.node
    if not codeblock.binds(node.code, "batch_results"):
        raise WorkflowError(
            "the batch code does not set batch_results",
            location=node.location,
            node_id=node.node_id,
            hint="the code sees one batch as `items`; set `batch_results` to the list of that batch's results",
        )
    settings = settings_of(node, BatchProcessorSettings)
    plan = _decorated(scope, PatternCall("batch_processor", settings.shown()), returns="batch_results")
    if "items" not in (plan.signature or ()):  # the batch arrives as `items` even if the code ignores it
        params = (Param("items", "input"), *plan.params)
        plan = replace(plan, params=params, signature=tuple(p.name for p in params))
    return plan


# -- timeout with fallback -------------------------------------------------------------------
def plan_timeout_primary(scope: NodeScope) -> NodePlan:
    """The primary function under the timeout-with-fallback pattern; the node also receives what the fallback reads."""
    settings = settings_of(scope.node, TimeoutPrimarySettings)
    plan = _decorated(scope, PatternCall("timeout_with_fallback", (("timeout_seconds", settings.timeout_seconds),)))
    fallback_code = settings.fallback_code
    # The fallback node plans (and warns about) its own code; here it only tells what the node receives.
    fallback_params, modules = bind_names(scope, codeblock.free_names(fallback_code), fallback_code, warn=False)
    known = {p.name for p in plan.params}
    extra = tuple(p for p in fallback_params if p.name not in known)
    params = _deferring_resources(plan.params + extra)
    return replace(plan, params=params, modules=tuple(sorted({*plan.modules, *modules})))


def _deferring_resources(params: tuple[Param, ...] | list[Param]) -> tuple[Param, ...]:
    """Resources of a node that calls one of several functions are created by the function
    that uses them: a resource only the fallback (or one operation) reads must not fail the rest."""
    return tuple(replace(p, deferred=True) if p.source == "resource" else p for p in params)


def plan_timeout_fallback(scope: NodeScope) -> NodePlan:
    """``@<primary>.fallback``: the node outputs the primary node's answer (``answer`` is its whole output)."""
    node = scope.node
    primary_id = settings_of(node, TimeoutFallbackSettings).primary_id
    answer = [p for p in scope.connected if p.name == "answer" and p.from_node == primary_id]
    others = [p for p in scope.connected if p not in answer]
    answer = [replace(p, from_output=None) for p in answer]  # the primary's whole output, never a key of it
    if others:
        raise WorkflowError(
            f"the fallback node takes no connections of its own (got {', '.join(repr(p.name) for p in others)})",
            location=node.location,
            node_id=node.node_id,
            hint=f"connect the inputs the fallback code reads to the primary node {primary_id!r}:"
            " that node runs the fallback when the primary fails",
        )
    own = plan_code(replace(scope, connected=[], strict=False))
    return replace(
        own,
        params=tuple(answer),
        shape=Shape.DECORATED,
        pattern=PatternCall("fallback", of=scope.idents[primary_id]),
        signature=tuple(p.name for p in own.params),
    )


# -- cache-aside -----------------------------------------------------------------------------
def plan_cache_check(scope: NodeScope) -> NodePlan:
    """The key's fields are the node's inputs, or its connections; never a builtin, module or resource,
    whatever their names (``{id}``, ``{type}``, ``{time}``): the template names data, not code."""
    node = scope.node
    settings = settings_of(node, CacheAsideSettings)
    cache, template = settings.cache_resource, settings.cache_key_template
    connected = {p.name for p in scope.connected}
    params = [Param(cache, "resource"), *(p for p in scope.connected if p.name != cache)]
    for name in _key_fields(template):
        if name in connected:
            continue
        if scope.strict and name not in scope.declared_inputs:
            error = WorkflowError(
                f"cache key field {name!r} is not connected",
                location=node.location,
                node_id=node.node_id,
                hint=f"connect an upstream output to {node.node_id!r} as {name!r},"
                f" or declare it as a workflow input with builder.add_input({name!r})",
            )
            scope.diagnostics.error(error)
            continue
        params.append(Param(name, "input"))
    return _assigned(scope, PatternCall("cache_check", (("cache", cache), ("key_template", template))), params)


def plan_cache_fetch(scope: NodeScope) -> NodePlan:
    plan = _decorated(scope, PatternCall("cache_fetch"))
    return replace(plan, signature=tuple(name for name in plan.signature or () if name != "cache_result"))


def plan_cache_store(scope: NodeScope) -> NodePlan:
    settings = settings_of(scope.node, CacheAsideSettings)
    cache = settings.cache_resource
    pattern = PatternCall("cache_store", (("cache", cache), ("ttl_seconds", settings.ttl_seconds)))
    return _assigned(scope, pattern, [*scope.connected, Param(cache, "resource")])


# -- parallel fetch --------------------------------------------------------------------------
def plan_parallel_fetch(scope: NodeScope) -> NodePlan:
    """One async function per operation, combined by the parallel-fetch pattern."""
    node = scope.node
    settings = settings_of(node, ParallelFetchSettings)
    params: list[Param] = []
    modules: set[str] = set()
    operations = []
    owner: dict[str, str] = {}
    for name, code in settings.operations.items():
        ident = f"{scope.ident}_{to_identifier(name)}"
        if ident in owner:
            raise WorkflowError(
                f"operations {owner[ident]!r} and {name!r} both become the function name {ident!r}",
                location=node.location,
                node_id=node.node_id,
                hint="rename one of the two operations",
            )
        owner[ident] = name
        names = codeblock.free_names(code)
        bound, used_modules = bind_names(scope, names, code)
        modules.update(used_modules)
        assigns_result = codeblock.binds(code, "result")
        if not assigns_result and never_returns(code):
            scope.diagnostics.warn(
                node,
                f"operation {name!r} never assigns `result`, so its output is always None",
                hint="assign the operation's output to `result` (result = ...)",
            )
        own = [p for p in bound if p.name in names]
        params += [p for p in bound if p.name not in {q.name for q in params}]
        operations.append(
            Operation(name, ident, tuple(p.name for p in own), code, "result" if assigns_result else "None")
        )
    arguments = [
        ("timeout_per_operation", settings.timeout_per_operation),
        ("continue_on_error", settings.continue_on_error),
    ]
    return NodePlan(
        node=node,
        ident=scope.ident,
        params=_deferring_resources(params),
        shape=Shape.OPERATIONS,
        pattern=PatternCall("parallel_fetch", tuple(arguments)),
        operations=tuple(operations),
        modules=tuple(sorted(modules)),
        functions=tuple(owner),
    )


# -- scatter-gather --------------------------------------------------------------------------
def plan_scatter(scope: NodeScope) -> NodePlan:
    """process_item under the scatter-gather pattern, named by the worker prefix; the node is its scatter stage."""
    node = scope.node
    function = _scatter_function(scope)
    mapped = plan_parallel_map(replace(scope, node=_as_map(node), ident=function, connected=[], strict=False))
    if SHARD_START in {p.name for p in mapped.params}:
        raise WorkflowError(
            f"process_item() reads {SHARD_START!r}, the name under which each worker receives"
            " the index of its first item",
            location=node.location,
            node_id=node.node_id,
            hint="name that value differently in process_item() (and in the connection that gives it)",
        )
    params, _ = bind_names(scope, ["items"], "")
    return NodePlan(
        node=node,
        ident=scope.ident,
        params=tuple(p for p in params if p.name == "items"),
        shape=Shape.FANNED_OUT,
        pattern=PatternCall(
            "scatter_gather", (("worker_count", settings_of(node, ScatterGatherSettings).worker_count),), of=function
        ),
        preamble=mapped.preamble,
        function=mapped.function,
        modules=mapped.modules,
        imports=mapped.imports,
        module_names=mapped.module_names,
        functions=(function,),
    )


def plan_scatter_worker(scope: NodeScope) -> NodePlan:
    """``<worker> = <function>.process``: the worker gets its shard as ``items`` and the shard's
    first index in the input as ``start`` (so an item's error names its index in the input)."""
    node = scope.node
    start = [
        p
        for p in scope.connected
        if p.name == SHARD_START and p.from_node == settings_of(node, ScatterGatherSettings).scatter_id
    ]
    rest = [p for p in scope.connected if p not in start]
    mapped = plan_parallel_map(replace(scope, node=_as_map(node), connected=rest), warn=False)
    items = [p for p in mapped.params if p.name == "items"]
    params = [*items, *start, *(p for p in mapped.params if p.name != "items")]
    stage = PatternCall("scatter_gather_stage", (("stage", "process"),), of=_scatter_function(scope))
    return replace(_assigned(scope, stage, params), modules=mapped.modules)


def plan_gather(scope: NodeScope) -> NodePlan:
    stage = PatternCall("scatter_gather_stage", (("stage", "gather"),), of=_scatter_function(scope))
    return _assigned(scope, stage, list(scope.connected))


def _scatter_function(scope: NodeScope) -> str:
    return scope.scatter_functions[settings_of(scope.node, ScatterGatherSettings).worker_prefix]


def _as_map(node: NodeIR) -> NodeIR:
    return replace(node, kind="parallel_map", settings={"input_field": "items", "output_field": "results"})


# -- shared ----------------------------------------------------------------------------------
def _assigned(scope: NodeScope, pattern: PatternCall, params: list[Param]) -> NodePlan:
    """A stage node whose callable the pattern makes: no code of its own."""
    return NodePlan(node=scope.node, ident=scope.ident, params=tuple(params), shape=Shape.ASSIGNED, pattern=pattern)


def _key_fields(template: str) -> list[str]:
    import string

    names: list[str] = []
    for _, field, _, _ in string.Formatter().parse(template):
        if field is not None:
            name = field.split(".", 1)[0].split("[", 1)[0]
            if name not in names:
                names.append(name)
    return names
