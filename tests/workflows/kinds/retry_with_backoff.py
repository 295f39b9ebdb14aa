"""AsyncPatterns.retry_with_backoff: retried with jittered exponential backoff on the named exceptions."""

from kailash.workflow import AsyncPatterns, AsyncWorkflowBuilder

builder = AsyncWorkflowBuilder("retry_with_backoff")

AsyncPatterns.retry_with_backoff(
    builder,
    "reserve_stock",
    """
result = {"reserved": len(items)}
""",
    max_retries=4,
    initial_backoff=0.2,
    backoff_factor=3.0,
    max_backoff=5.0,
    retry_on=["ConnectionError", "asyncio.TimeoutError"],
)
