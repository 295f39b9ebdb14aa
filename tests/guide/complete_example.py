import asyncio
import time

from kailash.runtime.async_local import AsyncLocalRuntime
from kailash.workflow import AsyncPatterns, AsyncWorkflowBuilder


async def main():
    """Create and execute a high-performance async workflow."""

    # Build async workflow
    builder = AsyncWorkflowBuilder("data_enrichment_pipeline")

    # Configure resources (these methods return the builder, so can be chained)
    builder = (builder
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

    # Add nodes (these return node_ids, not the builder)
    fetch_users_id = builder.add_async_code(
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

    # Enrich users with external data in parallel
    enrich_users_id = builder.add_parallel_map(
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

    # Aggregate results
    aggregate_results_id = builder.add_async_code(
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

    # Connect the workflow (using the returned node IDs)
    builder.add_connection(fetch_users_id, "users", enrich_users_id, "items")
    builder.add_connection(enrich_users_id, "results", aggregate_results_id, "results")

    # Build the workflow
    workflow = builder.build()

    # Add resilience patterns
    resilient_workflow = AsyncWorkflowBuilder("resilient_pipeline")

    # Add retry pattern for flaky operations
    AsyncPatterns.retry_with_backoff(
        resilient_workflow,
        "flaky_api_call",
        """
# Simulate flaky API that fails 50% of the time
import random
if random.random() < 0.5:
    raise Exception("API temporarily unavailable")
result = {"data": "success"}
""",
        max_retries=3,
        initial_backoff=0.5,
    )

    # Add rate limiting for external APIs
    AsyncPatterns.rate_limited(
        resilient_workflow,
        "rate_limited_calls",
        """
# Rate limited operation
result = {"processed": True, "timestamp": time.time()}
""",
        requests_per_second=5,
        burst_size=10,
    )

    # Execute workflows
    runtime = AsyncLocalRuntime()

    print("🚀 Executing data enrichment pipeline...")
    result = await runtime.execute_workflow_async(workflow, {})

    if len(result["errors"]) == 0:
        stats = result["results"]["aggregate_results"]["statistics"]
        print("✅ Pipeline completed successfully!")
        print(f"   - Total users: {stats['total']}")
        print(f"   - Active users: {stats['active']}")
        print(f"   - Average score: {stats['average_score']:.1f}")
    else:
        print(f"❌ Pipeline had errors:")
        for node_id, error in result["errors"].items():
            print(f"   - {node_id}: {error}")

    # Build and execute resilient workflow
    resilient = resilient_workflow.build()
    print("\n🛡️ Executing resilient workflow...")

    resilient_result = await runtime.execute_workflow_async(resilient, {})
    if len(resilient_result["errors"]) == 0:
        print("✅ Resilient workflow completed with retry logic")

    print("\n📊 AsyncWorkflowBuilder Benefits:")
    print("   - 70%+ code reduction vs traditional approach")
    print("   - Built-in resource management")
    print("   - Automatic error handling and retries")
    print("   - Parallel processing with rate limiting")
    print("   - Type-safe with full IDE support")


if __name__ == "__main__":
    asyncio.run(main())
