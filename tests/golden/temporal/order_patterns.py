"""order_patterns: compiled Temporal workflow. Do not edit; edit the workflow and compile again.

Price, check and record a batch of orders

Source: examples/all_patterns.py
Inputs: none
Resources: cache (memory cache)
Requires: kailash-rt 0.1.0 or newer, temporalio
    pip install "kailash-rt>=0.1.0" temporalio

Runs on Temporal (the server is TEMPORAL_ADDRESS, default localhost:7233):
    python order_patterns.py worker                 # serve the workflow until SIGTERM or Ctrl-C
    python order_patterns.py run --inputs '{...}'   # start a run, wait, print its result
"""

import asyncio
import random
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
# (e.g. CACHE_BACKEND).
RESOURCES = rt.Resources(cache=rt.cache(backend="memory"))


# node "load_orders"
@rtt.activity("load_orders")
async def load_orders() -> Any:
    orders = [{"id": i, "sku": f"sku-{i % 3}", "quantity": i + 1} for i in range(6)]
    result = {
        "orders": orders,
        "notes": ["fragile", "gift wrap", "express"],
        "customer_id": 42,
    }
    return result


# node "price_orders"
@rtt.parallel_map(
    "price_orders", max_workers=3, timeout_per_item=2, continue_on_error=True
)
async def price_orders(order):
    await asyncio.sleep(0.01)  # the pricing service
    return {**order, "total": order["quantity"] * 2.5}


# node "split_notes"
@rt.scatter_gather(worker_count=2)
def note_worker(item):
    return {"original": item, "normalised": item.upper(), "length": len(item)}


split_notes = rtt.activity("split_notes")(note_worker.scatter)


# node "note_worker_0"
note_worker_0 = rtt.activity("note_worker_0")(note_worker.process)


# node "note_worker_1"
note_worker_1 = rtt.activity("note_worker_1")(note_worker.process)


# node "join_notes"
join_notes = rtt.activity("join_notes")(note_worker.gather)


# node "reserve_stock"
@rtt.activity(
    "reserve_stock",
    retry=rtt.retry_with_backoff(
        max_retries=5,
        initial_backoff=0.01,
        backoff_factor=2.0,
        max_backoff=0.1,
        retry_on=(ConnectionError, TimeoutError),
    ),
)
async def reserve_stock(items: Any) -> Any:
    if random.random() < 0.3:
        raise ConnectionError("inventory service busy")
    result = {"reserved": len(items)}
    return result


# node "notify_warehouse"
@rtt.activity("notify_warehouse")
@rt.rate_limited(requests_per_second=50, burst_size=5)
async def notify_warehouse(reserved: Any) -> Any:
    result = {"notified": reserved, "at": time.time()}
    return result


# node "live_prices"
@rtt.timeout_with_fallback("live_prices", timeout_seconds=0.2)
async def live_prices() -> Any:
    await asyncio.sleep(1.0)  # the live feed
    result = {"eur_usd": 1.09}
    return result


# node "cached_prices"
@live_prices.fallback
async def cached_prices() -> Any:
    result = {"eur_usd": 1.08, "stale": True}
    return result


# node "charge_payment"
@rtt.activity("charge_payment")
@rt.circuit_breaker(failure_threshold=3, reset_timeout=30.0)
async def charge_payment(items: Any, rates: Any) -> Any:
    amount = sum(order["total"] for order in items) * rates["eur_usd"]
    result = {"charged": round(amount, 2), "currency": "USD"}
    return result


# node "write_audit_log"
@rtt.activity("write_audit_log")
@rt.batch_processor(batch_size=2, flush_interval=1.0)
async def write_audit_log(items: Any) -> Any:
    batch_results = [{"order": order["id"], "logged": True} for order in items]
    return batch_results


# node "lookup_customer"
lookup_customer = rtt.activity("lookup_customer")(
    rt.cache_check(cache="cache", key_template="customer_{customer_id}")
)


# node "fetch_customer"
@rtt.activity("fetch_customer")
@rt.cache_fetch
async def fetch_customer(customer_id: Any) -> Any:
    await asyncio.sleep(0.01)  # the customer service
    result = {"id": customer_id, "name": "Ada", "tier": "gold"}
    return result


