"""with_http_client: an aiohttp session; a secret header is read from the environment, never written."""

from kailash.workflow import AsyncWorkflowBuilder

builder = AsyncWorkflowBuilder("http_resource")
builder.with_http_client(
    name="api",
    base_url="https://api.example.com",
    headers={"Accept": "application/json", "X-Api-Key": "kinds-golden-api-secret"},
    timeout=10,
)

builder.add_async_code(
    "get_status",
    """
async with api.get("/status") as response:
    result = await response.json()
""",
)
