"""with_database: a PostgreSQL pool; its password is read from the environment, never written."""

from kailash.workflow import AsyncWorkflowBuilder

builder = AsyncWorkflowBuilder("database_resource")
builder.with_database(
    name="orders_db",
    host="db.internal",
    port=5432,
    database="orders",
    user="reporter",
    password="kinds-golden-db-secret",
    min_size=2,
    max_size=5,
    command_timeout=30,
)

builder.add_async_code(
    "count_orders",
    """
result = await orders_db.fetchval("SELECT count(*) FROM orders")
""",
)
