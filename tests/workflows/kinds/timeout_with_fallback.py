"""AsyncPatterns.timeout_with_fallback: a primary node with a deadline and the fallback node it hands over to."""

from kailash.workflow import AsyncPatterns, AsyncWorkflowBuilder

builder = AsyncWorkflowBuilder("timeout_with_fallback")

AsyncPatterns.timeout_with_fallback(
    builder,
    "live_rate",
    "cached_rate",
    """
await asyncio.sleep(0.01)
result = {"rate": 1.09, "currency": currency}
""",
    """
result = {"rate": 1.08, "currency": currency, "stale": True}
""",
    timeout_seconds=0.5,
)
