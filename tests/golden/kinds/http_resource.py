"""http_resource: compiled workflow. Do not edit; edit the workflow and compile again.

Source: tests/workflows/kinds/http_resource.py
Inputs: none
Resources: api (http)
Environment variables: API_HEADERS_X_API_KEY
Requires: kailash-rt 0.1.0 or newer, aiohttp
    pip install "kailash-rt>=0.1.0" aiohttp
"""

from collections.abc import Mapping
from typing import Any

import kailash_rt as rt

rt.require_version("0.1.0", __name__)

# Created on first use in a run and closed when the run ends. Every setting can be overridden
# from the environment as <RESOURCE>_<SETTING> (e.g. API_BASE_URL).
RESOURCES = rt.Resources(
    api=rt.http_client(
        base_url="https://api.example.com",
        headers={
            "Accept": "application/json",
            "X-Api-Key": rt.env("API_HEADERS_X_API_KEY"),
        },
        timeout=10,
    )
)


# node "get_status"
async def get_status(api: Any) -> Any:
    async with api.get("/status") as response:
        result = await response.json()
    return result


# Where each node's code is in the workflow file; kailash_rt names the line in a note on an
# exception raised in that code. {function: (node id, file line of code line 1, runs of
# "lines=code line", lines counted from the function's first line)}
SOURCE_LINES = (
    "tests/workflows/kinds/http_resource.py",
    {
        "get_status": ("get_status", 16, "1=1 2=2"),
    },
)


async def run(
    inputs: Mapping[str, Any] | None = None,
    *,
    resources: Mapping[str, Any] | None = None,
) -> rt.RunResult:
    """Run the workflow once: {"results": {node_id: output}, "errors": {node_id: message}}."""
    async with rt.Run("http_resource", inputs, resources, declared=RESOURCES) as r:
        r.node("get_status", get_status, api=r.resource("api"))
    return r.result


if __name__ == "__main__":
    rt.main(run)
