"""database_resource: compiled workflow. Do not edit; edit the workflow and compile again.

Source: tests/workflows/kinds/database_resource.py
Inputs: none
Resources: orders_db (postgres)
Environment variables: ORDERS_DB_PASSWORD
Requires: kailash-rt 0.1.0 or newer, asyncpg
    pip install "kailash-rt>=0.1.0" asyncpg
"""

from collections.abc import Mapping
from typing import Any

import kailash_rt as rt

rt.require_version("0.1.0", __name__)

# Created on first use in a run and closed when the run ends. Every setting can be overridden
# from the environment as <RESOURCE>_<SETTING> (e.g. ORDERS_DB_HOST).
RESOURCES = rt.Resources(
    orders_db=rt.postgres(
        host="db.internal",
        port=5432,
        database="orders",
        user="reporter",
        password=rt.env("ORDERS_DB_PASSWORD"),
        min_size=2,
        max_size=5,
        command_timeout=30,
    )
)


# node "count_orders"
async def count_orders(orders_db: Any) -> Any:
    result = await orders_db.fetchval("SELECT count(*) FROM orders")
    return result


# Where each node's code is in the workflow file; kailash_rt names the line in a note on an
# exception raised in that code. {function: (node id, file line of code line 1, runs of
# "lines=code line", lines counted from the function's first line)}
SOURCE_LINES = (
    "tests/workflows/kinds/database_resource.py",
    {
        "count_orders": ("count_orders", 21, "1=1"),
    },
)


async def run(
    inputs: Mapping[str, Any] | None = None,
    *,
    resources: Mapping[str, Any] | None = None,
) -> rt.RunResult:
    """Run the workflow once: {"results": {node_id: output}, "errors": {node_id: message}}."""
    async with rt.Run("database_resource", inputs, resources, declared=RESOURCES) as r:
        r.node("count_orders", count_orders, orders_db=r.resource("orders_db"))
    return r.result


if __name__ == "__main__":
    rt.main(run)
