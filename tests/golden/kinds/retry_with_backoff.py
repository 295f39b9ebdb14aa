"""retry_with_backoff: compiled workflow. Do not edit; edit the workflow and compile again.

Source: tests/workflows/kinds/retry_with_backoff.py
Inputs:
    items (used by reserve_stock)
Resources: none
Requires: kailash-rt 0.1.0 or newer
    pip install "kailash-rt>=0.1.0"
"""

import asyncio
from collections.abc import Mapping
from typing import Any

import kailash_rt as rt

rt.require_version("0.1.0", __name__)


# node "reserve_stock"
@rt.retry_with_backoff(
    max_retries=4,
    initial_backoff=0.2,
    backoff_factor=3.0,
    max_backoff=5.0,
    retry_on=(ConnectionError, asyncio.TimeoutError),
)
async def reserve_stock(items: Any) -> Any:
    result = {"reserved": len(items)}
    return result


# Where each node's code is in the workflow file; kailash_rt names the line in a note on an
# exception raised in that code. {function: (node id, file line of code line 1, runs of
# "lines=code line", lines counted from the function's first line)}
SOURCE_LINES = (
    "tests/workflows/kinds/retry_with_backoff.py",
    {
        "reserve_stock": ("reserve_stock", 11, "8=1"),
    },
)


async def run(
    inputs: Mapping[str, Any] | None = None,
    *,
    resources: Mapping[str, Any] | None = None,
) -> rt.RunResult:
    """Run the workflow once: {"results": {node_id: output}, "errors": {node_id: message}}."""
    async with rt.Run("retry_with_backoff", inputs, resources) as r:
        r.node("reserve_stock", reserve_stock, items=r.input("items"))
    return r.result


if __name__ == "__main__":
    rt.main(run)
