"""Fan-out / fan-in: one source, three independent checks that run concurrently, one report.

The three checks each wait on a (simulated) remote service; because they do not depend
on each other they run at the same time, and the report starts once all three are done.
"""

import asyncio

from kailash.runtime import AsyncLocalRuntime
from kailash.workflow import AsyncWorkflowBuilder, ErrorHandler, RetryPolicy

health = AsyncWorkflowBuilder("service_health_report", description="Check three services and summarise")

targets = health.add_async_code(
    "list_targets",
    """
result = {
    "services": [
        {"name": "billing", "latency_ms": 120, "errors": 0},
        {"name": "search", "latency_ms": 480, "errors": 3},
        {"name": "auth", "latency_ms": 60, "errors": 0},
    ]
}
""",
)

latency = health.add_async_code(
    "check_latency",
    """
await asyncio.sleep(0.2)  # a slow probe
slow = [s["name"] for s in services if s["latency_ms"] > 250]
result = {"slow": slow, "ok": not slow}
""",
    timeout=5,
)

error_rate = health.add_async_code(
    "check_errors",
    """
await asyncio.sleep(0.2)  # another slow probe
failing = {s["name"]: s["errors"] for s in services if s["errors"]}
result = {"failing": failing, "ok": not failing}
""",
    timeout=5,
    retry_policy=RetryPolicy(max_retries=2, base_delay=0.1, retry_on=[ConnectionError, TimeoutError]),
)

inventory = health.add_async_code(
    "check_inventory",
    """
await asyncio.sleep(0.2)
names = sorted(s["name"] for s in services)
result = {"names": names, "count": len(names)}
""",
    error_handler=ErrorHandler("fallback", {"names": [], "count": 0}),
)

report = health.add_async_code(
    "report",
    """
healthy = latency["ok"] and errors["ok"]
result = {
    "healthy": healthy,
    "services": inventory["count"],
    "slow": latency["slow"],
    "failing": sorted(errors["failing"]),
}
""",
    description="One line per concern, ready for a status page",
)

for check in (latency, error_rate, inventory):
    health.add_connection(targets, "services", check, "services")
health.add_connection(latency, "result", report, "latency")
health.add_connection(error_rate, "result", report, "errors")
health.add_connection(inventory, "result", report, "inventory")


async def main() -> None:
    result = await AsyncLocalRuntime().execute_workflow_async(health.build(), {})
    print(result["results"]["report"])


if __name__ == "__main__":
    asyncio.run(main())
