"""code_node: compiled workflow. Do not edit; edit the workflow and compile again.

A code node fed by another and by a workflow input

Source: tests/workflows/kinds/code_node.py
Inputs:
    factor (used by total)
Resources: none
Requires: kailash-rt 0.1.0 or newer
    pip install "kailash-rt>=0.1.0"
"""

import time
from collections.abc import Mapping
from typing import Any

import kailash_rt as rt

rt.require_version("0.1.0", __name__)


# node "numbers"
async def numbers() -> Any:
    result = {"values": [3, 1, 2]}
    return result


# node "total"
async def total(values: Any, factor: Any) -> Any:
    """Adds the values, scaled by the factor given at run time"""
    result = {"sum": sum(values) * factor, "at": time.time()}
    return result


# Where each node's code is in the workflow file; kailash_rt names the line in a note on an
# exception raised in that code. {function: (node id, file line of code line 1, runs of
# "lines=code line", lines counted from the function's first line)}
SOURCE_LINES = (
    "tests/workflows/kinds/code_node.py",
    {
        "numbers": ("numbers", 7, "1=1"),
        "total": ("total", 11, "2=1"),
    },
)


async def run(
    inputs: Mapping[str, Any] | None = None,
    *,
    resources: Mapping[str, Any] | None = None,
) -> rt.RunResult:
    """Run the workflow once: {"results": {node_id: output}, "errors": {node_id: message}}."""
    async with rt.Run("code_node", inputs, resources) as r:
        numbers_out = r.node("numbers", numbers)
        r.node("total", total, values=numbers_out["values"], factor=r.input("factor"))
    return r.result


if __name__ == "__main__":
    rt.main(run)
