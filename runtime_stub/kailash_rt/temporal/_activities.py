"""The worker side: one Temporal activity per node, running the node's function.

A node's activity receives what ``run()`` passes the node (its inputs, with each resource as
a name), creates the resources in the worker process on first use, and runs the node's
function while it heartbeats. A failure the node's policies did not turn into an output is a
non-retryable ``ApplicationError`` whose type is the exception's class name, so the workflow
records the same ``"ExcType: message"`` as the asyncio target; only a lost worker (a missed
heartbeat) or the backstop timeout makes Temporal run the activity again.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from temporalio import activity as sdk_activity
from temporalio.common import RetryPolicy
from temporalio.exceptions import ApplicationError

from .._calls import check_number, describe, keyword_picker
from .._json_output import jsonable
from .._node import Fallback, Retry, node
from .._parallel import ItemMapper
from .._parallel import parallel_map as rt_parallel_map
from .._resilience import TimeoutWithFallback
from .._resources import Resources, SharedResources
from .._run import Deferred, SplitFailure, resolved

NodeFunction = Callable[..., Awaitable[Any]]

HEARTBEAT_EVERY = 1.0  # seconds between heartbeats of a running activity
HEARTBEAT_TIMEOUT = timedelta(seconds=5)  # a worker silent this long is taken for dead
BACKSTOP_MARGIN = 10.0  # seconds the server waits past a node's own timeout before it gives up
NO_TIMEOUT_BACKSTOP = timedelta(hours=24)  # start_to_close of a node without a timeout
WORKER_LOSS_ATTEMPTS = 10  # attempts of an activity whose worker was lost (no heartbeat)
# Most activities one parallel map starts (or its max_workers, if larger): above it each maps a
# consecutive slice of the items. bench/bench_temporal_fanout.py: 1,000 items of 20 ms, 10 workers
# of the map, ran in 0.44x the time of one activity an item, with 0.12x the history events.
FANOUT_LIMIT = 100
# Temporal refuses a payload over 2 MiB; a little is kept for the rest of the message.
PAYLOAD_LIMIT = 2 * 1024 * 1024 - 4 * 1024


@dataclass(frozen=True)
class Retries:
    """A node's retries as Temporal makes them: ``attempts`` in all, the first wait ``initial``
    seconds, each next one ``backoff`` times longer, at most ``maximum``; only exceptions of
    ``retry_on`` are retried. Temporal waits at least 1 s between attempts and adds no jitter.
    ``records``: the output gains ``attempts`` and ``total_attempts`` (``retry_with_backoff``),
    and a failure after the last attempt is ``RetriesExhausted``."""

    attempts: int
    initial: float
    backoff: float
    maximum: float | None
    retry_on: tuple[type[BaseException], ...]
    records: bool = False

    def policy(self) -> RetryPolicy:
        floor = 1.0  # Temporal's shortest retry interval
        initial = max(floor, self.initial)
        return RetryPolicy(
            initial_interval=timedelta(seconds=initial),
            backoff_coefficient=max(1.0, self.backoff),
            maximum_interval=None if self.maximum is None else timedelta(seconds=max(initial, self.maximum)),
            maximum_attempts=self.attempts,
        )


def retry_with_backoff(
    *,
    max_retries: int = 3,
    initial_backoff: float = 1.0,
    backoff_factor: float = 2.0,
    max_backoff: float = 60.0,
    retry_on: tuple[type[BaseException], ...] = (Exception,),
) -> Retries:
    """``rt.retry_with_backoff``'s settings as Temporal retries (see ``Retries``)."""
    return Retries(max_retries + 1, initial_backoff, backoff_factor, max_backoff, retry_on, records=True)


class NodeActivity:
    """A node as Temporal runs it, named by its node id."""

    node_id: str

    def definitions(self, nodes: Nodes) -> list[Callable[..., Any]]:
        """The ``@activity.defn`` functions a worker registers for this node."""
        raise NotImplementedError

    def functions(self) -> list[Callable[..., Any]]:
        """The functions this node runs (to tell which node a function belongs to)."""
        raise NotImplementedError


