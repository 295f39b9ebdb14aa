"""service_health_report: compiled workflow. Do not edit; edit the workflow and compile again.

Check three services and summarise

Source: examples/fan_out_fan_in.py
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


# node "list_targets"
async def list_targets() -> Any:
    result = {
        "services": [
            {"name": "billing", "latency_ms": 120, "errors": 0},
            {"name": "search", "latency_ms": 480, "errors": 3},
            {"name": "auth", "latency_ms": 60, "errors": 0},
        ]
    }
    return result


# node "check_latency"
@rt.node(timeout=5)
async def check_latency(services: Any) -> Any:
    await asyncio.sleep(0.2)  # a slow probe
    slow = [s["name"] for s in services if s["latency_ms"] > 250]
    result = {"slow": slow, "ok": not slow}
    return result


# node "check_errors"
@rt.node(
    timeout=5,
    retry=rt.Retry(
        attempts=3, delay=0.1, max_delay=60.0, retry_on=(ConnectionError, TimeoutError)
    ),
)
async def check_errors(services: Any) -> Any:
    await asyncio.sleep(0.2)  # another slow probe
    failing = {s["name"]: s["errors"] for s in services if s["errors"]}
    result = {"failing": failing, "ok": not failing}
    return result


# node "check_inventory"
@rt.node(on_error=rt.Fallback({"names": [], "count": 0}))
async def check_inventory(services: Any) -> Any:
    await asyncio.sleep(0.2)
    names = sorted(s["name"] for s in services)
    result = {"names": names, "count": len(names)}
    return result


# node "report"
async def report(latency: Any, errors: Any, inventory: Any) -> Any:
    """One line per concern, ready for a status page"""
    healthy = latency["ok"] and errors["ok"]
    result = {
        "healthy": healthy,
        "services": inventory["count"],
        "slow": latency["slow"],
        "failing": sorted(errors["failing"]),
    }
    return result


# Where each node's code is in the workflow file; kailash_rt names the line in a note on an
# exception raised in that code. {function: (node id, file line of code line 1, runs of
# "lines=code line", lines counted from the function's first line)}
SOURCE_LINES = (
    "examples/fan_out_fan_in.py",
    {
        "list_targets": ("list_targets", 17, "1-7=1"),
        "check_latency": ("check_latency", 30, "2=1 3=2 4=3"),
        "check_errors": ("check_errors", 40, "7=1 8=2 9=3"),
        "check_inventory": ("check_inventory", 51, "2=1 3=2 4=3"),
        "report": ("report", 61, "2=1 3-8=2"),
    },
)


async def run(
    inputs: Mapping[str, Any] | None = None,
    *,
    resources: Mapping[str, Any] | None = None,
) -> rt.RunResult:
    """Run the workflow once: {"results": {node_id: output}, "errors": {node_id: message}}."""
    async with rt.Run("service_health_report", inputs, resources) as r:
        list_targets_out = r.node("list_targets", list_targets)
        check_latency_out = r.node(
            "check_latency",
            check_latency,
            services=list_targets_out["services"],
        )
        check_errors_out = r.node(
            "check_errors",
            check_errors,
            services=list_targets_out["services"],
        )
        check_inventory_out = r.node(
            "check_inventory",
            check_inventory,
            services=list_targets_out["services"],
        )
        r.node(
            "report",
            report,
            latency=check_latency_out.result,
            errors=check_errors_out.result,
            inventory=check_inventory_out.result,
        )
    return r.result


if __name__ == "__main__":
    rt.main(run)
