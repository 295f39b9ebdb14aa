"""The workflow side: ``run()``'s orchestrator on Temporal's event loop, nodes as activities.

``Run`` is the asyncio target's ``kailash_rt.Run`` with one change: a node's function is
not called in the workflow but scheduled as the node's activity. Data flow, concurrency,
upstream-failed skipping and the ``{"results", "errors"}`` shape are the orchestrator's, so
both targets agree by construction. Workflow code does no I/O, reads no clock and draws no
random numbers: everything a node does happens in its activity.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from types import TracebackType
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError, FailureError

from .. import _run
from ._activities import HEARTBEAT_TIMEOUT, WORKER_LOSS_ATTEMPTS, Nodes

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
        self._calls: dict[str, ActivityCall] = {}

    def node(self, node_id: str, fn: _run.NodeFunction, /, **kwargs: Any) -> _run.Output:
        call = self._calls[node_id] = ActivityCall(self, node_id)
        return super().node(node_id, call, **kwargs)

    def resource(self, name: str, *, deferred: bool = False) -> Any:
        return _Resource(name, deferred)

    def call_of(self, node_id: str) -> ActivityCall | None:
        return self._calls.get(node_id)

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

    def __init__(self, run: Run, node_id: str) -> None:
        self.run = run
        self.node_id = node_id
        self.__name__ = node_id

    async def __call__(self, **kwargs: Any) -> Any:
        nodes = self.run.activities
        entry = nodes.activities[self.node_id]
        try:
            return await workflow.execute_activity(
                nodes.activity_name(self.node_id),
                _activity_input(kwargs),
                start_to_close_timeout=entry.start_to_close,
                heartbeat_timeout=HEARTBEAT_TIMEOUT,
                retry_policy=WORKER_LOSS_RETRY,
            )
        except ActivityError as failed:
            raise self._node_error(failed) from None

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
