"""data_enrichment_pipeline: compiled Temporal workflow. Do not edit; edit the workflow and compile again.

Source: examples/data_enrichment.py
Inputs: none
Resources: main_db (postgres), api (http), redis (redis cache)
Environment variables: MAIN_DB_PASSWORD
Requires: kailash-rt 0.1.0 or newer, aiohttp, asyncpg, redis, temporalio
    pip install "kailash-rt>=0.1.0" aiohttp asyncpg redis temporalio

Runs on Temporal (the server is TEMPORAL_ADDRESS, default localhost:7233):
    python data_enrichment_pipeline.py worker                 # serve the workflow until SIGTERM or Ctrl-C
    python data_enrichment_pipeline.py run --inputs '{...}'   # start a run, wait, print its result
"""

import asyncio
import time
from typing import Any

import kailash_rt as rt

rt.require_version("0.1.0", __name__)

# A library missing here stops the module with one line saying what to install.
with rt.client_libraries(__name__):
    import kailash_rt.temporal as rtt
    import temporalio.workflow

# Created in the worker process on first use, shared by its activities and closed when the
# worker stops. Every setting can be overridden from the environment as <RESOURCE>_<SETTING>
# (e.g. MAIN_DB_HOST).
RESOURCES = rt.Resources(
    main_db=rt.postgres(
        host="localhost",
        port=5433,
        database="postgres",
        user="postgres",
        password=rt.env("MAIN_DB_PASSWORD"),
        min_size=1,
        max_size=10,
    ),
    api=rt.http_client(
        base_url="https://jsonplaceholder.typicode.com", headers={}, timeout=30
    ),
    redis=rt.cache(backend="redis", host="localhost", port=6379, db=0),
)


# node "fetch_users"
@rtt.activity("fetch_users", timeout=10)
async def fetch_users() -> Any:
    # Simulate database query
    # In production, would use: db = await get_resource("main_db")
    users = [
        {"id": 1, "name": "Alice", "email": "alice@example.com"},
        {"id": 2, "name": "Bob", "email": "bob@example.com"},
        {"id": 3, "name": "Charlie", "email": "charlie@example.com"},
        {"id": 4, "name": "David", "email": "david@example.com"},
        {"id": 5, "name": "Eve", "email": "eve@example.com"},
    ]
    result = {"users": users}
    return result


# node "enrich_users"
@rtt.parallel_map(
    "enrich_users", max_workers=3, timeout_per_item=2, continue_on_error=True
)
async def enrich_users(user):
    # In production: api = await get_resource("api")
    # Simulate API enrichment
    await asyncio.sleep(0.1)  # Simulate API latency

    enriched = user.copy()
    enriched["score"] = user["id"] * 10
    enriched["status"] = "active" if user["id"] % 2 == 0 else "pending"
    enriched["enriched_at"] = time.time()

    return enriched


# node "aggregate_results"
@rtt.activity("aggregate_results", timeout=5)
async def aggregate_results(results: Any) -> Any:
    # Process enriched users
    enriched_users = results

    # Calculate statistics
    total_users = len(enriched_users)
    active_users = sum(1 for u in enriched_users if u.get("status") == "active")
    average_score = (
        sum(u.get("score", 0) for u in enriched_users) / total_users
        if total_users > 0
        else 0
    )

    result = {
        "users": enriched_users,
        "statistics": {
            "total": total_users,
            "active": active_users,
            "pending": total_users - active_users,
            "average_score": average_score,
        },
        "processed_at": time.time(),
    }
    return result


# The activities a worker runs: the node functions above, each declared with @rtt.activity (its
# timeout enforced in the activity, its retries Temporal's RetryPolicy) or as a pattern the
# workflow runs itself (a parallel map's items, a parallel fetch's operations, a primary and its
# fallback are activities of their own). The worker creates the resources on first use, shares
# them among its activities and closes them when it stops.
NODES = rtt.Nodes(
    "data_enrichment_pipeline",
    [fetch_users, enrich_users, aggregate_results],
    resources=RESOURCES,
)

# The workflow's IR hash names the queue: a recompiled, changed graph gets a queue of its own,
# so runs in flight finish on workers of the graph they started with.
TASK_QUEUE = "data_enrichment_pipeline-ef6a1a105cb3"


@temporalio.workflow.defn(name="data_enrichment_pipeline")
class Workflow:
    """The workflow: run() registers the nodes; each runs as its activity when its inputs are ready."""

    @temporalio.workflow.run
    async def run(self, inputs: dict[str, Any]) -> dict[str, Any]:
        """One run: {"results": {node_id: output}, "errors": {node_id: message}}."""
        async with rtt.Run("data_enrichment_pipeline", inputs, NODES) as r:
            fetch_users_out = r.node("fetch_users", fetch_users)
            enrich_users_out = r.node(
                "enrich_users",
                enrich_users,
                items=fetch_users_out["users"],
            )
            r.node(
                "aggregate_results",
                aggregate_results,
                results=enrich_users_out["results"],
            )
        return dict(r.result)


if __name__ == "__main__":
    rtt.main(Workflow, NODES, TASK_QUEUE)
