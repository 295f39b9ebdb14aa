"""A run with something of everything to see: a retry, a fallback, a failed node and the node
skipped after it, and a parallel map with a failing item (tests/test_seeing_a_run.py)."""

from kailash.workflow import AsyncWorkflowBuilder, ErrorHandler, RetryPolicy

builder = AsyncWorkflowBuilder("observed_run")
flaky = builder.add_async_code(
    "flaky",
    """
if failures_left:
    failures_left.pop()
    raise ConnectionError("the service hung up")
result = {"values": values}
""",
    retry_policy=RetryPolicy(max_retries=2, base_delay=0.01, retry_on=[ConnectionError]),
)
builder.add_async_code(
    "guarded",
    """
settings = json.loads("{not json")
result = settings
""",
    error_handler=ErrorHandler("fallback", {"theme": "light"}, log_level="info"),
)
broken = builder.add_async_code(
    "broken",
    """
lookup = {"a": 1}
count = len(
    lookup
)
result = {"value": lookup[missing_key]}
""",
)
after = builder.add_async_code("after_broken", "result = value")
builder.add_connection(broken, "value", after, "value")
mapped = builder.add_parallel_map(
    "mapped",
    """
async def process_item(item):
    await asyncio.sleep(delay)
    return 100 // item
""",
    max_workers=2,
    continue_on_error=True,
)
builder.add_connection(flaky, "values", mapped, "items")
