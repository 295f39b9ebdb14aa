"""with_cache(backend="redis"): a redis.asyncio client, reached here through get_resource."""

from kailash.workflow import AsyncWorkflowBuilder

builder = AsyncWorkflowBuilder("redis_cache_resource")
builder.with_cache(
    name="cache", backend="redis", host="cache.internal", port=6380, db=2, password="kinds-golden-redis-secret"
)

builder.add_async_code(
    "read_counter",
    """
client = await get_resource("cache")
result = await client.get("counter")
""",
)
