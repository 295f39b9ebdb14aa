"""order_totals: compiled workflow. Do not edit; edit the workflow and compile again.

Source: examples/order_totals.py
Inputs:
    order (used by price_lines, apply_discount)
    tax_rate (used by apply_tax)
Resources: none
Requires: kailash-rt 0.1.0 or newer
    pip install "kailash-rt>=0.1.0"
"""

from collections.abc import Mapping
from typing import Any

import kailash_rt as rt

rt.require_version("0.1.0", __name__)


# node "price_lines"
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
async def apply_discount(subtotal: Any, order: Any) -> Any:
    codes = {"WELCOME10": 0.10, "VIP25": 0.25}
    rate = codes.get(order.get("discount_code", ""), 0.0)
    result = {"discounted": round(subtotal * (1 - rate), 2), "discount_rate": rate}
    return result


# node "apply_tax"
async def apply_tax(discounted: Any, tax_rate: Any) -> Any:
    total = round(discounted * (1 + tax_rate), 2)
    result = {"total": total, "tax": round(total - discounted, 2), "currency": "EUR"}
    return result


# Where each node's code is in the workflow file; kailash_rt names the line in a note on an
# exception raised in that code. {function: (node id, file line of code line 1, runs of
# "lines=code line", lines counted from the function's first line)}
SOURCE_LINES = (
    "examples/order_totals.py",
    {
        "price_lines": ("price_lines", 18, "1=1 2-9=2 10=6"),
        "apply_discount": ("apply_discount", 30, "1=1 2=2 3=3"),
        "apply_tax": ("apply_tax", 39, "1=1 2=2"),
    },
)


async def run(
    inputs: Mapping[str, Any] | None = None,
    *,
    resources: Mapping[str, Any] | None = None,
) -> rt.RunResult:
    """Run the workflow once: {"results": {node_id: output}, "errors": {node_id: message}}."""
    async with rt.Run("order_totals", inputs, resources) as r:
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
    return r.result


if __name__ == "__main__":
    rt.main(run)
