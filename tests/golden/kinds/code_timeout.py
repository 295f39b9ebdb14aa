"""code_timeout: compiled workflow. Do not edit; edit the workflow and compile again.

Source: tests/workflows/kinds/code_timeout.py
Inputs: none
Resources: none
Requires: kailash-rt 0.1.0 or newer
    pip install "kailash-rt>=0.1.0"
"""

import asyncio
from collections.abc import Mapping
from typing import Any

import kailash_rt as rt

rt.require_version("0.1.0", __name__)


# node "probe"
@rt.node(timeout=2.5, max_concurrent_tasks=4)
async def probe() -> Any:
    await asyncio.sleep(0.01)
    result = {"ok": True}
    return result


# Where each node's code is in the workflow file; kailash_rt names the line in a note on an
# exception raised in that code. {function: (node id, file line of code line 1, runs of
# "lines=code line", lines counted from the function's first line)}
SOURCE_LINES = (
    "tests/workflows/kinds/code_timeout.py",
    {
        "probe": ("probe", 10, "2=1 3=2"),
    },
)


async def run(
    inputs: Mapping[str, Any] | None = None,
    *,
    resources: Mapping[str, Any] | None = None,
) -> rt.RunResult:
    """Run the workflow once: {"results": {node_id: output}, "errors": {node_id: message}}."""
    async with rt.Run("code_timeout", inputs, resources) as r:
        r.node("probe", probe)
    return r.result


if __name__ == "__main__":
    rt.main(run)
