"""Batch processing: the node function sees one batch as ``items`` and returns its results."""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable
from typing import Any

from ._calls import check_number
from ._observe import current

NodeFunction = Callable[..., Awaitable[Any]]


def batch_processor(*, batch_size: int = 100, flush_interval: float = 5.0) -> Callable[[NodeFunction], NodeFunction]:
    """Call the decorated function once per batch of at most ``batch_size`` items.

    ``items`` is a list (cut into consecutive batches) or an async iterable, whose batch is
    also flushed when ``flush_interval`` seconds passed since its first item arrived. The
    function returns the batch's results (``batch_results`` in the code block); the output
    is ``{"processed_count", "results", "batch_count", "flush_reasons"}``.
    """
    check_number("batch_size", batch_size, integer=True, positive=True)
    check_number("flush_interval", flush_interval, positive=True)

    def decorate(fn: NodeFunction) -> NodeFunction:
        @functools.wraps(fn)
        async def node(*, items: Any, **extras: Any) -> dict[str, Any]:
            results: list[Any] = []
            reasons: list[str] = []
            scope = current()
            counter = None
            if scope is not None:
                counter = scope.item_counter(len(items) if isinstance(items, (list, tuple)) else None, 1)

            async def flush(batch: list[Any], reason: str) -> None:
                if counter is None:
                    output = await fn(items=batch, **extras)
                else:
                    started = time.perf_counter()
                    try:
                        output = await fn(items=batch, **extras)
                    except Exception as exc:
                        counter.batch(len(batch), len(reasons) + 1, started, exc)
                        raise
                    counter.batch(len(batch), len(reasons) + 1, started, None)
                if isinstance(output, (list, tuple)):
                    results.extend(output)
                elif output is not None:
                    results.append(output)
                reasons.append(reason)

            try:
                if isinstance(items, (list, tuple)):
                    for start in range(0, len(items), batch_size):
                        end = start + batch_size
                        await flush(list(items[start:end]), "batch_full" if end <= len(items) else "end")
                elif isinstance(items, AsyncIterable):
                    async for batch, reason in _timed_batches(items, batch_size, flush_interval):
                        await flush(batch, reason)
                else:
                    raise TypeError(f"items must be a list, tuple or async iterable, not {type(items).__name__}")
            finally:
                if counter is not None:
                    counter.finish()
            return {
                "processed_count": len(results),
                "results": results,
                "batch_count": len(reasons),
                "flush_reasons": reasons,
            }

        node.kailash_patterns = ("batch_processor",)  # type: ignore[attr-defined]
        return node

    return decorate


async def _timed_batches(items: AsyncIterable[Any], size: int, interval: float) -> AsyncIterator[tuple[list[Any], str]]:
    """Batches of an async iterable: full ones, ones whose interval ran out, and the last one."""
    iterator = aiter(items)
    batch: list[Any] = []
    deadline = 0.0
    pending: asyncio.Future[Any] | None = None
    try:
        while True:
            if pending is None:
                pending = asyncio.ensure_future(_next(iterator))
            if batch:
                done, _ = await asyncio.wait({pending}, timeout=max(0.0, deadline - time.monotonic()))
                if not done:  # the interval ran out before the next item came
                    yield batch, "time_based"
                    batch = []
                    continue
            try:
                item = await pending
            except StopAsyncIteration:
                pending = None
                break
            pending = None
            if not batch:
                deadline = time.monotonic() + interval
            batch.append(item)
            if len(batch) >= size:
                yield batch, "batch_full"
                batch = []
        if batch:
            yield batch, "end"
    finally:
        if pending is not None:
            pending.cancel()


async def _next(iterator: AsyncIterator[Any]) -> Any:
    return await anext(iterator)
