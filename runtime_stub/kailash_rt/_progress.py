"""Progress of long item work: a parallel map, a batch processor, a scatter-gather worker.

Items are counted as they finish (``ItemCounter``); every ``KAILASH_PROGRESS_INTERVAL``
seconds the run's ``ProgressBoard`` shows the counts: redrawn on one line of a terminal
(done / total, rate, errors so far), or as an INFO record on the run's logger. Work that
ends before the first interval shows nothing.
"""

from __future__ import annotations

import asyncio
import io
import logging
import os
import time
from collections.abc import Callable
from typing import IO

from ._trace_events import TraceRecorder

TERMINAL_INTERVAL = 1.0  # seconds between redraws of the progress line
LOG_INTERVAL = 10.0  # seconds between progress records


class ItemCounter:
    """The items of one map or batch run of a node: counts, and their trace events."""

    __slots__ = ("board", "done", "failed", "lanes", "node_id", "reported", "started", "total", "trace")

    def __init__(self, node_id: str, total: int | None, lanes: list[int] | None, trace: TraceRecorder | None) -> None:
        self.node_id = node_id
        self.total = total
        self.lanes = lanes
        self.trace = trace
        self.done = 0
        self.failed = 0
        self.started = time.perf_counter()
        self.reported = False
        self.board: ProgressBoard | None = None

    def item(self, worker: int, index: int, started: float, error: BaseException | None) -> None:
        """Item ``index`` finished on worker ``worker`` (it began at ``started``, perf_counter)."""
        self.done += 1
        if error is not None:
            self.failed += 1
        if self.lanes is not None and self.trace is not None:
            name = f"item {index}"
            self.trace.item(name, self.lanes[worker], started, time.perf_counter(), error)

    def batch(self, size: int, number: int, started: float, error: BaseException | None) -> None:
        """Batch ``number`` of ``size`` items finished."""
        self.done += size
        if error is not None:
            self.failed += size
        if self.lanes is not None and self.trace is not None:
            self.trace.item(f"batch {number} ({size} items)", self.lanes[0], started, time.perf_counter(), error)

    def finish(self) -> None:
        if self.board is not None:
            self.board.finished(self)

    def describe(self) -> str:
        elapsed = max(time.perf_counter() - self.started, 1e-9)
        if self.total:
            count = f"{self.done}/{self.total} items ({100 * self.done // self.total}%)"
        else:
            count = f"{self.done} items"
        errors = "1 error" if self.failed == 1 else f"{self.failed} errors"
        return f"{count}, {self.done / elapsed:.1f} items/s, {errors}"


class ProgressTerminal(io.TextIOBase):
    """Stands in for a terminal's stderr while a run may draw its progress line there.

    Other output (a warning, a log record, a node's own prints) first clears a drawn progress
    line, so it starts on a line of its own; the next redraw puts the progress below it.
    """

    def __init__(self, stream: IO[str]) -> None:
        super().__init__()
        self.stream = stream
        self.line_drawn = False

    def write(self, text: str) -> int:
        if self.line_drawn and text:
            self.stream.write("\r\x1b[K")
            self.line_drawn = False
        return self.stream.write(text)

    def flush(self) -> None:
        self.stream.flush()

    def writable(self) -> bool:
        return True

    def isatty(self) -> bool:
        return self.stream.isatty()

    def fileno(self) -> int:
        return self.stream.fileno()


class ProgressBoard:
    """Shows the item counters of one run: on a terminal line, or as log records."""

    def __init__(
        self, record: Callable[..., None], log: logging.Logger, terminal: IO[str] | ProgressTerminal | None
    ) -> None:
        self._record = record
        self._terminal = terminal
        self._enabled = terminal is not None or log.isEnabledFor(logging.INFO)
        default = TERMINAL_INTERVAL if terminal is not None else LOG_INTERVAL
        self.interval = _interval_from_environment(default)
        self._active: list[ItemCounter] = []
        self._timer: asyncio.TimerHandle | None = None
        self._drawn = False

    def add(self, counter: ItemCounter) -> None:
        if not self._enabled:
            return
        counter.board = self
        self._active.append(counter)
        if self._timer is None:
            self._timer = asyncio.get_running_loop().call_later(self.interval, self._tick)

    def _tick(self) -> None:
        self._timer = None
        if not self._active:
            return
        for counter in self._active:
            counter.reported = True
        self._show(self._active, final=False)
        self._timer = asyncio.get_running_loop().call_later(self.interval, self._tick)

    def finished(self, counter: ItemCounter) -> None:
        if counter in self._active:
            self._active.remove(counter)
        if counter.reported:
            self._show([counter], final=True)
        if not self._active and self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def close(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._active.clear()
        if self._line_drawn() and self._terminal is not None:
            self._write("\n")

    def _show(self, counters: list[ItemCounter], *, final: bool) -> None:
        if self._terminal is None:
            for counter in counters:
                self._record(logging.INFO, counter.node_id, "%s%s", counter.describe(), " (done)" if final else "")
            return
        line = " | ".join(f"{counter.node_id}: {counter.describe()}" for counter in counters)
        if final:  # the finished counter's line stays; the others are drawn again at the next tick
            self._write(f"\r\x1b[K{line} (done)\n")
            self._drawn = False
        else:
            self._write(f"\r\x1b[K{line}")
            self._drawn = True

    def _line_drawn(self) -> bool:
        if isinstance(self._terminal, ProgressTerminal):  # other output may have cleared it
            return self._terminal.line_drawn
        return self._drawn

    def _write(self, text: str) -> None:
        terminal = self._terminal
        assert terminal is not None
        shared = terminal if isinstance(terminal, ProgressTerminal) else None
        stream = shared.stream if shared is not None else terminal
        try:
            stream.write(text)
            stream.flush()
        except (OSError, ValueError):  # a closed terminal: progress is not worth failing a run for
            self._terminal = None
            self._enabled = False
            return
        if shared is not None:
            shared.line_drawn = not text.endswith("\n")


def _interval_from_environment(default: float) -> float:
    text = os.environ.get("KAILASH_PROGRESS_INTERVAL")
    if not text:
        return default
    try:
        value = float(text)
    except ValueError:
        return default
    return value if value >= 0 else default
