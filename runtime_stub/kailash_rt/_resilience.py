"""Resilience patterns: retry with backoff, rate limit, circuit breaker, timeout with fallback.

Each is a decorator over a node function with its settings as literal arguments. The
rate limiter and the circuit breaker keep their state for the process, shared by every
run of the node (and by every event loop: the state holds no asyncio primitive).
"""

from __future__ import annotations

import asyncio
import functools
import logging
import math
import random
import threading
import time
from collections.abc import Awaitable, Callable
from typing import Any

from ._calls import check_number, describe, keyword_picker, with_key
from ._observe import current
from ._run import SplitFailure, resolved

NodeFunction = Callable[..., Awaitable[Any]]


# -- retry with backoff -----------------------------------------------------------------
class RetriesExhausted(Exception):
    """Every attempt of a retried node failed; the last error is the cause."""


def retry_with_backoff(
    *,
    max_retries: int = 3,
    initial_backoff: float = 1.0,
    backoff_factor: float = 2.0,
    max_backoff: float = 60.0,
    retry_on: tuple[type[BaseException], ...] = (Exception,),
) -> Callable[[NodeFunction], NodeFunction]:
    """Retry up to ``max_retries`` times after the first attempt on the ``retry_on`` exceptions.

    Before retry ``n`` it waits ``min(max_backoff, initial_backoff * backoff_factor**(n-1))``
    scaled by a random factor in [0.5, 1] (jitter). Other exceptions fail at once. The
    output gains ``attempts`` (one record per attempt) and ``total_attempts``.
    """
    check_number("max_retries", max_retries, integer=True)
    check_number("initial_backoff", initial_backoff)
    check_number("backoff_factor", backoff_factor)
    check_number("max_backoff", max_backoff)

    def decorate(fn: NodeFunction) -> NodeFunction:
        @functools.wraps(fn)
        async def node(**kwargs: Any) -> Any:
            scope = current()
            attempts: list[dict[str, Any]] = []
            for attempt in range(1, max_retries + 2):
                started = time.monotonic()
                traced_start = time.perf_counter() if scope is not None else 0.0
                try:
                    output = await fn(**kwargs)
                except retry_on as exc:
                    attempts.append(
                        {
                            "attempt": attempt,
                            "success": False,
                            "error": str(exc),
                            "error_type": type(exc).__name__,
                            "duration": time.monotonic() - started,
                        }
                    )
                    if attempt > max_retries:
                        if scope is not None:
                            scope.attempt(attempt, traced_start, exc, None)
                        raise RetriesExhausted(f"failed after {attempt} attempts: {describe(exc)}") from exc
                    wait = backoff_delay(attempt, initial_backoff, backoff_factor, max_backoff)
                    if scope is not None:
                        scope.attempt(attempt, traced_start, exc, wait)
                    await asyncio.sleep(wait)
                except Exception as exc:  # not retried: this attempt was the last
                    if scope is not None:
                        scope.attempt(attempt, traced_start, exc, None)
                    raise
                else:
                    if scope is not None:
                        scope.attempt(attempt, traced_start, None, None)
                    attempts.append({"attempt": attempt, "success": True, "duration": time.monotonic() - started})
                    extra = {"attempts": attempts, "total_attempts": attempt}
                    if output is None:
                        return extra
                    return {**output, **extra} if isinstance(output, dict) else {"value": output, **extra}
            raise AssertionError("unreachable")

        node.kailash_patterns = ("retry_with_backoff",)  # type: ignore[attr-defined]
        return node

    return decorate


def backoff_delay(retry: int, initial: float, factor: float, cap: float) -> float:
    """Seconds to wait before retry number ``retry`` (1, 2, ...): capped exponential, jittered.

    Whether the cap is reached is decided on logarithms, so no number of retries overflows.
    """
    ceiling = _backoff_ceiling(retry - 1, initial, factor, cap)
    return random.uniform(ceiling / 2, ceiling)


def _backoff_ceiling(exponent: int, initial: float, factor: float, cap: float) -> float:
    """``min(cap, initial * factor**exponent)`` without computing a power that overflows."""
    if exponent <= 0 or factor <= 1:  # factor**exponent <= 1
        return min(cap, initial * factor ** max(exponent, 0))
    if initial <= 0 or cap <= 0:
        return 0.0
    growth = exponent * math.log(factor)  # log of factor**exponent
    if growth >= math.log(cap) - math.log(initial):
        return cap
    if growth < 700:  # factor**exponent < e**700, well inside the float range
        return min(cap, initial * factor**exponent)
    return min(cap, math.exp(math.log(initial) + growth))  # below cap, so finite


# -- rate limit -------------------------------------------------------------------------
class TokenBucket:
    """``rate`` tokens a second, at most ``burst`` at once; waiting callers are served in order.

    Kept as the time at which the bucket would be full again (a "virtual schedule"): taking a
    token moves it one interval later, and a caller waits while it lies more than ``burst``
    intervals ahead.
    """

    def __init__(self, rate: float, burst: int) -> None:
        self.rate = rate
        self.burst = burst
        self._interval = 1.0 / rate
        self._span = burst * self._interval
        self._full_at = -math.inf
        self._lock = threading.Lock()

    def reserve(self) -> float:
        """Take a token; the seconds to wait before using it."""
        with self._lock:
            now = time.monotonic()
            self._full_at = max(self._full_at, now) + self._interval
            return max(0.0, self._full_at - now - self._span)

    def tokens(self) -> float:
        """Tokens available now (a fraction while one is being refilled)."""
        ahead = max(0.0, self._full_at - time.monotonic())
        return max(0.0, (self._span - ahead) / self._interval)


