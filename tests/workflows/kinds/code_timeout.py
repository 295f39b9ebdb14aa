"""A code node with a timeout and a limit on how many of its runs may be in flight at once."""

from kailash.workflow import AsyncWorkflowBuilder

builder = AsyncWorkflowBuilder("code_timeout")

builder.add_async_code(
    "probe",
    """
await asyncio.sleep(0.01)
result = {"ok": True}
""",
    timeout=2.5,
    max_concurrent_tasks=4,
)
