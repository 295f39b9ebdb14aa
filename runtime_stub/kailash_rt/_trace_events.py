"""A run as Chrome trace-event JSON (the format ``chrome://tracing`` and Perfetto open).

One complete ("X") event for the run, one per node (on a lane of its own while it runs beside
others) and one per attempt of a retried node (inside its node's event); the items of a
parallel map on one lane per worker, the batches of a batch processor on one lane. Past
``MAX_ITEM_EVENTS`` items a run only counts them, in its node's ``args``.
"""

from __future__ import annotations

import time
from typing import Any

MAX_ITEM_EVENTS = 10_000
_PID = 1
_RUN_LANE = 0


class TraceRecorder:
    """Collects one run's events; ``document()`` is the JSON object to write."""

    def __init__(self, workflow: str, run_id: str) -> None:
        self.workflow = workflow
        self.run_id = run_id
        self.origin = time.perf_counter()
        self.events: list[dict[str, Any]] = []
        self.metadata: list[dict[str, Any]] = [
            _meta("process_name", {"name": f"workflow {workflow}"}),
            _meta("thread_name", {"name": "run"}, _RUN_LANE),
        ]
        self._node_lanes: list[bool] = []  # node lane i (tid i + 1) is busy
        self._next_item_lane = 1000  # item lanes come after the node lanes
        self.items_recorded = 0
        self.items_not_recorded = 0
        self.ended: float | None = None

    def _us(self, moment: float) -> float:
        return round((moment - self.origin) * 1e6, 1)

    def _complete(
        self, name: str, category: str, lane: int, started: float, ended: float, args: dict[str, Any]
    ) -> None:
        self.events.append(
            {
                "name": name,
                "cat": category,
                "ph": "X",
                "ts": self._us(started),
                "dur": max(round((ended - started) * 1e6, 1), 0.1),
                "pid": _PID,
                "tid": lane,
                "args": args,
            }
        )

    # -- nodes --------------------------------------------------------------------------
    def node_started(self) -> int:
        """The lane of a node starting now: the first one no running node holds."""
        for index, busy in enumerate(self._node_lanes):
            if not busy:
                self._node_lanes[index] = True
                return index + 1
        self._node_lanes.append(True)
        lane = len(self._node_lanes)
        self.metadata.append(_meta("thread_name", {"name": f"nodes {lane}"}, lane))
        self.metadata.append(_meta("thread_sort_index", {"sort_index": lane}, lane))
        return lane

    def node(
        self,
        node_id: str,
        lane: int,
        started: float,
        ended: float,
        attributes: dict[str, Any],
        error: BaseException | None,
    ) -> None:
        self._node_lanes[lane - 1] = False
        args = dict(attributes)
        if error is not None:
            args["error"] = _describe(error)
        self._complete(node_id, "node", lane, started, ended, args)

    def attempt(
        self, node_id: str, lane: int, number: int, started: float, ended: float, error: BaseException | None
    ) -> None:
        args: dict[str, Any] = {"kailash.node_id": node_id, "kailash.attempt": number, "success": error is None}
        if error is not None:
            args["error"] = _describe(error)
        self._complete(f"{node_id} attempt {number}", "attempt", lane, started, ended, args)

    def skipped(self, node_id: str, error: BaseException) -> None:
        now = time.perf_counter()
        args = {"kailash.node_id": node_id, "kailash.outcome": "skipped", "error": _describe(error)}
        self._complete(node_id, "node", _RUN_LANE, now, now, args)

    # -- items --------------------------------------------------------------------------
    def item_lanes(self, node_id: str, workers: int) -> list[int]:
        """``workers`` new lanes for the items of a node, named after it."""
        lanes = []
        for worker in range(1, workers + 1):
            lane = self._next_item_lane
            self._next_item_lane += 1
            name = f"{node_id} worker {worker}" if workers > 1 else f"{node_id} items"
            self.metadata.append(_meta("thread_name", {"name": name}, lane))
            self.metadata.append(_meta("thread_sort_index", {"sort_index": lane}, lane))
            lanes.append(lane)
        return lanes

    def item(self, name: str, lane: int, started: float, ended: float, error: BaseException | None) -> None:
        if self.items_recorded >= MAX_ITEM_EVENTS:
            self.items_not_recorded += 1
            return
        self.items_recorded += 1
        args: dict[str, Any] = {"success": error is None}
        if error is not None:
            args["error"] = _describe(error)
        self._complete(name, "item", lane, started, ended, args)

    # -- the run --------------------------------------------------------------------------
    def end_run(self) -> None:
        self.ended = time.perf_counter()
        self._complete(self.workflow, "run", _RUN_LANE, self.origin, self.ended, {"kailash.run_id": self.run_id})

    def document(self) -> dict[str, Any]:
        """The trace as a JSON object: ``{"traceEvents": [...], ...}``, events in time order."""
        events = sorted(self.events, key=lambda event: (event["ts"], -event["dur"]))
        other: dict[str, Any] = {"workflow": self.workflow, "run_id": self.run_id}
        if self.items_not_recorded:
            other["items_not_recorded"] = self.items_not_recorded
        return {"traceEvents": self.metadata + events, "displayTimeUnit": "ms", "otherData": other}


def _meta(name: str, args: dict[str, Any], lane: int = _RUN_LANE) -> dict[str, Any]:
    return {"name": name, "ph": "M", "pid": _PID, "tid": lane, "args": args}


def _describe(exc: BaseException) -> str:
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
