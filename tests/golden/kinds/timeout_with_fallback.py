"""timeout_with_fallback: compiled workflow. Do not edit; edit the workflow and compile again.

Source: tests/workflows/kinds/timeout_with_fallback.py
Inputs:
    currency (used by live_rate)
Resources: none
Requires: kailash-rt 0.1.0 or newer
    pip install "kailash-rt>=0.1.0"
"""

import asyncio
from collections.abc import Mapping
from typing import Any

import kailash_rt as rt

rt.require_version("0.1.0", __name__)


# node "live_rate"
@rt.timeout_with_fallback(timeout_seconds=0.5)
async def live_rate(currency: Any) -> Any:
    await asyncio.sleep(0.01)
    result = {"rate": 1.09, "currency": currency}
    return result


# node "cached_rate"
@live_rate.fallback
async def cached_rate(currency: Any) -> Any:
    result = {"rate": 1.08, "currency": currency, "stale": True}
    return result


# Where each node's code is in the workflow file; kailash_rt names the line in a note on an
# exception raised in that code. {function: (node id, file line of code line 1, runs of
# "lines=code line", lines counted from the function's first line)}
SOURCE_LINES = (
    "tests/workflows/kinds/timeout_with_fallback.py",
    {
        "live_rate": ("live_rate", 12, "2=1 3=2"),
        "cached_rate": ("cached_rate", 16, "2=1"),
    },
)


async def run(
    inputs: Mapping[str, Any] | None = None,
    *,
    resources: Mapping[str, Any] | None = None,
) -> rt.RunResult:
    """Run the workflow once: {"results": {node_id: output}, "errors": {node_id: message}}."""
    async with rt.Run("timeout_with_fallback", inputs, resources) as r:
        live_rate_out = r.node("live_rate", live_rate, currency=r.input("currency"))
        r.node("cached_rate", cached_rate, answer=live_rate_out)
    return r.result


if __name__ == "__main__":
    rt.main(run)
