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
