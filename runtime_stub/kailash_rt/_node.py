"""The ``@node`` decorator: timeout, per-node concurrency limit, retry and fallback."""

from __future__ import annotations

import asyncio
import functools
import logging
import time
import weakref
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from ._observe import current, run_logger

NodeFunction = Callable[..., Awaitable[Any]]


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

    policies = tuple(
        name
        for name, setting in (
            ("timeout", timeout),
            ("retry", retry),
            ("max_concurrent_tasks", max_concurrent_tasks),
            ("fallback", on_error),
        )
        if setting is not None
    )

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
        if call is fn:
            return fn
        call = functools.wraps(fn)(call)
        call.kailash_patterns = policies  # type: ignore[attr-defined]
        return call

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
        scope = current()
        attempt = 1
        while True:
            started = time.perf_counter() if scope is not None else 0.0
            try:
                output = await fn(**kwargs)
            except BaseException as exc:  # as retry_on says: it may name any exception
                retried = isinstance(exc, policy.retry_on) and attempt < policy.attempts
                wait = policy.wait_before(attempt + 1) if retried else None
                if scope is not None and (retried or isinstance(exc, Exception)):
                    scope.attempt(attempt, started, exc, wait)
                if wait is None:
                    raise
                attempt += 1
                if scope is None:
                    run_logger().debug("%s failed (%r); attempt %d follows", name, exc, attempt)
                await asyncio.sleep(wait)
            else:
                if scope is not None:
                    scope.attempt(attempt, started, None, None)
                return output

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
            scope = current()
            if scope is not None:
                scope.fallback(exc, level)
            else:
                run_logger().log(level, "%s failed (%s: %s); using its fallback value", name, type(exc).__name__, exc)
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