@dataclass(frozen=True, kw_only=True)
class Activity(NodeActivity):
    """A node that runs as one activity: ``@rtt.activity(node_id, ...)`` on its function.

    ``timeout`` and ``max_concurrent_tasks`` are enforced inside the activity (the server's
    ``start_to_close_timeout`` is the timeout plus a margin, a backstop for a stuck worker);
    ``retry`` becomes Temporal's RetryPolicy; ``on_error``'s value is what the workflow outputs
    when the activity fails for good.
    """

    node_id: str
    fn: NodeFunction
    timeout: float | None = None
    max_concurrent_tasks: int | None = None
    retry: Retry | Retries | None = None
    on_error: Fallback | None = None
    runs: NodeFunction = field(init=False, repr=False)  # fn under its in-activity policies

    def __post_init__(self) -> None:
        limited = node(timeout=self.timeout, max_concurrent_tasks=self.max_concurrent_tasks)(self.fn)
        object.__setattr__(self, "runs", limited)
        for name in ("__module__", "__name__", "__qualname__", "__doc__"):  # as functools.wraps does
            if hasattr(self.fn, name):
                object.__setattr__(self, name, getattr(self.fn, name))
        object.__setattr__(self, "__wrapped__", self.fn)

    async def __call__(self, **kwargs: Any) -> Any:
        """The node's function under its timeout and concurrency limit, as its activity runs it."""
        return await self.runs(**kwargs)

    def __getattr__(self, name: str) -> Any:
        # What the function offers (a timeout_with_fallback primary's ``.fallback``).
        if name.startswith("__") or name == "fn":
            raise AttributeError(name)
        return getattr(self.fn, name)

    @property
    def start_to_close(self) -> timedelta:
        if self.timeout is None:
            return NO_TIMEOUT_BACKSTOP
        return timedelta(seconds=self.timeout + BACKSTOP_MARGIN)

    @property
    def retries(self) -> Retries | None:
        retry = self.retry
        if isinstance(retry, Retry):
            return Retries(retry.attempts, retry.delay, retry.backoff, retry.max_delay, retry.retry_on)
        return retry

    def definitions(self, nodes: Nodes) -> list[Callable[..., Any]]:
        return [_define(nodes, self)]

    def functions(self) -> list[Callable[..., Any]]:
        return [self.fn]


def activity(
    node_id: str,
    *,
    timeout: float | None = None,
    max_concurrent_tasks: int | None = None,
    retry: Retry | Retries | None = None,
    on_error: Fallback | None = None,
) -> Callable[[NodeFunction], Activity]:
    """Declare a node function the activity of node ``node_id``, under the node's policies."""

    def decorate(fn: NodeFunction) -> Activity:
        return Activity(
            node_id=node_id,
            fn=fn,
            timeout=timeout,
            max_concurrent_tasks=max_concurrent_tasks,
            retry=retry,
            on_error=on_error,
        )

    return decorate


@dataclass(frozen=True, kw_only=True)
class ParallelMap(NodeActivity):
    """A parallel map the workflow runs: its items are activities of their own, at most
    ``max_workers`` at a time, on whichever workers poll the queue. Above ``FANOUT_LIMIT`` items
    (or ``max_workers``, if larger), each activity maps a consecutive slice of them, so a run has
    fewer round trips and its history stays far below Temporal's limits. ``process_item`` is the
    function applied to each item."""

    node_id: str
    process_item: Callable[..., Any]
    input_field: str = "items"
    output_field: str = "results"
    max_workers: int = 10
    batch_size: int | None = None
    timeout_per_item: float | None = None
    continue_on_error: bool = False

    def definitions(self, nodes: Nodes) -> list[Callable[..., Any]]:
        return [_define_items(nodes, self)]

    def functions(self) -> list[Callable[..., Any]]:
        return [self.process_item]