def rate_limited(
    *, requests_per_second: float = 10, burst_size: int | None = None
) -> Callable[[NodeFunction], NodeFunction]:
    """Run the node at most ``requests_per_second`` times a second, ``burst_size`` at once.

    One token bucket per decorated function, shared by every run in the process.
    ``burst_size`` defaults to twice the rate. A dict output gains ``_rate_limit_info``.
    """
    check_number("requests_per_second", requests_per_second, positive=True)
    burst = burst_size if burst_size is not None else max(1, int(min(requests_per_second * 2, 2**62)))
    check_number("burst_size", burst, integer=True, positive=True)
    bucket = TokenBucket(requests_per_second, burst)

    def decorate(fn: NodeFunction) -> NodeFunction:
        @functools.wraps(fn)
        async def node(**kwargs: Any) -> Any:
            waited = bucket.reserve()
            if waited:
                scope = current()
                if scope is not None:
                    scope.rate_wait(waited)
                await asyncio.sleep(waited)
            started = time.monotonic()
            output = await fn(**kwargs)
            info = {
                "tokens_remaining": bucket.tokens(),
                "waited": waited,
                "requests_per_second": requests_per_second,
                "burst_size": burst,
                "operation_duration": time.monotonic() - started,
            }
            return with_key(output, "_rate_limit_info", info, wrap=False)

        node.bucket = bucket  # type: ignore[attr-defined]
        node.kailash_patterns = ("rate_limited",)  # type: ignore[attr-defined]
        return node

    return decorate


# -- circuit breaker --------------------------------------------------------------------
CLOSED, OPEN, HALF_OPEN = "closed", "open", "half_open"


class CircuitOpenError(RuntimeError):
    """The circuit breaker did not let the call run, or let it run as its probe and the probe
    failed. ``state`` is the breaker's state when the call came ("open", or "half_open": a
    probe call runs, or this call was the probe); ``retry_in`` is the seconds until the
    breaker lets a probe call through (None while a probe call runs)."""

    def __init__(self, message: str, *, state: str, retry_in: float | None) -> None:
        super().__init__(message)
        self.state = state
        self.retry_in = retry_in


class CircuitBreaker:
    """closed -> open after ``failure_threshold`` failures in a row; open -> half_open after
    ``reset_timeout`` seconds, when one probe call goes through: success closes, failure reopens."""

    def __init__(self, failure_threshold: int, reset_timeout: float) -> None:
        self.failure_threshold = failure_threshold
        self.reset_timeout = reset_timeout
        self.state = CLOSED
        self.failure_count = 0
        self.opened_at = 0.0
        self._probing = False
        self._lock = threading.Lock()

    def admit(self) -> bool:
        """Let a call through (True when it is the half-open breaker's probe), or raise CircuitOpenError."""
        with self._lock:
            if self.state == OPEN:
                remaining = self.opened_at + self.reset_timeout - time.monotonic()
                if remaining > 0:
                    raise CircuitOpenError(
                        f'circuit breaker state "open" after {self.failure_count} failures in a row,'
                        f" so the call did not run; it lets a probe call through in {_seconds(remaining)}",
                        state=OPEN,
                        retry_in=remaining,
                    )
                self.state = HALF_OPEN
            if self.state == HALF_OPEN:
                if self._probing:
                    raise CircuitOpenError(
                        'circuit breaker state "half_open" while its probe call runs, so the call did not run;'
                        " it closes if the probe succeeds, or reopens for"
                        f" {_seconds(self.reset_timeout)} if the probe fails",
                        state=HALF_OPEN,
                        retry_in=None,
                    )
                self._probing = True
                return True
            return False

    def succeeded(self) -> None:
        with self._lock:
            self.state, self.failure_count, self._probing = CLOSED, 0, False

    def failed(self) -> None:
        with self._lock:
            self.failure_count += 1
            if self.state == HALF_OPEN or self.failure_count >= self.failure_threshold:
                self.state, self.opened_at = OPEN, time.monotonic()
            self._probing = False

    def abandoned(self) -> None:
        """The call was cancelled: no verdict, a later call may probe."""
        with self._lock:
            self._probing = False


def _seconds(value: float) -> str:
    return f"{value:.1f}s" if value >= 1 else f"{value:.2g}s"


