"""AsyncPatterns.cache_aside: check, fetch on a miss, store; here on the embedded memory cache."""

from kailash.workflow import AsyncPatterns, AsyncWorkflowBuilder

builder = AsyncWorkflowBuilder("cache_aside")
builder.with_cache("profiles", backend="memory")

AsyncPatterns.cache_aside(
    builder,
    "check_profile",
    "fetch_profile",
    "store_profile",
    """
result = {"id": user_id, "name": "Ada"}
""",
    cache_resource="profiles",
    cache_key_template="profile_{user_id}",
    ttl_seconds=600,
)