def parallel_map(
    node_id: str,
    *,
    input_field: str = "items",
    output_field: str = "results",
    max_workers: int = 10,
    batch_size: int | None = None,
    timeout_per_item: float | None = None,
    continue_on_error: bool = False,
) -> Callable[[Callable[..., Any]], ParallelMap]:
    """``rt.parallel_map`` with its items fanned out by the workflow (see ``ParallelMap``)."""
    rt_parallel_map(
        input_field=input_field,
        output_field=output_field,
        max_workers=max_workers,
        batch_size=batch_size,
        timeout_per_item=timeout_per_item,
        continue_on_error=continue_on_error,
    )  # checks the settings as the asyncio target does

    def decorate(fn: Callable[..., Any]) -> ParallelMap:
        return ParallelMap(
            node_id=node_id,
            process_item=fn,
            input_field=input_field,
            output_field=output_field,
            max_workers=max_workers,
            batch_size=batch_size,
            timeout_per_item=timeout_per_item,
            continue_on_error=continue_on_error,
        )

    return decorate


class WithFallback(TimeoutWithFallback, NodeActivity):
    """A ``timeout_with_fallback`` primary the workflow runs: the primary function as an
    activity (its timeout enforced there) and, when it fails, the fallback function as another.
    ``@<primary>.fallback`` marks the fallback, as on asyncio; the fallback node outputs the
    primary node's answer."""

    def __init__(self, node_id: str, primary: NodeFunction, timeout_seconds: float) -> None:
        super().__init__(primary, timeout_seconds)
        self.node_id = node_id

    def definitions(self, nodes: Nodes) -> list[Callable[..., Any]]:
        primary = _define_call(nodes, self.node_id, "primary", self.primary, self.timeout_seconds)
        if self._fallback is None:
            return [primary]
        return [primary, _define_call(nodes, self.node_id, "fallback", self._fallback, None)]

    def functions(self) -> list[Callable[..., Any]]:
        return [self.primary]


def timeout_with_fallback(node_id: str, *, timeout_seconds: float = 5.0) -> Callable[[NodeFunction], WithFallback]:
    """``rt.timeout_with_fallback`` run by the workflow (see ``WithFallback``)."""
    check_number("timeout_seconds", timeout_seconds, positive=True)

    def decorate(fn: NodeFunction) -> WithFallback:
        return WithFallback(node_id, fn, timeout_seconds)

    return decorate


@dataclass(frozen=True, kw_only=True)
class ParallelFetch(NodeActivity):
    """A parallel fetch the workflow runs: each named operation an activity of its own, all at
    once, each with its own timeout (enforced in the activity)."""

    node_id: str
    operations: Mapping[str, NodeFunction]
    timeout_per_operation: float = 10.0
    continue_on_error: bool = True

    def definitions(self, nodes: Nodes) -> list[Callable[..., Any]]:
        return [
            _define_call(nodes, self.node_id, name, fn, self.timeout_per_operation)
            for name, fn in self.operations.items()
        ]

    def functions(self) -> list[Callable[..., Any]]:
        return list(self.operations.values())


def parallel_fetch(
    node_id: str,
    operations: Mapping[str, NodeFunction],
    *,
    timeout_per_operation: float = 10.0,
    continue_on_error: bool = True,
) -> ParallelFetch:
    """``rt.parallel_fetch`` run by the workflow (see ``ParallelFetch``)."""
    check_number("timeout_per_operation", timeout_per_operation, positive=True)
    return ParallelFetch(
        node_id=node_id,
        operations=dict(operations),
        timeout_per_operation=timeout_per_operation,
        continue_on_error=continue_on_error,
    )