def circuit_breaker(
    *, failure_threshold: int = 5, reset_timeout: float = 60.0
) -> Callable[[NodeFunction], NodeFunction]:
    """Fail fast, without running the node, while the node keeps failing (state for the process).

    While the breaker is open, or half open with its probe call running, the node fails with
    ``CircuitOpenError`` naming the state and when a probe call goes through; a failed probe
    fails with ``CircuitOpenError`` too (state "half_open"), its error as the cause.
    A dict output gains ``_circuit_breaker_info``: ``state``, ``failure_count``, ``operation_duration``.
    """
    check_number("failure_threshold", failure_threshold, integer=True, positive=True)
    check_number("reset_timeout", reset_timeout)
    breaker = CircuitBreaker(failure_threshold, reset_timeout)

    def decorate(fn: NodeFunction) -> NodeFunction:
        @functools.wraps(fn)
        async def node(**kwargs: Any) -> Any:
            scope = current()
            before = breaker.state
            try:
                probing = breaker.admit()
            except CircuitOpenError:
                if scope is not None:
                    scope.breaker(before, breaker.state)
                raise
            started = time.monotonic()
            try:
                output = await fn(**kwargs)
            except Exception as exc:
                breaker.failed()
                if scope is not None:
                    scope.breaker(before, breaker.state)
                if probing:
                    raise CircuitOpenError(
                        f'circuit breaker state "half_open" and its probe call failed ({describe(exc)}),'
                        f' so it is "open" again; it lets a probe call through in {_seconds(reset_timeout)}',
                        state=HALF_OPEN,
                        retry_in=reset_timeout,
                    ) from exc
                raise
            except BaseException:
                breaker.abandoned()
                raise
            breaker.succeeded()
            if scope is not None:
                scope.breaker(before, breaker.state)
            info = {
                "state": breaker.state,
                "failure_count": breaker.failure_count,
                "operation_duration": time.monotonic() - started,
            }
            return with_key(output, "_circuit_breaker_info", info, wrap=False)

        node.breaker = breaker  # type: ignore[attr-defined]
        node.kailash_patterns = ("circuit_breaker",)  # type: ignore[attr-defined]
        return node

    return decorate


# -- timeout with fallback ------------------------------------------------------------------
class FallbackFailed(SplitFailure):
    """The primary failed and so did its fallback. In a run the primary node fails with
    ``primary_error`` and the fallback node with ``fallback_error``."""

    def __init__(
        self, primary_error: BaseException, fallback_error: BaseException, fallback_node: NodeFunction
    ) -> None:
        super().__init__(
            f"{describe(primary_error)}; its fallback failed too: {describe(fallback_error)}",
            primary_error,
            {fallback_node: fallback_error},
        )
        self.primary_error = primary_error
        self.fallback_error = fallback_error


class TimeoutWithFallback:
    """The primary node: runs the primary function with a timeout, the fallback when it fails.

    ``@primary.fallback`` marks the fallback function; the node it makes outputs the
    primary node's answer, so a node downstream of either id gets the same answer. When
    both fail, each node fails with its own error (see ``FallbackFailed``).
    """

    kailash_patterns = ("timeout_with_fallback",)

    def __init__(self, primary: NodeFunction, timeout_seconds: float) -> None:
        functools.update_wrapper(self, primary)
        self.primary = primary
        self.timeout_seconds = timeout_seconds
        self._primary_kwargs = keyword_picker(primary)
        self._fallback: NodeFunction | None = None
        self._fallback_kwargs: Callable[[dict[str, Any]], dict[str, Any]] = dict
        self._fallback_node: NodeFunction | None = None

    def fallback(self, fn: NodeFunction) -> NodeFunction:
        self._fallback = fn
        self._fallback_kwargs = keyword_picker(fn)

        async def answer_of_primary(*, answer: Any) -> Any:
            return answer

        answer_of_primary.__name__ = answer_of_primary.__qualname__ = fn.__name__
        answer_of_primary.runs = fn  # type: ignore[attr-defined]
        self._fallback_node = answer_of_primary
        return answer_of_primary

    async def __call__(self, **kwargs: Any) -> Any:
        deadline = asyncio.timeout(self.timeout_seconds)
        try:
            async with deadline:
                output = await self.primary(**await resolved(self._primary_kwargs(kwargs)))
        except Exception as exc:
            if self._fallback is None or self._fallback_node is None:
                raise
            primary_error: Exception = exc
            if deadline.expired():
                primary_error = TimeoutError(f"timed out after {self.timeout_seconds}s")
                primary_error.__cause__ = exc
            scope = current()
            if scope is not None:
                scope.fallback(primary_error, logging.INFO)
            try:
                output = await self._fallback(**await resolved(self._fallback_kwargs(kwargs)))
            except Exception as fallback_error:
                raise FallbackFailed(primary_error, fallback_error, self._fallback_node) from fallback_error
            answer = with_key(output, "_source", "fallback", wrap=True)
            answer["_primary_error"] = describe(primary_error)
            return answer
        return with_key(output, "_source", "primary", wrap=True)


def timeout_with_fallback(*, timeout_seconds: float = 5.0) -> Callable[[NodeFunction], TimeoutWithFallback]:
    """Decorate the primary function; decorate the fallback with ``@<primary>.fallback``."""
    check_number("timeout_seconds", timeout_seconds, positive=True)

    def decorate(fn: NodeFunction) -> TimeoutWithFallback:
        return TimeoutWithFallback(fn, timeout_seconds)

    return decorate
