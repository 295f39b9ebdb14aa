"""A code node: its block becomes the body of an async function, its connections and inputs its parameters."""

from kailash.workflow import AsyncWorkflowBuilder

builder = AsyncWorkflowBuilder("code_node", description="A code node fed by another and by a workflow input")

numbers = builder.add_async_code("numbers", "result = {'values': [3, 1, 2]}")
total = builder.add_async_code(
    "total",
    """
result = {"sum": sum(values) * factor, "at": time.time()}
""",
    description="Adds the values, scaled by the factor given at run time",
)
builder.add_connection(numbers, "values", total, "values")