@dataclass
class Nodes:
    """The node activities of one workflow, and the resources they share in a worker."""

    workflow: str
    declared: Sequence[NodeActivity]
    resources: Resources | None = None
    activities: dict[str, NodeActivity] = field(init=False)
    _shared: SharedResources | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        self.activities = {entry.node_id: entry for entry in self.declared}

    def activity_name(self, node_id: str) -> str:
        return f"{self.workflow}.{node_id}"

    def items_activity_name(self, node_id: str) -> str:
        return f"{self.workflow}.{node_id}.items"

    def part_activity_name(self, node_id: str, part: str) -> str:
        """The activity of one function of a node the workflow runs in parts (an operation, a fallback)."""
        return f"{self.workflow}.{node_id}.{part}"

    def definitions(self) -> list[Callable[..., Any]]:
        """The ``@activity.defn`` functions a worker registers: one per node (a parallel map's
        is the activity of a slice of its items; the workflow-run patterns' one per part)."""
        return [fn for entry in self.activities.values() for fn in entry.definitions(self)]

    def shared(self) -> SharedResources:
        """The worker's resources: created on first use by any activity, closed by ``aclose``."""
        if self._shared is None:
            self._shared = SharedResources(self.resources or Resources())
        return self._shared

    async def aclose(self) -> None:
        if self._shared is not None:
            shared, self._shared = self._shared, None
            await shared.aclose()

    def node_of(self, fn: Callable[..., Any]) -> str | None:
        """The id of the node whose function is ``fn`` (or wraps it)."""
        for node_id, entry in self.activities.items():
            for own in entry.functions():
                step: Callable[..., Any] | None = own
                while step is not None:
                    if step is fn:
                        return node_id
                    step = getattr(step, "__wrapped__", None)
        return None


def _define(nodes: Nodes, entry: Activity) -> Callable[..., Any]:
    node_id = entry.node_id
    fn = entry.runs
    retries = entry.retries

    async def run_node(call: dict[str, Any]) -> Any:
        kwargs = await _arguments(nodes, call)
        attempt = sdk_activity.info().attempt
        records = _earlier_attempts(retries)
        started = time.monotonic()
        async with _heartbeating(records):
            try:
                output = await fn(**kwargs)
            except Exception as exc:
                raise _attempt_failed(nodes, exc, retries, attempt, records, time.monotonic() - started) from exc
        if retries is not None and retries.records:
            records.append({"attempt": attempt, "success": True, "duration": time.monotonic() - started})
            extra = {"attempts": records, "total_attempts": attempt}
            output = extra if output is None else _with_attempts(output, extra)
        return _checked_payload(node_id, jsonable(output))

    run_node.__name__ = run_node.__qualname__ = f"node_{getattr(entry.fn, '__name__', 'activity')}"
    return sdk_activity.defn(name=nodes.activity_name(node_id))(run_node)


def _with_attempts(output: Any, extra: dict[str, Any]) -> Any:
    """``retry_with_backoff``'s output: a dict gains ``extra``'s keys, anything else is ``value``."""
    return {**output, **extra} if isinstance(output, dict) else {"value": output, **extra}


def _define_items(nodes: Nodes, entry: ParallelMap) -> Callable[..., Any]:
    node_id = entry.node_id
    process_item = entry.process_item
    # One item at a time in a slice: the workflow keeps max_workers slices running at once.
    mapper = ItemMapper(process_item, 1, None, entry.timeout_per_item, True)

    async def run_items(call: dict[str, Any]) -> Any:
        extras = await _arguments(nodes, call)
        async with _heartbeating([]):
            output = await mapper.run(call["items"], extras, entry.output_field, start=call["start"])
        return _checked_payload(node_id, jsonable(output))

    run_items.__name__ = run_items.__qualname__ = f"items_{getattr(process_item, '__name__', 'activity')}"
    return sdk_activity.defn(name=nodes.items_activity_name(node_id))(run_items)


