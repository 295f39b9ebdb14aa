"""An observed run: hands each event to the log, the Chrome trace, the spans and the progress board."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from ._observe import _NODE, RunOptions
from ._progress import ItemCounter, ProgressBoard
from ._trace_events import TraceRecorder

if TYPE_CHECKING:
    from ._tracing import RunSpans


class Observer:
    """One observed run: hands each event to the log, the trace, the spans and the progress board."""

    def __init__(self, workflow: str, options: RunOptions, log: logging.Logger, tracer: Any) -> None:
        self.workflow = workflow
        self.run_id = os.urandom(6).hex()
        self.log = log
        self.debug = log.isEnabledFor(logging.DEBUG)
        self.trace = TraceRecorder(workflow, self.run_id) if options.trace else None
        self.spans: RunSpans | None = None
        if tracer is not None:
            from ._tracing import RunSpans

            self.spans = RunSpans(tracer, workflow, self.run_id)
        self.progress = ProgressBoard(self.record, log, options.progress)

    # -- records ----------------------------------------------------------------------
    def record(self, level: int, node_id: str | None, message: str, *args: Any) -> None:
        """A log record naming the workflow, the run id and the node."""
        if not self.log.isEnabledFor(level):
            return
        where = f" node {node_id!r}" if node_id is not None else ""  # an argument: an id may hold a %
        self.log.log(
            level,
            "%s [run %s]%s: " + message,
            self.workflow,
            self.run_id,
            where,
            *args,
            extra={"workflow": self.workflow, "run_id": self.run_id, "node_id": node_id},
        )

    # -- the run ----------------------------------------------------------------------
    def run_started(self) -> None:
        self.record(logging.DEBUG, None, "started")

    def run_finished(self, errors: dict[str, str], failure: BaseException | None) -> None:
        self.progress.close()
        outcome = "cancelled" if failure is not None else f"finished with {len(errors)} errors"
        self.record(logging.DEBUG, None, "%s", outcome)
        if self.spans is not None:
            self.spans.end_run(errors, failure)
        if self.trace is not None:
            self.trace.end_run()

    # -- nodes ------------------------------------------------------------------------
    def node_started(self, node_id: str, fn: Callable[..., Any]) -> NodeScope:
        scope = NodeScope(self, node_id, fn)
        if self.debug:
            self.record(logging.DEBUG, node_id, "started")
        if self.trace is not None:
            scope.lane = self.trace.node_started()
        if self.spans is not None:
            scope.span = self.spans.start_node(node_id)
        scope.token = _NODE.set(scope)
        if self.spans is not None:
            scope.span_token = self.spans.enter(scope.span)
        return scope

    def node_finished(self, scope: NodeScope, outcome: str, error: BaseException | None) -> None:
        if self.spans is not None:
            self.spans.leave(scope.span_token)
        _NODE.reset(scope.token)
        ended = time.perf_counter()
        attributes = scope.attributes(outcome)
        if self.debug:
            detail = f" ({type(error).__name__}: {error})" if error is not None else ""
            word = "finished" if outcome == "ok" else outcome
            self.record(logging.DEBUG, scope.node_id, "%s%s in %.3fs", word, detail, ended - scope.started)
        if self.trace is not None:
            self.trace.node(scope.node_id, scope.lane, scope.started, ended, attributes, error)
        if self.spans is not None:
            self.spans.end_node(scope.span, attributes, error)

    def node_skipped(self, node_id: str, error: BaseException) -> None:
        """A node that did not run: its upstream failed (or its work failed inside another node)."""
        self.record(logging.DEBUG, node_id, "not run (%s: %s)", type(error).__name__, error)
        if self.trace is not None:
            self.trace.skipped(node_id, error)
        if self.spans is not None:
            self.spans.skipped(node_id, error)


class NodeScope:
    """One observed node call: what its decorators report while it runs."""

    __slots__ = (
        "attempts",
        "breaker_state",
        "fallback_error",
        "fn",
        "items",
        "lane",
        "node_id",
        "observer",
        "span",
        "span_token",
        "started",
        "token",
    )

    def __init__(self, observer: Observer, node_id: str, fn: Callable[..., Any]) -> None:
        self.observer = observer
        self.node_id = node_id
        self.fn = fn
        self.started = time.perf_counter()
        self.attempts = 0
        self.fallback_error: BaseException | None = None
        self.breaker_state: str | None = None
        self.items: list[ItemCounter] = []
        self.lane = 0
        self.span: Any = None
        self.span_token: Any = None
        self.token: Any = None

    def attempt(self, number: int, started: float, error: BaseException | None, retry_in: float | None) -> None:
        """Attempt ``number`` of a retried node, begun at ``started`` (perf_counter), ended now."""
        self.attempts = number
        observer = self.observer
        if error is not None and retry_in is not None:
            observer.record(
                logging.INFO,
                self.node_id,
                "attempt %d failed (%s: %s); attempt %d follows in %.3fs",
                number,
                type(error).__name__,
                error,
                number + 1,
                retry_in,
            )
        if observer.trace is not None:
            observer.trace.attempt(self.node_id, self.lane, number, started, time.perf_counter(), error)
        if observer.spans is not None and error is not None:
            observer.spans.attempt_failed(self.span, number, error)

    def fallback(self, error: BaseException, level: int = logging.WARNING) -> None:
        """The node's own work failed with ``error`` and its fallback answers instead."""
        self.fallback_error = error
        name = type(error).__name__
        self.observer.record(level, self.node_id, "failed (%s: %s); using its fallback value", name, error)
        if self.observer.spans is not None:
            self.observer.spans.fallback(self.span, error)

    def breaker(self, before: str, after: str) -> None:
        """The node's circuit breaker is in state ``after`` (it was ``before`` when the call came)."""
        self.breaker_state = after
        if before != after:
            self.observer.record(logging.INFO, self.node_id, "circuit breaker %s -> %s", before, after)
            if self.observer.spans is not None:
                self.observer.spans.event(self.span, "kailash.breaker", {"from": before, "to": after})

    def rate_wait(self, seconds: float) -> None:
        self.observer.record(logging.DEBUG, self.node_id, "waits %.3fs for its rate limit", seconds)
        if self.observer.spans is not None:
            self.observer.spans.event(self.span, "kailash.rate_limit_wait", {"seconds": seconds})

    def item_counter(self, total: int | None, worker_lanes: int) -> ItemCounter:
        """Counts the items of a map or batch run of this node (progress and trace lanes)."""
        observer = self.observer
        lanes = observer.trace.item_lanes(self.node_id, worker_lanes) if observer.trace is not None else None
        counter = ItemCounter(self.node_id, total, lanes, observer.trace)
        self.items.append(counter)
        observer.progress.add(counter)
        return counter

    def attributes(self, outcome: str) -> dict[str, Any]:
        """The node's ``kailash.*`` attributes for spans and trace events."""
        kind, patterns, breaker = describe_function(self.fn)
        attributes: dict[str, Any] = {
            "kailash.node_id": self.node_id,
            "kailash.kind": kind,
            "kailash.patterns": list(patterns),
            "kailash.outcome": outcome,
            "kailash.attempts": max(self.attempts, 1),
            "kailash.fallback_used": self.fallback_error is not None,
        }
        state = self.breaker_state or (breaker.state if breaker is not None else None)
        if state is not None:
            attributes["kailash.breaker_state"] = state
        if self.items:
            attributes["kailash.items_total"] = sum(counter.total or counter.done for counter in self.items)
            attributes["kailash.items_done"] = sum(counter.done for counter in self.items)
            attributes["kailash.items_failed"] = sum(counter.failed for counter in self.items)
        return attributes


_NODE_KINDS = ("parallel_map", "scatter_gather", "batch_processor", "parallel_fetch", "cache_aside")


def describe_function(fn: Callable[..., Any]) -> tuple[str, tuple[str, ...], Any]:
    """A node function's kind, the patterns and policies wrapped around its code, and its
    circuit breaker if it has one (read from the marks the decorators leave)."""
    try:
        return _described(fn)
    except TypeError:  # a callable that cannot be a cache key
        return _described.__wrapped__(fn)


@lru_cache(maxsize=1024)
def _described(fn: Callable[..., Any]) -> tuple[str, tuple[str, ...], Any]:
    patterns: list[str] = []
    breaker = None
    step: Any = fn
    while step is not None:
        owner = getattr(step, "__self__", None)
        marks = getattr(owner if owner is not None else step, "kailash_patterns", ())
        patterns.extend(mark for mark in marks if mark not in patterns)
        breaker = breaker or getattr(step, "breaker", None)
        step = getattr(step, "__wrapped__", None)
    kind = next((name for name in patterns if name in _NODE_KINDS), "code")
    return kind, tuple(patterns), breaker
