"""parallel_fetch: compiled workflow. Do not edit; edit the workflow and compile again.

Source: tests/workflows/kinds/parallel_fetch.py
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


# node "dashboard"
async def dashboard_orders() -> Any:
    await asyncio.sleep(0.01)
    result = {"open": 17}
    return result


async def dashboard_carriers() -> Any:
    result = ["dhl", "ups"]
    return result


dashboard = rt.parallel_fetch(
    {"orders": dashboard_orders, "carriers": dashboard_carriers},
    timeout_per_operation=3.0,
    continue_on_error=False,
)


async def run(
    inputs: Mapping[str, Any] | None = None,
    *,
    resources: Mapping[str, Any] | None = None,
) -> rt.RunResult:
    """Run the workflow once: {"results": {node_id: output}, "errors": {node_id: message}}."""
    async with rt.Run("parallel_fetch", inputs, resources) as r:
        r.node("dashboard", dashboard)
    return r.result


if __name__ == "__main__":
    rt.main(run)
