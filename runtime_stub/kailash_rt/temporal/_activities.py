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
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from temporalio import activity
from temporalio.exceptions import ApplicationError

from .._json_output import jsonable
from .._resources import Resources, SharedResources
from .._run import Deferred, SplitFailure

NodeFunction = Callable[..., Awaitable[Any]]

HEARTBEAT_EVERY = 1.0  # seconds between heartbeats of a running activity
HEARTBEAT_TIMEOUT = timedelta(seconds=5)  # a worker silent this long is taken for dead
BACKSTOP_MARGIN = 10.0  # seconds the server waits past a node's own timeout before it gives up
NO_TIMEOUT_BACKSTOP = timedelta(hours=24)  # start_to_close of a node without a timeout
WORKER_LOSS_ATTEMPTS = 10  # attempts of an activity whose worker was lost (no heartbeat)
# Temporal refuses a payload over 2 MiB; a little is kept for the rest of the message.
PAYLOAD_LIMIT = 2 * 1024 * 1024 - 4 * 1024


@dataclass(frozen=True)
class Activity:
    """A node's activity: its function and how Temporal schedules it.

    ``timeout``: the node's own timeout (enforced inside the function); the server's
    ``start_to_close_timeout`` is that plus a margin, a backstop for a stuck worker.
    """

    fn: NodeFunction
    timeout: float | None = None

    @property
    def start_to_close(self) -> timedelta:
        if self.timeout is None:
            return NO_TIMEOUT_BACKSTOP
        return timedelta(seconds=self.timeout + BACKSTOP_MARGIN)


@dataclass
class Nodes:
    """The activities of one workflow, by node id, and the resources they share in a worker."""

    workflow: str
    activities: Mapping[str, Activity]
    resources: Resources | None = None
    _shared: SharedResources | None = field(default=None, init=False, repr=False)
    _definitions: dict[str, Callable[..., Any]] = field(default_factory=dict, init=False, repr=False)

    def activity_name(self, node_id: str) -> str:
        return f"{self.workflow}.{node_id}"

    def definitions(self) -> list[Callable[..., Any]]:
        """The ``@activity.defn`` functions a worker registers, one per node."""
        return [self.definition(node_id) for node_id in self.activities]

    def definition(self, node_id: str) -> Callable[..., Any]:
        found = self._definitions.get(node_id)
        if found is None:
            found = self._definitions[node_id] = _define(self, node_id)
        return found

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
            step: Callable[..., Any] | None = entry.fn
            while step is not None:
                if step is fn:
                    return node_id
                step = getattr(step, "__wrapped__", None)
        return None


def _define(nodes: Nodes, node_id: str) -> Callable[..., Any]:
    fn = nodes.activities[node_id].fn

    async def run_node(call: dict[str, Any]) -> Any:
        kwargs = await _arguments(nodes, call)
        beating = asyncio.get_running_loop().create_task(_heartbeat())
        try:
            output = await fn(**kwargs)
        except Exception as exc:
            raise _failure(nodes, exc) from exc
        finally:
            beating.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await beating
        return _checked_payload(node_id, jsonable(output))

    run_node.__name__ = run_node.__qualname__ = f"node_{getattr(fn, '__name__', 'activity')}"
    return activity.defn(name=nodes.activity_name(node_id))(run_node)


async def _arguments(nodes: Nodes, call: dict[str, Any]) -> dict[str, Any]:
    kwargs = dict(call.get("kwargs", {}))
    shared = nodes.shared()
    for param, (name, deferred) in call.get("resources", {}).items():
        kwargs[param] = Deferred(functools.partial(shared.get, name)) if deferred else await shared.get(name)
    for param in call.get("get_resource", ()):
        kwargs[param] = shared.get
    return kwargs


async def _heartbeat() -> None:
    """Tell the server the worker is alive, so a dead worker's activity is retried within seconds."""
    while True:
        activity.heartbeat()
        await asyncio.sleep(HEARTBEAT_EVERY)


def _failure(nodes: Nodes, exc: Exception) -> ApplicationError:
    """The node's error as a non-retryable failure; a split failure names the dependents' errors."""
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
    return ApplicationError(str(own), *details, type=type(own).__name__, non_retryable=True)


def _checked_payload(node_id: str, output: Any) -> Any:
    size = sum(payload.ByteSize() for payload in activity.payload_converter().to_payloads([output]))
    if size > PAYLOAD_LIMIT:
        raise ApplicationError(
            f"the output of node {node_id!r} is {size} bytes, over Temporal's payload limit of"
            f" {PAYLOAD_LIMIT} bytes; return a reference (a key, a path, a URL) to the data instead",
            type="PayloadTooLarge",
            non_retryable=True,
        )
    return output
