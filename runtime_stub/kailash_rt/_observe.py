"""Whether a run shows itself: the options of runs in this context, and the node running now.

A run is observed only when something looks: its logger is enabled for INFO or DEBUG, a
trace was asked for (``--trace``, ``AsyncLocalRuntime(trace=True)``), progress goes to a
terminal, or OpenTelemetry is imported and has a tracer provider. Otherwise ``observe_run``
returns None and the orchestrator runs exactly as it would without this module.

While an observed node runs, ``current()`` is its ``NodeScope``: the decorators of the node
(retry, fallback, circuit breaker, rate limit, parallel map) report what they do to it. What an
observed run does with that (log records, a Chrome trace, OpenTelemetry spans, progress) is in
``_observer``, loaded by the first run something looks at.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._observer import NodeScope, Observer
    from ._progress import ProgressTerminal

RUN_LOGGER = "kailash_rt"


class RunOptions:
    """How runs started in this context show themselves (see ``run_options``). A plain class,
    not a dataclass: making a dataclass costs more import time than this whole module."""

    __slots__ = ("logger", "progress", "trace")

    def __init__(
        self, logger: str = RUN_LOGGER, trace: bool = False, progress: IO[str] | ProgressTerminal | None = None
    ) -> None:
        self.logger = logger  # the logger of run events; in process, under the guide's "kailash.workflow"
        self.trace = trace  # record a Chrome trace: ``result.trace``
        self.progress = progress  # a terminal to draw the progress of long item work on


_DEFAULT_OPTIONS = RunOptions()
_OPTIONS: ContextVar[RunOptions | None] = ContextVar("kailash_rt_run_options", default=None)
_NODE: ContextVar[NodeScope | None] = ContextVar("kailash_rt_node", default=None)


@contextmanager
def run_options(**changes: Any) -> Iterator[RunOptions]:
    """Runs started inside the block use these options (others keep theirs)."""
    given = _OPTIONS.get() or _DEFAULT_OPTIONS
    options = RunOptions(given.logger, given.trace, given.progress)
    for name, value in changes.items():
        setattr(options, name, value)
    token = _OPTIONS.set(options)
    try:
        yield options
    finally:
        _OPTIONS.reset(token)


def run_logger() -> logging.Logger:
    """The logger run events go to in this context."""
    return logging.getLogger((_OPTIONS.get() or _DEFAULT_OPTIONS).logger)


def current() -> NodeScope | None:
    """The observed node running in this task, or None."""
    return _NODE.get()


def observe_run(workflow: str) -> Observer | None:
    """The observer of a run of ``workflow``, or None when nothing looks at it."""
    options = _OPTIONS.get() or _DEFAULT_OPTIONS
    log = logging.getLogger(options.logger)
    tracer = None
    if "opentelemetry.trace" in sys.modules:  # never imported here: only used when the program uses it
        from ._tracing import configured_tracer

        tracer = configured_tracer()
    if not (log.isEnabledFor(logging.INFO) or options.trace or options.progress is not None or tracer is not None):
        return None
    from ._observer import Observer  # only a run something looks at loads it

    return Observer(workflow, options, log, tracer)
