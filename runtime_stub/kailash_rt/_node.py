"""The ``@node`` decorator: timeout, per-node concurrency limit, retry and fallback."""

from __future__ import annotations

import asyncio
import functools
import logging
import weakref
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

NodeFunction = Callable[..., Awaitable[Any]]

logger = logging.getLogger("kailash_rt")


@dataclass(frozen=True)
class Retry:
    """Try a node up to ``attempts`` times, waiting ``delay * backoff**n`` (capped) between."""

    attempts: int = 3
    delay: float = 1.0
    backoff: float = 2.0
    max_delay: float | None = None
    retry_on: tuple[type[BaseException], ...] = (Exception,)

    def wait_before(self, attempt: int) -> float:
        """Seconds to wait before attempt number ``attempt`` (2, 3, ...)."""
        try:
            wait = self.delay * self.backoff ** (attempt - 2)
        except OverflowError:
            wait = float("inf")
        return wait if self.max_delay is None else min(wait, self.max_delay)


@dataclass(frozen=True)
class Fallback:
    """On failure, log the error at ``log_level`` and output ``value`` instead."""

    value: Any
    log_level: str = "warning"


def node(
    *,
    timeout: float | None = None,
    max_concurrent_tasks: int | None = None,
    retry: Retry | None = None,
    on_error: Fallback | None = None,
) -> Callable[[NodeFunction], NodeFunction]:
    """Wrap a node function in the policies given; with none, the function is unchanged."""

    def decorate(fn: NodeFunction) -> NodeFunction:
        call = fn
        if timeout is not None:
            call = _with_timeout(call, timeout)
        if retry is not None:
            call = _with_retry(call, retry, fn.__name__)
        if max_concurrent_tasks is not None:
            call = _with_limit(call, max_concurrent_tasks)
        if on_error is not None:
            call = _with_fallback(call, on_error, fn.__name__)
        return call if call is fn else functools.wraps(fn)(call)

    return decorate


def _with_timeout(fn: NodeFunction, seconds: float) -> NodeFunction:
    async def call(**kwargs: Any) -> Any:
        deadline = asyncio.timeout(seconds)
        try:
            async with deadline:
                return await fn(**kwargs)
        except TimeoutError as exc:
            if not deadline.expired():
                raise  # the node's own TimeoutError, not the node's deadline
            raise TimeoutError(f"timed out after {seconds}s") from exc

    return call


def _with_retry(fn: NodeFunction, policy: Retry, name: str) -> NodeFunction:
    async def call(**kwargs: Any) -> Any:
        attempt = 1
        while True:
            try:
                return await fn(**kwargs)
            except policy.retry_on as exc:
                if attempt >= policy.attempts:
                    raise
                attempt += 1
                logger.debug("%s failed (%r); attempt %d follows", name, exc, attempt)
                await asyncio.sleep(policy.wait_before(attempt))

    return call


def _with_limit(fn: NodeFunction, limit: int) -> NodeFunction:
    semaphore = loop_local(lambda: asyncio.Semaphore(limit))

    async def call(**kwargs: Any) -> Any:
        async with semaphore():
            return await fn(**kwargs)

    return call


def _with_fallback(fn: NodeFunction, fallback: Fallback, name: str) -> NodeFunction:
    level = logging.getLevelName(fallback.log_level.upper())

    async def call(**kwargs: Any) -> Any:
        try:
            return await fn(**kwargs)
        except Exception as exc:
            logger.log(level, "%s failed (%s: %s); using its fallback value", name, type(exc).__name__, exc)
            import copy  # only when a fallback value is given out

            return copy.deepcopy(fallback.value)

    return call


def loop_local(make: Callable[[], Any]) -> Callable[[], Any]:
    """One object per event loop, made on first use: asyncio primitives must not cross loops."""
    per_loop: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Any] = weakref.WeakKeyDictionary()

    def get() -> Any:
        loop = asyncio.get_running_loop()
        value = per_loop.get(loop)
        if value is None:
            value = per_loop[loop] = make()
        return value

    return get
