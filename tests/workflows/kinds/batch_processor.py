"""AsyncPatterns.batch_processor: the block runs once per batch of the input items."""

from kailash.workflow import AsyncPatterns, AsyncWorkflowBuilder

builder = AsyncWorkflowBuilder("batch_processor")

AsyncPatterns.batch_processor(
    builder,
    "write_log",
    """
batch_results = [{"line": item, "written": True} for item in items]
""",
    batch_size=25,
    flush_interval=2.0,
)
