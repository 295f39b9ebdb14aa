"""Scatter-gather: a scatter node, one node per worker, and a gather node that keeps the input order."""

from kailash.workflow import AsyncWorkflowBuilder

builder = AsyncWorkflowBuilder("scatter_gather")

readings = builder.add_async_code("readings", "result = {'items': [4, 8, 15, 16, 23, 42]}")
builder.add_scatter_gather(
    "split_readings",
    "scale_worker",
    "join_readings",
    """
def process_item(item):
    return item * 10
""",
    worker_count=3,
)
builder.add_connection(readings, "items", "split_readings", "items")
