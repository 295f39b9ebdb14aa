"""AsyncPatterns.parallel_fetch: named code blocks run concurrently, each with its own timeout."""

from kailash.workflow import AsyncPatterns, AsyncWorkflowBuilder

builder = AsyncWorkflowBuilder("parallel_fetch")

AsyncPatterns.parallel_fetch(
    builder,
    "dashboard",
    {
        "orders": """
await asyncio.sleep(0.01)
result = {"open": 17}
""",
        "carriers": """
result = ["dhl", "ups"]
""",
    },
    timeout_per_operation=3.0,
    continue_on_error=False,
)
