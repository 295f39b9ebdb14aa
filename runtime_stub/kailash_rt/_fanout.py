"""Fan-out patterns: scatter-gather over worker nodes, and parallel fetch of named operations."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from ._calls import check_number, describe, keyword_picker
from ._parallel import ItemMapper
from ._run import resolved

NodeFunction = Callable[..., Awaitable[Any]]


# -- scatter-gather -----------------------------------------------------------------------
class ScatterGather:
    """Three stages, each a node: ``.scatter`` splits ``items`` into ``worker_count`` shards
    (``shard_0``, ``shard_1``, ... and the index in ``items`` each begins at: ``start_0``,
    ``start_1``, ...), ``.process`` is a worker node: it processes one shard with
    ``process_item``, one item after another, and ``.gather`` joins the workers' results
    (``part_0``, ``part_1``, ...) in the original order."""

    kailash_patterns = ("scatter_gather",)

    def __init__(self, process_item: Callable[..., Any], worker_count: int) -> None:
        self.process_item = process_item
        self.worker_count = worker_count
        self._mapper = ItemMapper(process_item, 1, None, None, False)

    async def scatter(self, *, items: Any) -> dict[str, Any]:
        if not isinstance(items, (list, tuple)):
            raise TypeError(f"items must be a list or tuple of items, not {type(items).__name__}")
        size, extra = divmod(len(items), self.worker_count)
        shards: dict[str, Any] = {}
        starts: dict[str, int] = {}
        start = 0
        for index in range(self.worker_count):
            end = start + size + (1 if index < extra else 0)
            shards[f"shard_{index}"] = list(items[start:end])
            starts[f"start_{index}"] = start
            start = end
        return {**shards, **starts, "total": len(items), "worker_count": self.worker_count}

    async def process(self, *, items: Any, start: int | None = None, **extras: Any) -> dict[str, Any]:
        """A worker node: ``{"results", "statistics", "errors"}`` of its shard, which begins at
        index ``start`` of the scattered items (errors name items by that index)."""
        if not isinstance(items, (list, tuple)):
            raise TypeError(f"items must be a list or tuple of items, not {type(items).__name__}")
        return await self._mapper.run(items, extras, "results", start)

    async def gather(self, **parts: Any) -> dict[str, Any]:
        ordered = sorted(parts.items(), key=lambda part: int(part[0].rsplit("_", 1)[1]))
        results = [result for _, part in ordered for result in part]
        return {
            "results": results,
            "statistics": {"total": len(results), "workers": len(ordered), "per_worker": [len(p) for _, p in ordered]},
        }


def scatter_gather(*, worker_count: int = 4) -> Callable[[Callable[..., Any]], ScatterGather]:
    """Decorate ``process_item``: the scatter, worker and gather nodes are methods of the result."""
    check_number("worker_count", worker_count, integer=True, positive=True)

    def decorate(fn: Callable[..., Any]) -> ScatterGather:
        return ScatterGather(fn, worker_count)

    return decorate


# -- parallel fetch -----------------------------------------------------------------------
class FetchFailed(Exception):
    """Operations of a parallel fetch failed and the fetch does not continue on error."""


def parallel_fetch(
    operations: Mapping[str, NodeFunction], *, timeout_per_operation: float = 10.0, continue_on_error: bool = True
) -> NodeFunction:
    """A node running the named operations at once, each with its own timeout.

    Output: ``{"successful": {name: output}, "failed": {name: "ExcType: message"},
    "statistics": {...}}``. Without ``continue_on_error`` any failure fails the node.
    The node receives the inputs of all operations; each operation gets those it names.
    """
    check_number("timeout_per_operation", timeout_per_operation, positive=True)
    calls = [(name, fn, keyword_picker(fn)) for name, fn in operations.items()]
    names = list(operations)

    async def one(fn: NodeFunction, kwargs: dict[str, Any]) -> tuple[bool, Any]:
        deadline = asyncio.timeout(timeout_per_operation)
        try:
            async with deadline:
                return True, await fn(**await resolved(kwargs))
        except Exception as exc:
            if deadline.expired():
                return False, f"TimeoutError: timed out after {timeout_per_operation}s"
            return False, describe(exc)

    async def fetch(**kwargs: Any) -> dict[str, Any]:
        outcomes = await asyncio.gather(*(one(fn, pick(kwargs)) for _, fn, pick in calls))
        return fetch_output(names, outcomes, continue_on_error)

    fetch.operations = dict(operations)  # type: ignore[attr-defined]
    fetch.kailash_patterns = ("parallel_fetch",)  # type: ignore[attr-defined]
    return fetch


def fetch_output(names: list[str], outcomes: list[tuple[bool, Any]], continue_on_error: bool) -> dict[str, Any]:
    """A parallel fetch's output from each operation's (succeeded, value or error text), in the
    operations' order; FetchFailed when one failed and the fetch does not continue on error."""
    successful = {name: value for name, (ok, value) in zip(names, outcomes, strict=True) if ok}
    failed = {name: value for name, (ok, value) in zip(names, outcomes, strict=True) if not ok}
    if failed and not continue_on_error:
        details = ", ".join(f"{name} ({error})" for name, error in failed.items())
        raise FetchFailed(f"{len(failed)} of {len(names)} operations failed: {details}")
    return {
        "successful": successful,
        "failed": failed,
        "statistics": {
            "total_operations": len(names),
            "successful_count": len(successful),
            "failed_count": len(failed),
            "success_rate": len(successful) / len(names) if names else 0.0,
        },
    }
