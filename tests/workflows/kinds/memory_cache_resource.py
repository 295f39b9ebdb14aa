"""with_cache(backend="memory"): the embedded in-process cache, needing no server."""

from kailash.workflow import AsyncWorkflowBuilder

builder = AsyncWorkflowBuilder("memory_cache_resource")
builder.with_cache(name="memo", backend="memory")

builder.add_async_code(
    "remember",
    """
await memo.set("greeting", "hello")
result = await memo.get("greeting")
""",
)
