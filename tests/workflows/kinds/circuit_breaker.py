"""AsyncPatterns.circuit_breaker: after enough failures in a row, calls fail fast until a probe succeeds."""

from kailash.workflow import AsyncPatterns, AsyncWorkflowBuilder

builder = AsyncWorkflowBuilder("circuit_breaker")

AsyncPatterns.circuit_breaker(
    builder,
    "charge",
    """
result = {"charged": amount}
""",
    failure_threshold=3,
    reset_timeout=15.0,
)
