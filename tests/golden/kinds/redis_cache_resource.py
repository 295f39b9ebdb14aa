"""redis_cache_resource: compiled workflow. Do not edit; edit the workflow and compile again.

Source: tests/workflows/kinds/redis_cache_resource.py
Inputs: none
Resources: cache (redis cache)
Environment variables: CACHE_PASSWORD
Requires: kailash-rt 0.1.0 or newer, redis
    pip install "kailash-rt>=0.1.0" redis
"""

from collections.abc import Mapping
from typing import Any

import kailash_rt as rt

rt.require_version("0.1.0", __name__)

# Created on first use in a run and closed when the run ends. Every setting can be overridden
# from the environment as <RESOURCE>_<SETTING> (e.g. CACHE_BACKEND).
RESOURCES = rt.Resources(
    cache=rt.cache(
        backend="redis",
        host="cache.internal",
        port=6380,
        db=2,
        password=rt.env("CACHE_PASSWORD"),
    )
)


# node "read_counter"
async def read_counter(get_resource: Any) -> Any:
    client = await get_resource("cache")
    result = await client.get("counter")
    return result


# Where each node's code is in the workflow file; kailash_rt names the line in a note on an
# exception raised in that code. {function: (node id, file line of code line 1, runs of
# "lines=code line", lines counted from the function's first line)}
SOURCE_LINES = (
    "tests/workflows/kinds/redis_cache_resource.py",
    {
        "read_counter": ("read_counter", 13, "1=1 2=2"),
    },
)


async def run(
    inputs: Mapping[str, Any] | None = None,
    *,
    resources: Mapping[str, Any] | None = None,
) -> rt.RunResult:
    """Run the workflow once: {"results": {node_id: output}, "errors": {node_id: message}}."""
    async with rt.Run(
        "redis_cache_resource", inputs, resources, declared=RESOURCES
    ) as r:
        r.node("read_counter", read_counter, get_resource=r.get_resource)
    return r.result


if __name__ == "__main__":
    rt.main(run)
