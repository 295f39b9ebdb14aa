"""Every pattern of the guide in one order-processing workflow.

Parallel map, scatter-gather, retry with backoff, rate limit, timeout with fallback,
circuit breaker, batch processing, cache-aside (on the embedded memory cache) and
parallel fetch. The remote services are simulated, so the workflow runs anywhere.
"""

import asyncio

from kailash.runtime import AsyncLocalRuntime
from kailash.workflow import AsyncPatterns, AsyncWorkflowBuilder

builder = AsyncWorkflowBuilder("order_patterns", description="Price, check and record a batch of orders")
builder.with_cache("cache", backend="memory")

orders = builder.add_async_code(
    "load_orders",
    """
orders = [{"id": i, "sku": f"sku-{i % 3}", "quantity": i + 1} for i in range(6)]
result = {"orders": orders, "notes": ["fragile", "gift wrap", "express"], "customer_id": 42}
""",
)

# Parallel map: price every order with at most three at a time.
priced = builder.add_parallel_map(
    "price_orders",
    """
async def process_item(order):
    await asyncio.sleep(0.01)  # the pricing service
    return {**order, "total": order["quantity"] * 2.5}
""",
    max_workers=3,
    timeout_per_item=2,
    continue_on_error=True,
)
builder.add_connection(orders, "orders", priced, "items")

# Scatter-gather: normalise the order notes over two workers.
gathered = builder.add_scatter_gather(
    "split_notes",
    "note_worker",
    "join_notes",
    """
def process_item(item):
    return {"original": item, "normalised": item.upper(), "length": len(item)}
""",
    worker_count=2,
)
builder.add_connection(orders, "notes", "split_notes", "items")

# Retry with backoff: the inventory service is busy now and then.
AsyncPatterns.retry_with_backoff(
    builder,
    "reserve_stock",
    """
if random.random() < 0.3:
    raise ConnectionError("inventory service busy")
result = {"reserved": len(items)}
""",
    max_retries=5,
    initial_backoff=0.01,
    max_backoff=0.1,
    retry_on=["ConnectionError", "TimeoutError"],
)
builder.add_connection(priced, "results", "reserve_stock", "items")

# Rate limit: the notification service takes 50 requests a second.
AsyncPatterns.rate_limited(
    builder,
    "notify_warehouse",
    """
result = {"notified": reserved, "at": time.time()}
""",
    requests_per_second=50,
    burst_size=5,
)
builder.add_connection("reserve_stock", "reserved", "notify_warehouse", "reserved")

# Timeout with fallback: the live price feed is too slow today.
AsyncPatterns.timeout_with_fallback(
    builder,
    "live_prices",
    "cached_prices",
    """
await asyncio.sleep(1.0)  # the live feed
result = {"eur_usd": 1.09}
""",
    """
result = {"eur_usd": 1.08, "stale": True}
""",
    timeout_seconds=0.2,
)

# Circuit breaker: the payment gateway.
AsyncPatterns.circuit_breaker(
    builder,
    "charge_payment",
    """
amount = sum(order["total"] for order in items) * rates["eur_usd"]
result = {"charged": round(amount, 2), "currency": "USD"}
""",
    failure_threshold=3,
    reset_timeout=30.0,
)
builder.add_connection(priced, "results", "charge_payment", "items")
builder.add_connection("cached_prices", "result", "charge_payment", "rates")

# Batch processing: write the audit log two orders at a time.
AsyncPatterns.batch_processor(
    builder,
    "write_audit_log",
    """
batch_results = [{"order": order["id"], "logged": True} for order in items]
""",
    batch_size=2,
    flush_interval=1.0,
)
builder.add_connection(priced, "results", "write_audit_log", "items")

# Cache-aside: the customer profile, cached for an hour.
AsyncPatterns.cache_aside(
    builder,
    "lookup_customer",
    "fetch_customer",
    "store_customer",
    """
await asyncio.sleep(0.01)  # the customer service
result = {"id": customer_id, "name": "Ada", "tier": "gold"}
""",
    cache_resource="cache",
    cache_key_template="customer_{customer_id}",
    ttl_seconds=3600,
)
builder.add_connection(orders, "customer_id", "lookup_customer", "customer_id")

# Parallel fetch: the dashboard figures, each with its own timeout.
AsyncPatterns.parallel_fetch(
    builder,
    "dashboard",
    {
        "open_orders": """
await asyncio.sleep(0.01)
result = {"count": 17}
""",
        "carriers": """
await asyncio.sleep(0.01)
result = ["dhl", "ups"]
""",
    },
    timeout_per_operation=1.0,
    continue_on_error=True,
)

workflow = builder.build()


async def main() -> None:
    result = await AsyncLocalRuntime().execute_workflow_async(workflow, {})
    for node_id, error in result["errors"].items():
        print(f"{node_id}: {error}")
    outputs = result["results"]
    print("priced:", [order["total"] for order in outputs["price_orders"]["results"]])
    print("notes:", [note["normalised"] for note in outputs["join_notes"]["results"]])
    print("reserve attempts:", outputs["reserve_stock"]["total_attempts"])
    print("price source:", outputs["cached_prices"]["_source"])
    print("charged:", outputs["charge_payment"]["charged"], outputs["charge_payment"]["_circuit_breaker_info"]["state"])
    print("audit batches:", outputs["write_audit_log"]["batch_count"])
    print("customer cached:", outputs["store_customer"]["cached"])
    print("dashboard:", sorted(outputs["dashboard"]["successful"]))


if __name__ == "__main__":
    asyncio.run(main())
