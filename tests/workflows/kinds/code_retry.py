"""A code node with a retry policy: a builtin exception and one a module must be imported for."""

from kailash.workflow import AsyncWorkflowBuilder, RetryPolicy

builder = AsyncWorkflowBuilder("code_retry")

builder.add_async_code(
    "fetch_quote",
    """
result = {"price": 12.5}
""",
    retry_policy=RetryPolicy(
        max_retries=3,
        base_delay=0.5,
        max_delay=10.0,
        retry_on=[ConnectionError, "json.JSONDecodeError"],
    ),
)
