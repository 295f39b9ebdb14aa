"""AsyncPatterns.rate_limited: a token bucket shared by every run in the process."""

from kailash.workflow import AsyncPatterns, AsyncWorkflowBuilder

builder = AsyncWorkflowBuilder("rate_limited")

AsyncPatterns.rate_limited(
    builder,
    "notify",
    """
result = {"sent": message}
""",
    requests_per_second=20,
    burst_size=4,
)
