"""kailash_rt.temporal: what a module compiled with ``--target temporal`` imports.

Needs ``temporalio`` (``pip install temporalio``); ``import kailash_rt`` does not import this
package. A Temporal module declares each node function an activity with one decorator:
``@activity(node_id, ...)`` under the node's policies, or, for the patterns the workflow
runs itself, ``@parallel_map(node_id, ...)``, ``@timeout_with_fallback(node_id, ...)`` and
``parallel_fetch(node_id, ...)``. ``Nodes`` lists them for a worker; the workflow runs
``run()``'s orchestrator (``Run``) with each node as its activity; ``main`` is the command
line (worker, run, start, result).
"""

from ._activities import (
    Activity,
    NodeActivity,
    Nodes,
    ParallelFetch,
    ParallelMap,
    Retries,
    WithFallback,
    activity,
    parallel_fetch,
    parallel_map,
    retry_with_backoff,
    timeout_with_fallback,
)
from ._converter import data_converter
from ._main import main, worker_for, workflow_runner
from ._workflow import Run

__all__ = [
    "Activity",
    "NodeActivity",
    "Nodes",
    "ParallelFetch",
    "ParallelMap",
    "Retries",
    "Run",
    "WithFallback",
    "activity",
    "data_converter",
    "main",
    "parallel_fetch",
    "parallel_map",
    "retry_with_backoff",
    "timeout_with_fallback",
    "worker_for",
    "workflow_runner",
]
