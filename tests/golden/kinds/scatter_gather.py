"""scatter_gather: compiled workflow. Do not edit; edit the workflow and compile again.

Source: tests/workflows/kinds/scatter_gather.py
Inputs: none
Resources: none
Requires: kailash-rt 0.1.0 or newer
    pip install "kailash-rt>=0.1.0"
"""

from collections.abc import Mapping
from typing import Any

import kailash_rt as rt

rt.require_version("0.1.0", __name__)


# node "readings"
async def readings() -> Any:
    result = {"items": [4, 8, 15, 16, 23, 42]}
    return result


# node "split_readings"
@rt.scatter_gather(worker_count=3)
def scale_worker(item):
    return item * 10


split_readings = scale_worker.scatter


# node "scale_worker_0"
scale_worker_0 = scale_worker.process


# node "scale_worker_1"
scale_worker_1 = scale_worker.process


# node "scale_worker_2"
scale_worker_2 = scale_worker.process


# node "join_readings"
join_readings = scale_worker.gather


# Where each node's code is in the workflow file; kailash_rt names the line in a note on an
# exception raised in that code. {function: (node id, file line of code line 1, runs of
# "lines=code line", lines counted from the function's first line)}
SOURCE_LINES = (
    "tests/workflows/kinds/scatter_gather.py",
    {
        "readings": ("readings", 7, "1=1"),
        "scale_worker": ("split_readings", 13, "2=2"),
    },
)


async def run(
    inputs: Mapping[str, Any] | None = None,
    *,
    resources: Mapping[str, Any] | None = None,
) -> rt.RunResult:
    """Run the workflow once: {"results": {node_id: output}, "errors": {node_id: message}}."""
    async with rt.Run("scatter_gather", inputs, resources) as r:
        readings_out = r.node("readings", readings)
        split_readings_out = r.node(
            "split_readings",
            split_readings,
            items=readings_out["items"],
        )
        scale_worker_0_out = r.node(
            "scale_worker_0",
            scale_worker_0,
            items=split_readings_out["shard_0"],
            start=split_readings_out["start_0"],
        )
        scale_worker_1_out = r.node(
            "scale_worker_1",
            scale_worker_1,
            items=split_readings_out["shard_1"],
            start=split_readings_out["start_1"],
        )
        scale_worker_2_out = r.node(
            "scale_worker_2",
            scale_worker_2,
            items=split_readings_out["shard_2"],
            start=split_readings_out["start_2"],
        )
        r.node(
            "join_readings",
            join_readings,
            part_0=scale_worker_0_out["results"],
            part_1=scale_worker_1_out["results"],
            part_2=scale_worker_2_out["results"],
        )
    return r.result


if __name__ == "__main__":
    rt.main(run)
