"""kailash_rt.temporal: what a module compiled with ``--target temporal`` imports.

Needs ``temporalio`` (``pip install temporalio``); ``import kailash_rt``
does not import this package. A Temporal module declares its nodes' activities
(``Nodes``/``Activity``), runs ``run()``'s orchestrator in its workflow (``Run``) and has a
command line (``main``: worker, run, start, result).
"""

from ._activities import (
    Activity,
    FallbackAnswer,
    Nodes,
    ParallelFetch,
    ParallelMap,
    Retries,
    WithFallback,
    retry_with_backoff,
)
from ._converter import data_converter
from ._main import main, worker_for, workflow_runner
from ._workflow import Run

__all__ = [
    "Activity",
    "FallbackAnswer",
    "Nodes",
    "ParallelFetch",
    "ParallelMap",
    "Retries",
    "Run",
    "WithFallback",
    "data_converter",
    "main",
    "retry_with_backoff",
    "worker_for",
    "workflow_runner",
]
