"""service_health_report: compiled Temporal workflow. Do not edit; edit the workflow and compile again.

Check three services and summarise

Source: examples/fan_out_fan_in.py
Inputs: none
Resources: none
Requires: kailash-rt 0.1.0 or newer, temporalio
    pip install "kailash-rt>=0.1.0" temporalio

Runs on Temporal (the server is TEMPORAL_ADDRESS, default localhost:7233):
    python service_health_report.py worker                 # serve the workflow until SIGTERM or Ctrl-C
    python service_health_report.py run --inputs '{...}'   # start a run, wait, print its result
"""

import asyncio
from typing import Any

import kailash_rt as rt

rt.require_version("0.1.0", __name__)

# A library missing here stops the module with one line saying what to install.
with rt.client_libraries(__name__):
    import kailash_rt.temporal as rtt
    import temporalio.workflow


# node "list_targets"
@rtt.activity("list_targets")
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
@rtt.activity("check_latency", timeout=5)
async def check_latency(services: Any) -> Any:
    await asyncio.sleep(0.2)  # a slow probe
    slow = [s["name"] for s in services if s["latency_ms"] > 250]
    result = {"slow": slow, "ok": not slow}
    return result


# node "check_errors"
@rtt.activity(
    "check_errors",
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
@rtt.activity("check_inventory", on_error=rt.Fallback({"names": [], "count": 0}))
async def check_inventory(services: Any) -> Any:
    await asyncio.sleep(0.2)
    names = sorted(s["name"] for s in services)
    result = {"names": names, "count": len(names)}
    return result


# node "report"
@rtt.activity("report")
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


# The activities a worker runs: the node functions above, each declared with @rtt.activity (its
# timeout enforced in the activity, its retries Temporal's RetryPolicy) or as a pattern the
# workflow runs itself (a parallel map's items, a parallel fetch's operations, a primary and its
# fallback are activities of their own). The worker creates the resources on first use, shares
# them among its activities and closes them when it stops.
NODES = rtt.Nodes(
    "service_health_report",
    [list_targets, check_latency, check_errors, check_inventory, report],
)

# The workflow's IR hash names the queue: a recompiled, changed graph gets a queue of its own,
# so runs in flight finish on workers of the graph they started with.
TASK_QUEUE = "service_health_report-231e5c3ba8be"


@temporalio.workflow.defn(name="service_health_report")
class Workflow:
    """The workflow: run() registers the nodes; each runs as its activity when its inputs are ready."""

    @temporalio.workflow.run
    async def run(self, inputs: dict[str, Any]) -> dict[str, Any]:
        """One run: {"results": {node_id: output}, "errors": {node_id: message}}."""
        async with rtt.Run("service_health_report", inputs, NODES) as r:
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
        return dict(r.result)


if __name__ == "__main__":
    rtt.main(Workflow, NODES, TASK_QUEUE)
