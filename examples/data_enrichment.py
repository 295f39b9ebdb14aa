"""The data-enrichment pipeline of the AsyncWorkflowBuilder guide ("Complete Example").

The builders are module-level, so ``kailash-compile examples/data_enrichment.py -o out/``
finds them; ``python examples/data_enrichment.py`` runs them in process instead.
"""

import asyncio

from kailash.runtime.async_local import AsyncLocalRuntime
from kailash.workflow import AsyncWorkflowBuilder

pipeline = (
    AsyncWorkflowBuilder("data_enrichment_pipeline")
    .with_database(
        name="main_db",
        host="localhost",
        port=5433,
        database="postgres",
        user="postgres",
        password="postgres",
    )
    .with_http_client(name="api", base_url="https://jsonplaceholder.typicode.com")
    .with_cache(name="redis", backend="redis", host="localhost", port=6379)
)

fetch_users_id = pipeline.add_async_code(
    "fetch_users",
    """
# Simulate database query
# In production, would use: db = await get_resource("main_db")
users = [
    {"id": 1, "name": "Alice", "email": "alice@example.com"},
    {"id": 2, "name": "Bob", "email": "bob@example.com"},
    {"id": 3, "name": "Charlie", "email": "charlie@example.com"},
    {"id": 4, "name": "David", "email": "david@example.com"},
    {"id": 5, "name": "Eve", "email": "eve@example.com"}
]
result = {"users": users}
""",
    timeout=10,
)

enrich_users_id = pipeline.add_parallel_map(
    "enrich_users",
    """
async def process_item(user):
    # In production: api = await get_resource("api")
    # Simulate API enrichment
    await asyncio.sleep(0.1)  # Simulate API latency

    enriched = user.copy()
    enriched["score"] = user["id"] * 10
    enriched["status"] = "active" if user["id"] % 2 == 0 else "pending"
    enriched["enriched_at"] = time.time()

    return enriched
""",
    max_workers=3,
    timeout_per_item=2,
    continue_on_error=True,
)

aggregate_results_id = pipeline.add_async_code(
    "aggregate_results",
    """
# Process enriched users
enriched_users = results

# Calculate statistics
total_users = len(enriched_users)
active_users = sum(1 for u in enriched_users if u.get("status") == "active")
average_score = sum(u.get("score", 0) for u in enriched_users) / total_users if total_users > 0 else 0

result = {
    "users": enriched_users,
    "statistics": {
        "total": total_users,
        "active": active_users,
        "pending": total_users - active_users,
        "average_score": average_score
    },
    "processed_at": time.time()
}
""",
    timeout=5,
)

pipeline.add_connection(fetch_users_id, "users", enrich_users_id, "items")
pipeline.add_connection(enrich_users_id, "results", aggregate_results_id, "results")


async def main() -> None:
    runtime = AsyncLocalRuntime()
    result = await runtime.execute_workflow_async(pipeline.build(), {})
    if result["errors"]:
        for node_id, error in result["errors"].items():
            print(f"{node_id}: {error}")
        raise SystemExit(1)
    stats = result["results"]["aggregate_results"]["statistics"]
    print(f"users: {stats['total']}, active: {stats['active']}, average score: {stats['average_score']:.1f}")


if __name__ == "__main__":
    asyncio.run(main())
