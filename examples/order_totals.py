"""Workflow inputs: price a customer's order with a tax rate and discount code given at run time.

``order`` and ``tax_rate`` are not bound by any connection, so they are inputs of the
workflow; run it with ``python out/order_totals.py --inputs '{"order": {...}, "tax_rate": 0.2}'``
or pass them per node: ``{"price_lines": {"order": {...}}, "apply_tax": {"tax_rate": 0.2}}``.
"""

import asyncio

from kailash.runtime import AsyncLocalRuntime
from kailash.workflow import AsyncWorkflowBuilder

orders = AsyncWorkflowBuilder("order_totals")

lines = orders.add_async_code(
    "price_lines",
    """
prices = {"widget": 2.50, "gadget": 10.00, "gizmo": 7.25}
priced = [
    {"sku": line["sku"], "qty": line["qty"], "amount": round(prices[line["sku"]] * line["qty"], 2)}
    for line in order["lines"]
]
result = {"lines": priced, "subtotal": round(sum(p["amount"] for p in priced), 2)}
""",
)

discount = orders.add_async_code(
    "apply_discount",
    """
codes = {"WELCOME10": 0.10, "VIP25": 0.25}
rate = codes.get(order.get("discount_code", ""), 0.0)
result = {"discounted": round(subtotal * (1 - rate), 2), "discount_rate": rate}
""",
)

tax = orders.add_async_code(
    "apply_tax",
    """
total = round(discounted * (1 + tax_rate), 2)
result = {"total": total, "tax": round(total - discounted, 2), "currency": "EUR"}
""",
)

orders.add_connection(lines, "subtotal", discount, "subtotal")
orders.add_connection(discount, "discounted", tax, "discounted")


async def main() -> None:
    order = {"lines": [{"sku": "widget", "qty": 4}, {"sku": "gadget", "qty": 1}], "discount_code": "WELCOME10"}
    result = await AsyncLocalRuntime().execute_workflow_async(orders.build(), {"order": order, "tax_rate": 0.2})
    print(result["results"]["apply_tax"])


if __name__ == "__main__":
    asyncio.run(main())