# node "store_customer"
store_customer = rtt.activity("store_customer")(
    rt.cache_store(cache="cache", ttl_seconds=3600)
)


# node "dashboard"
async def dashboard_open_orders() -> Any:
    await asyncio.sleep(0.01)
    result = {"count": 17}
    return result


async def dashboard_carriers() -> Any:
    await asyncio.sleep(0.01)
    result = ["dhl", "ups"]
    return result


dashboard = rtt.parallel_fetch(
    "dashboard",
    {"open_orders": dashboard_open_orders, "carriers": dashboard_carriers},
    timeout_per_operation=1.0,
    continue_on_error=True,
)


# The activities a worker runs: the node functions above, each declared with @rtt.activity (its
# timeout enforced in the activity, its retries Temporal's RetryPolicy) or as a pattern the
# workflow runs itself (a parallel map's items, a parallel fetch's operations, a primary and its
# fallback are activities of their own). The worker creates the resources on first use, shares
# them among its activities and closes them when it stops.
NODES = rtt.Nodes(
    "order_patterns",
    [
        load_orders,
        price_orders,
        split_notes,
        note_worker_0,
        note_worker_1,
        join_notes,
        reserve_stock,
        notify_warehouse,
        live_prices,
        charge_payment,
        write_audit_log,
        lookup_customer,
        fetch_customer,
        store_customer,
        dashboard,
    ],
    resources=RESOURCES,
)

# The workflow's IR hash names the queue: a recompiled, changed graph gets a queue of its own,
# so runs in flight finish on workers of the graph they started with.
TASK_QUEUE = "order_patterns-a08702ab58b5"


@temporalio.workflow.defn(name="order_patterns")
class Workflow:
    """The workflow: run() registers the nodes; each runs as its activity when its inputs are ready."""

    @temporalio.workflow.run
    async def run(self, inputs: dict[str, Any]) -> dict[str, Any]:
        """One run: {"results": {node_id: output}, "errors": {node_id: message}}."""
        async with rtt.Run("order_patterns", inputs, NODES) as r:
            load_orders_out = r.node("load_orders", load_orders)
            price_orders_out = r.node(
                "price_orders",
                price_orders,
                items=load_orders_out["orders"],
            )
            split_notes_out = r.node(
                "split_notes",
                split_notes,
                items=load_orders_out["notes"],
            )
            note_worker_0_out = r.node(
                "note_worker_0",
                note_worker_0,
                items=split_notes_out["shard_0"],
                start=split_notes_out["start_0"],
            )
            note_worker_1_out = r.node(
                "note_worker_1",
                note_worker_1,
                items=split_notes_out["shard_1"],
                start=split_notes_out["start_1"],
            )
            r.node(
                "join_notes",
                join_notes,
                part_0=note_worker_0_out["results"],
                part_1=note_worker_1_out["results"],
            )
            reserve_stock_out = r.node(
                "reserve_stock",
                reserve_stock,
                items=price_orders_out["results"],
            )
            r.node(
                "notify_warehouse",
                notify_warehouse,
                reserved=reserve_stock_out["reserved"],
            )
            live_prices_out = r.node("live_prices", live_prices)
            cached_prices_out = r.node(
                "cached_prices",
                cached_prices,
                answer=live_prices_out,
            )
            r.node(
                "charge_payment",
                charge_payment,
                items=price_orders_out["results"],
                rates=cached_prices_out.result,
            )
            r.node(
                "write_audit_log",
                write_audit_log,
                items=price_orders_out["results"],
            )
            lookup_customer_out = r.node(
                "lookup_customer",
                lookup_customer,
                cache=r.resource("cache"),
                customer_id=load_orders_out["customer_id"],
            )
            fetch_customer_out = r.node(
                "fetch_customer",
                fetch_customer,
                cache_result=lookup_customer_out.result,
                customer_id=load_orders_out["customer_id"],
            )
            r.node(
                "store_customer",
                store_customer,
                fetch_data=fetch_customer_out.result,
                cache=r.resource("cache"),
            )
            r.node("dashboard", dashboard)
        return dict(r.result)


if __name__ == "__main__":
    rtt.main(Workflow, NODES, TASK_QUEUE)
