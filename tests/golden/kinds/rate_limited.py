"""rate_limited: compiled workflow. Do not edit; edit the workflow and compile again.

Source: tests/workflows/kinds/rate_limited.py
Inputs:
    message (used by notify)
Resources: none
Requires: kailash-rt 0.1.0 or newer
    pip install "kailash-rt>=0.1.0"
"""

from collections.abc import Mapping
from typing import Any

import kailash_rt as rt

rt.require_version("0.1.0", __name__)


# node "notify"
@rt.rate_limited(requests_per_second=20, burst_size=4)
async def notify(message: Any) -> Any:
    result = {"sent": message}
    return result


# Where each node's code is in the workflow file; kailash_rt names the line in a note on an
# exception raised in that code. {function: (node id, file line of code line 1, runs of
# "lines=code line", lines counted from the function's first line)}
SOURCE_LINES = (
    "tests/workflows/kinds/rate_limited.py",
    {
        "notify": ("notify", 11, "2=1"),
    },
)


async def run(
    inputs: Mapping[str, Any] | None = None,
    *,
    resources: Mapping[str, Any] | None = None,
) -> rt.RunResult:
    """Run the workflow once: {"results": {node_id: output}, "errors": {node_id: message}}."""
    async with rt.Run("rate_limited", inputs, resources) as r:
        r.node("notify", notify, message=r.input("message"))
    return r.result


if __name__ == "__main__":
    rt.main(run)