def _define_call(nodes: Nodes, node_id: str, part: str, fn: NodeFunction, timeout: float | None) -> Callable[..., Any]:
    """The activity of one function of a node: it gets the arguments it names, within ``timeout``."""
    pick = keyword_picker(fn)

    async def run_part(call: dict[str, Any]) -> Any:
        kwargs = await resolved(pick(await _arguments(nodes, call)))
        deadline = asyncio.timeout(timeout)
        async with _heartbeating([]):
            try:
                async with deadline:
                    output = await fn(**kwargs)
            except Exception as exc:
                if deadline.expired():
                    raise ApplicationError(
                        f"timed out after {timeout}s", type="TimeoutError", non_retryable=True
                    ) from exc
                raise _failure(nodes, exc) from exc
        return _checked_payload(node_id, jsonable(output))

    run_part.__name__ = run_part.__qualname__ = f"part_{getattr(fn, '__name__', 'activity')}"
    return sdk_activity.defn(name=nodes.part_activity_name(node_id, part))(run_part)


@contextlib.asynccontextmanager
async def _heartbeating(records: list[dict[str, Any]]) -> AsyncIterator[None]:
    beating = asyncio.get_running_loop().create_task(_heartbeat(records))
    try:
        yield
    finally:
        beating.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await beating


def _earlier_attempts(retries: Retries | None) -> list[dict[str, Any]]:
    """The attempt records of the attempts before this one, which each failed attempt left as
    its last heartbeat's details."""
    if retries is None or not retries.records:
        return []
    details = sdk_activity.info().heartbeat_details
    if details and isinstance(details[0], list):
        return list(details[0])
    return []


async def _arguments(nodes: Nodes, call: dict[str, Any]) -> dict[str, Any]:
    kwargs = dict(call.get("kwargs", {}))
    shared = nodes.shared()
    for param, (name, deferred) in call.get("resources", {}).items():
        kwargs[param] = Deferred(functools.partial(shared.get, name)) if deferred else await shared.get(name)
    for param in call.get("get_resource", ()):
        kwargs[param] = shared.get
    return kwargs


async def _heartbeat(records: list[dict[str, Any]]) -> None:
    """Tell the server the worker is alive, so a dead worker's activity is retried within seconds."""
    while True:
        sdk_activity.heartbeat(records)
        await asyncio.sleep(HEARTBEAT_EVERY)


def _failure(nodes: Nodes, exc: Exception, retried: bool = False) -> ApplicationError:
    """The node's error as Temporal's failure, retryable only when ``retried``; a split
    failure names the dependents' errors."""
    details: list[Any] = []
    own: BaseException = exc
    if isinstance(exc, SplitFailure):
        own = exc.own
        dependents = {}
        for fn, error in exc.dependents.items():
            node_id = nodes.node_of(fn)
            if node_id is not None:
                dependents[node_id] = [type(error).__name__, str(error)]
        details.append({"dependents": dependents})
    return ApplicationError(str(own), *details, type=type(own).__name__, non_retryable=not retried)


def _attempt_failed(
    nodes: Nodes, exc: Exception, retries: Retries | None, attempt: int, records: list[dict[str, Any]], duration: float
) -> ApplicationError:
    """A failed attempt: retried if its retries say so. With attempt records, the record is
    left in a heartbeat for the next attempt, and the last attempt ends in RetriesExhausted."""
    retried = retries is not None and isinstance(exc, retries.retry_on)
    if retries is not None and retried and retries.records:
        failed = {"attempt": attempt, "success": False, "error": str(exc), "error_type": type(exc).__name__}
        records.append({**failed, "duration": duration})
        if attempt >= retries.attempts:
            message = f"failed after {attempt} attempts: {describe(exc)}"
            return ApplicationError(message, type="RetriesExhausted", non_retryable=True)
        sdk_activity.heartbeat(records)  # the next attempt reads them
    return _failure(nodes, exc, retried)


def _checked_payload(node_id: str, output: Any) -> Any:
    size = sum(payload.ByteSize() for payload in sdk_activity.payload_converter().to_payloads([output]))
    if size > PAYLOAD_LIMIT:
        raise ApplicationError(
            f"the output of node {node_id!r} is {size} bytes, over Temporal's payload limit of"
            f" {PAYLOAD_LIMIT} bytes; return a reference (a key, a path, a URL) to the data instead",
            type="PayloadTooLarge",
            non_retryable=True,
        )
    return output
