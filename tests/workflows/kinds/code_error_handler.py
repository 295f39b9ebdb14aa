"""A code node with an error handler: on failure it logs and outputs a fallback value instead."""

from kailash.workflow import AsyncWorkflowBuilder, ErrorHandler

builder = AsyncWorkflowBuilder("code_error_handler")

builder.add_async_code(
    "read_settings",
    """
result = json.loads(text)
""",
    error_handler=ErrorHandler("fallback", {"theme": "light", "retries": 2}, log_level="error"),
)
