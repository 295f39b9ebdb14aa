"""The workflow side: ``run()``'s orchestrator on Temporal's event loop, nodes as activities.

``Run`` is the asyncio target's ``kailash_rt.Run`` with one change: a node's function is
not called in the workflow but scheduled as the node's activity. Data flow, concurrency,
upstream-failed skipping and the ``{"results", "errors"}`` shape are the orchestrator's, so
both targets agree by construction. Workflow code does no I/O, reads no clock and draws no
random numbers: everything a node does happens in its activity.
"""

from __future__ import annotations

import asyncio
import copy
import logging
import math
from collections.abc import Iterator, Mapping
from datetime import timedelta
from types import TracebackType
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError, FailureError

from .. import _run
from .._calls import describe, with_key
from .._fanout import fetch_output
from .._parallel import ItemFailed
from ._activities import (
    BACKSTOP_MARGIN,
    FANOUT_LIMIT,
    HEARTBEAT_TIMEOUT,
    NO_TIMEOUT_BACKSTOP,
    WORKER_LOSS_ATTEMPTS,
    Activity,
    NodeActivity,
    Nodes,
    ParallelFetch,
    ParallelMap,
    WithFallback,
)

# Only a lost worker or the backstop timeout is retried: a node's own failures are non-retryable.
WORKER_LOSS_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1), backoff_coefficient=2.0, maximum_attempts=WORKER_LOSS_ATTEMPTS
)

_error_classes: dict[str, type[Exception]] = {}


def error_class(name: str) -> type[Exception]:
    """An exception class named ``name``: a node's error as the workflow records it
    (``"ExcType: message"``), without the worker's class, which the workflow cannot import."""
    found = _error_classes.get(name)
    if found is None:
        found = _error_classes[name] = type(name, (Exception,), {"__module__": __name__})
    return found


class _Resource:
    """A resource a node receives: created in the worker that runs the node's activity."""

    __slots__ = ("deferred", "name")

    def __init__(self, name: str, deferred: bool) -> None:
        self.name = name
        self.deferred = deferred


class _GetResource:
    """``r.get_resource`` passed to a node whose code calls ``get_resource``: the worker's."""


class Run(_run.Run):
    """One workflow run: ``async with Run(workflow, inputs, NODES) as r: r.node(...)``."""

    get_resource = _GetResource()  # type: ignore[assignment]

    def __init__(self, workflow: str, inputs: Mapping[str, Any] | None, nodes: Nodes) -> None:
        super().__init__(workflow, inputs)
        self.activities = nodes
        self._declared: dict[str, Any] = {}  # node id -> the function or activity registered
        self._registered: dict[str, Any] = {}  # node id -> what the orchestrator calls

    def node(self, node_id: str, fn: _run.NodeFunction, /, **kwargs: Any) -> _run.Output:
        """Register a node: ``fn`` is its activity (``@rtt.activity`` and the patterns the workflow
        runs), or the fallback node of a ``timeout_with_fallback``, which outputs its primary's
        answer right here."""
        if isinstance(fn, NodeActivity):
            call: Any = ActivityCall(self, node_id, fn)
        elif getattr(fn, "runs", None) is not None:  # @<primary>.fallback's answer
            call = fn
        else:
            raise TypeError(f"node {node_id!r} is no activity: declare its function with @rtt.activity")
        self._declared[node_id] = fn
        self._registered[node_id] = call
        return super().node(node_id, call, **kwargs)

    def resource(self, name: str, *, deferred: bool = False) -> Any:
        return _Resource(name, deferred)

    def call_of(self, node_id: str) -> Any:
        """What runs node ``node_id`` (to fail it with its own error)."""
        return self._registered.get(node_id)

    def node_of(self, fn: object) -> str | None:
        """The id of the node registered with ``fn`` (or with an activity of ``fn``)."""
        for node_id, declared in self._declared.items():
            if declared is fn or (isinstance(declared, Activity) and declared.fn is fn):
                return node_id
        return None

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            await super().__aexit__(exc_type, exc, tb)
        except _run.InputError as refused:  # fails the workflow, not (forever) its workflow task
            raise ApplicationError(str(refused), type="InputError", non_retryable=True) from None


