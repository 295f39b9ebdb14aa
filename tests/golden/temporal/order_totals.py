"""order_totals: compiled Temporal workflow. Do not edit; edit the workflow and compile again.

Source: examples/order_totals.py
Inputs:
    order (used by price_lines, apply_discount)
    tax_rate (used by apply_tax)
Resources: none
Requires: kailash-rt 0.1.0 or newer, temporalio
    pip install "kailash-rt>=0.1.0" temporalio

Runs on Temporal (the server is TEMPORAL_ADDRESS, default localhost:7233):
    python order_totals.py worker                 # serve the workflow until SIGTERM or Ctrl-C
    python order_totals.py run --inputs '{...}'   # start a run, wait, print its result
"""

from typing import Any

import kailash_rt as rt

rt.require_version("0.1.0", __name__)

# A library missing here stops the module with one line saying what to install.
with rt.client_libraries(__name__):
    import kailash_rt.temporal as rtt
    import temporalio.workflow


# node "price_lines"
@rtt.activity("price_lines")
async def price_lines(order: Any) -> Any:
    prices = {"widget": 2.50, "gadget": 10.00, "gizmo": 7.25}
    priced = [
        {
            "sku": line["sku"],
            "qty": line["qty"],
            "amount": round(prices[line["sku"]] * line["qty"], 2),
        }
        for line in order["lines"]
    ]
    result = {"lines": priced, "subtotal": round(sum(p["amount"] for p in priced), 2)}
    return result


# node "apply_discount"
@rtt.activity("apply_discount")
async def apply_discount(subtotal: Any, order: Any) -> Any:
    codes = {"WELCOME10": 0.10, "VIP25": 0.25}
    rate = codes.get(order.get("discount_code", ""), 0.0)
    result = {"discounted": round(subtotal * (1 - rate), 2), "discount_rate": rate}
    return result


# node "apply_tax"
@rtt.activity("apply_tax")
async def apply_tax(discounted: Any, tax_rate: Any) -> Any:
    total = round(discounted * (1 + tax_rate), 2)
    result = {"total": total, "tax": round(total - discounted, 2), "currency": "EUR"}
    return result


# The activities a worker runs: the node functions above, each declared with @rtt.activity (its
# timeout enforced in the activity, its retries Temporal's RetryPolicy) or as a pattern the
# workflow runs itself (a parallel map's items, a parallel fetch's operations, a primary and its
# fallback are activities of their own). The worker creates the resources on first use, shares
# them among its activities and closes them when it stops.
NODES = rtt.Nodes(
    "order_totals",
    [price_lines, apply_discount, apply_tax],
)

# The workflow's IR hash names the queue: a recompiled, changed graph gets a queue of its own,
# so runs in flight finish on workers of the graph they started with.
TASK_QUEUE = "order_totals-942b2ef500ce"


@temporalio.workflow.defn(name="order_totals")
class Workflow:
    """The workflow: run() registers the nodes; each runs as its activity when its inputs are ready."""

    @temporalio.workflow.run
    async def run(self, inputs: dict[str, Any]) -> dict[str, Any]:
        """One run: {"results": {node_id: output}, "errors": {node_id: message}}."""
        async with rtt.Run("order_totals", inputs, NODES) as r:
            price_lines_out = r.node("price_lines", price_lines, order=r.input("order"))
            apply_discount_out = r.node(
                "apply_discount",
                apply_discount,
                subtotal=price_lines_out["subtotal"],
                order=r.input("order"),
            )
            r.node(
                "apply_tax",
                apply_tax,
                discounted=apply_discount_out["discounted"],
                tax_rate=r.input("tax_rate"),
            )
        return dict(r.result)


if __name__ == "__main__":
    rtt.main(Workflow, NODES, TASK_QUEUE)
