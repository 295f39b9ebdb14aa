"""data_enrichment_pipeline: compiled workflow. Do not edit; edit the workflow and compile again.

Source: examples/data_enrichment.py
Inputs: none
Resources: main_db (postgres), api (http), redis (redis cache)
Environment variables: MAIN_DB_PASSWORD
Requires: kailash-rt 0.1.0 or newer, aiohttp, asyncpg, redis
    pip install "kailash-rt>=0.1.0" aiohttp asyncpg redis
"""

import asyncio
import time
from collections.abc import Mapping
from typing import Any

import kailash_rt as rt

rt.require_version("0.1.0", __name__)

# Created on first use in a run and closed when the run ends. Every setting can be overridden
# from the environment as <RESOURCE>_<SETTING> (e.g. MAIN_DB_HOST).
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
@rt.node(timeout=10)
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
@rt.parallel_map(max_workers=3, timeout_per_item=2, continue_on_error=True)
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
@rt.node(timeout=5)
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


# Where each node's code is in the workflow file; kailash_rt names the line in a note on an
# exception raised in that code. {function: (node id, file line of code line 1, runs of
# "lines=code line", lines counted from the function's first line)}
SOURCE_LINES = (
    "examples/data_enrichment.py",
    {
        "fetch_users": ("fetch_users", 29, "4-10=3 11=10"),
        "enrich_users": ("enrich_users", 46, "4=4 6=6 7=7 8=8 9=9 11=11"),
        "aggregate_results": ("aggregate_results", 66, "3=2 6=5 7=6 8-12=7 14-23=9"),
    },
)


async def run(
    inputs: Mapping[str, Any] | None = None,
    *,
    resources: Mapping[str, Any] | None = None,
) -> rt.RunResult:
    """Run the workflow once: {"results": {node_id: output}, "errors": {node_id: message}}."""
    async with rt.Run(
        "data_enrichment_pipeline", inputs, resources, declared=RESOURCES
    ) as r:
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
    return r.result


if __name__ == "__main__":
    rt.main(run)