class ActivityCall:
    """A node of the workflow: calling it runs the node's activity and returns its output."""

    def __init__(self, run: Run, node_id: str, entry: NodeActivity) -> None:
        self.run = run
        self.node_id = node_id
        self.entry = entry
        self.__name__ = node_id

    async def __call__(self, **kwargs: Any) -> Any:
        nodes = self.run.activities
        entry = self.entry
        if isinstance(entry, ParallelMap):
            return await self._map(entry, dict(kwargs))
        if isinstance(entry, WithFallback):
            return await self._with_fallback(entry, kwargs)
        if isinstance(entry, ParallelFetch):
            return await self._fetch(entry, kwargs)
        assert isinstance(entry, Activity)
        retries = entry.retries
        try:
            return await workflow.execute_activity(
                nodes.activity_name(self.node_id),
                _activity_input(kwargs),
                start_to_close_timeout=entry.start_to_close,
                heartbeat_timeout=HEARTBEAT_TIMEOUT,
                retry_policy=WORKER_LOSS_RETRY if retries is None else retries.policy(),
            )
        except ActivityError as failed:
            error = self._node_error(failed)
            if entry.on_error is None:
                raise error from None
            level = logging.getLevelName(entry.on_error.log_level.upper())
            workflow.logger.log(level, "%s failed (%s: %s); using its fallback value", self.node_id, *_shown(error))
            return copy.deepcopy(entry.on_error.value)

    async def _part(self, part: str, kwargs: Mapping[str, Any], timeout: float | None) -> Any:
        """Run one function of the node (an operation, a primary, a fallback) as its activity."""
        backstop = NO_TIMEOUT_BACKSTOP if timeout is None else timedelta(seconds=timeout + BACKSTOP_MARGIN)
        try:
            return await workflow.execute_activity(
                self.run.activities.part_activity_name(self.node_id, part),
                _activity_input(kwargs),
                start_to_close_timeout=backstop,
                heartbeat_timeout=HEARTBEAT_TIMEOUT,
                retry_policy=WORKER_LOSS_RETRY,
            )
        except ActivityError as failed:
            raise self._node_error(failed) from None

    async def _with_fallback(self, entry: WithFallback, kwargs: Mapping[str, Any]) -> Any:
        """timeout_with_fallback in the workflow: the primary, and the fallback if it fails; when
        both fail, this node fails with the primary's error and the fallback node with its own."""
        pattern = entry
        try:
            output = await self._part("primary", kwargs, pattern.timeout_seconds)
        except Exception as primary_error:
            fallback_node = self.run.node_of(pattern._fallback_node)
            if pattern._fallback is None or fallback_node is None:
                raise
            try:
                output = await self._part("fallback", kwargs, None)
            except Exception as fallback_error:
                dependents: dict[Any, BaseException] = {}
                call = self.run.call_of(fallback_node)
                if call is not None:
                    dependents[call] = fallback_error
                message = f"{describe(primary_error)}; its fallback failed too: {describe(fallback_error)}"
                raise _run.SplitFailure(message, primary_error, dependents) from None
            answer = with_key(output, "_source", "fallback", wrap=True)
            answer["_primary_error"] = describe(primary_error)
            return answer
        return with_key(output, "_source", "primary", wrap=True)

    async def _fetch(self, entry: ParallelFetch, kwargs: Mapping[str, Any]) -> dict[str, Any]:
        """parallel_fetch in the workflow: every operation at once, each as its activity."""
        names = list(entry.operations)

        async def one(name: str) -> tuple[bool, Any]:
            try:
                return True, await self._part(name, kwargs, entry.timeout_per_operation)
            except Exception as exc:
                return False, describe(exc)

        outcomes = await asyncio.gather(*(one(name) for name in names))
        return fetch_output(names, outcomes, entry.continue_on_error)

    async def _map(self, entry: ParallelMap, kwargs: dict[str, Any]) -> dict[str, Any]:
        """The parallel map in the workflow: slices of items as activities, at most
        ``max_workers`` running, batch after batch; the output the asyncio target's map gives."""
        name = getattr(entry.process_item, "__name__", self.node_id)
        try:
            items = kwargs.pop(entry.input_field)
        except KeyError:
            raise TypeError(f"{name}() needs the items to map as {entry.input_field}=[...]") from None
        if not isinstance(items, (list, tuple)):
            raise TypeError(f"{entry.input_field} must be a list or tuple of items, not {type(items).__name__}")
        started = workflow.time()
        total = len(items)
        # Never fewer slices than max_workers: the map runs as many items at once as on asyncio.
        per_slice = max(1, math.ceil(total / max(FANOUT_LIMIT, entry.max_workers)))
        slices = [(low, list(items[low : low + per_slice])) for low in range(0, total, per_slice)]
        outputs: list[dict[str, Any] | None] = [None] * len(slices)
        base = _activity_input(kwargs)
        nodes = self.run.activities

        async def work(queue: Iterator[int]) -> None:
            for k in queue:
                low, part = slices[k]
                try:
                    output = await workflow.execute_activity(
                        nodes.items_activity_name(self.node_id),
                        {**base, "items": part, "start": low},
                        start_to_close_timeout=NO_TIMEOUT_BACKSTOP,
                        heartbeat_timeout=HEARTBEAT_TIMEOUT,
                        retry_policy=WORKER_LOSS_RETRY,
                    )
                except ActivityError as failed:
                    raise self._node_error(failed) from None
                outputs[k] = output
                if output["errors"] and not entry.continue_on_error:
                    first = output["errors"][0]
                    raise ItemFailed(
                        f"item {first['index']} of {total} failed: {first['error_type']}: {first['error']}"
                    )

        step = max(1, (entry.batch_size or total or 1) // per_slice)
        for first_slice in range(0, len(slices), step):
            queue = iter(range(first_slice, min(first_slice + step, len(slices))))
            workers = min(entry.max_workers, step, len(slices) - first_slice)
            try:
                async with asyncio.TaskGroup() as group:
                    for _ in range(workers):
                        group.create_task(work(queue))
            except BaseExceptionGroup as group_error:
                raise group_error.exceptions[0] from None
        done = [output for output in outputs if output is not None]
        errors = sorted((error for output in done for error in output["errors"]), key=lambda error: error["index"])
        busy = sum(output["statistics"]["average_duration"] * output["statistics"]["total"] for output in done)
        return {
            entry.output_field: [value for output in done for value in output[entry.output_field]],
            "statistics": {
                "total": total,
                "successful": total - len(errors),
                "failed": len(errors),
                "total_duration": workflow.time() - started,
                "average_duration": busy / total if total else 0.0,
            },
            "errors": errors,
        }

    def _node_error(self, failed: ActivityError) -> Exception:
        cause = failed.cause
        if isinstance(cause, ApplicationError):
            own = error_class(cause.type or "Exception")(cause.message)
            dependents = _dependents(cause)
            if not dependents:
                return own
            errors: dict[Any, BaseException] = {}
            for node_id, (type_name, message) in dependents.items():
                call = self.run.call_of(node_id)
                if call is not None:
                    errors[call] = error_class(type_name)(message)
            return _run.SplitFailure(str(own), own, errors)
        if isinstance(cause, FailureError):
            return error_class(type(cause).__name__)(cause.message)
        return error_class(type(failed).__name__)(failed.message)


def _shown(error: BaseException) -> tuple[str, str]:
    return type(error).__name__, str(error)


def _activity_input(kwargs: Mapping[str, Any]) -> dict[str, Any]:
    call: dict[str, Any] = {"kwargs": {}, "resources": {}, "get_resource": []}
    for name, value in kwargs.items():
        if isinstance(value, _Resource):
            call["resources"][name] = [value.name, value.deferred]
        elif isinstance(value, _GetResource):
            call["get_resource"].append(name)
        else:
            call["kwargs"][name] = value
    return call


def _dependents(cause: ApplicationError) -> dict[str, list[str]]:
    for detail in cause.details:
        if isinstance(detail, Mapping) and isinstance(detail.get("dependents"), Mapping):
            return dict(detail["dependents"])
    return {}
