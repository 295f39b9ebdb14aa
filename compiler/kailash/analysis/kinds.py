"""The node kinds analysis knows: each kind's planner, in one table.

Adding a node kind means its planner here, its template in each target, and the builder
method that makes it.
"""

from __future__ import annotations

from dataclasses import dataclass

from .code_kinds import plan_code, plan_parallel_map
from .pattern_kinds import (
    plan_batch_processor,
    plan_cache_check,
    plan_cache_fetch,
    plan_cache_store,
    plan_circuit_breaker,
    plan_gather,
    plan_parallel_fetch,
    plan_rate_limited,
    plan_retry_with_backoff,
    plan_scatter,
    plan_scatter_worker,
    plan_timeout_fallback,
    plan_timeout_primary,
)
from .plan import KindPlanner
from .resource_kinds import plan_resource


@dataclass(frozen=True)
class Kind:
    plan: KindPlanner
    # A stage of a multi-node pattern: the setting holding its pattern's entry node id, whose
    # connections also bind the names the stage's code reads (a pattern is one step).
    entry_setting: str | None = None


KINDS: dict[str, Kind] = {
    "code": Kind(plan_code),
    "parallel_map": Kind(plan_parallel_map),
    "retry_with_backoff": Kind(plan_retry_with_backoff),
    "rate_limited": Kind(plan_rate_limited),
    "circuit_breaker": Kind(plan_circuit_breaker),
    "batch_processor": Kind(plan_batch_processor),
    "timeout_primary": Kind(plan_timeout_primary),
    "timeout_fallback": Kind(plan_timeout_fallback),
    "cache_check": Kind(plan_cache_check),
    "cache_fetch": Kind(plan_cache_fetch, entry_setting="check_id"),
    "cache_store": Kind(plan_cache_store),
    "parallel_fetch": Kind(plan_parallel_fetch),
    "scatter": Kind(plan_scatter),
    "scatter_worker": Kind(plan_scatter_worker, entry_setting="scatter_id"),
    "gather": Kind(plan_gather),
    "resource": Kind(plan_resource),
}
