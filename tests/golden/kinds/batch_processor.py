"""batch_processor: compiled workflow. Do not edit; edit the workflow and compile again.

Source: tests/workflows/kinds/batch_processor.py
Inputs:
    items (used by write_log)
Resources: none
Requires: kailash-rt 0.1.0 or newer
    pip install "kailash-rt>=0.1.0"
"""

from collections.abc import Mapping
from typing import Any

import kailash_rt as rt

rt.require_version("0.1.0", __name__)


# node "write_log"
@rt.batch_processor(batch_size=25, flush_interval=2.0)
async def write_log(items: Any) -> Any:
    batch_results = [{"line": item, "written": True} for item in items]
    return batch_results


# Where each node's code is in the workflow file; kailash_rt names the line in a note on an
# exception raised in that code. {function: (node id, file line of code line 1, runs of
# "lines=code line", lines counted from the function's first line)}
SOURCE_LINES = (
    "tests/workflows/kinds/batch_processor.py",
    {
        "write_log": ("write_log", 11, "2=1"),
    },
)


async def run(
    inputs: Mapping[str, Any] | None = None,
    *,
    resources: Mapping[str, Any] | None = None,
) -> rt.RunResult:
    """Run the workflow once: {"results": {node_id: output}, "errors": {node_id: message}}."""
    async with rt.Run("batch_processor", inputs, resources) as r:
        r.node("write_log", write_log, items=r.input("items"))
    return r.result


if __name__ == "__main__":
    rt.main(run)
