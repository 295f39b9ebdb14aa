"""memory_cache_resource: compiled workflow. Do not edit; edit the workflow and compile again.

Source: tests/workflows/kinds/memory_cache_resource.py
Inputs: none
Resources: memo (memory cache)
Requires: kailash-rt 0.1.0 or newer
    pip install "kailash-rt>=0.1.0"
"""

from collections.abc import Mapping
from typing import Any

import kailash_rt as rt

rt.require_version("0.1.0", __name__)

# Created on first use in a run and closed when the run ends. Every setting can be overridden
# from the environment as <RESOURCE>_<SETTING> (e.g. MEMO_BACKEND).
RESOURCES = rt.Resources(memo=rt.cache(backend="memory"))


# node "remember"
async def remember(memo: Any) -> Any:
    await memo.set("greeting", "hello")
    result = await memo.get("greeting")
    return result


# Where each node's code is in the workflow file; kailash_rt names the line in a note on an
# exception raised in that code. {function: (node id, file line of code line 1, runs of
# "lines=code line", lines counted from the function's first line)}
SOURCE_LINES = (
    "tests/workflows/kinds/memory_cache_resource.py",
    {
        "remember": ("remember", 11, "1=1 2=2"),
    },
)


async def run(
    inputs: Mapping[str, Any] | None = None,
    *,
    resources: Mapping[str, Any] | None = None,
) -> rt.RunResult:
    """Run the workflow once: {"results": {node_id: output}, "errors": {node_id: message}}."""
    async with rt.Run(
        "memory_cache_resource", inputs, resources, declared=RESOURCES
    ) as r:
        r.node("remember", remember, memo=r.resource("memo"))
    return r.result


if __name__ == "__main__":
    rt.main(run)
