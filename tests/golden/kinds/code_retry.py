"""code_retry: compiled workflow. Do not edit; edit the workflow and compile again.

Source: tests/workflows/kinds/code_retry.py
Inputs: none
Resources: none
Requires: kailash-rt 0.1.0 or newer
    pip install "kailash-rt>=0.1.0"
"""

import json
from collections.abc import Mapping
from typing import Any

import kailash_rt as rt

rt.require_version("0.1.0", __name__)


# node "fetch_quote"
@rt.node(
    retry=rt.Retry(
        attempts=4,
        delay=0.5,
        max_delay=10.0,
        retry_on=(ConnectionError, json.JSONDecodeError),
    )
)
async def fetch_quote() -> Any:
    result = {"price": 12.5}
    return result


# Where each node's code is in the workflow file; kailash_rt names the line in a note on an
# exception raised in that code. {function: (node id, file line of code line 1, runs of
# "lines=code line", lines counted from the function's first line)}
SOURCE_LINES = (
    "tests/workflows/kinds/code_retry.py",
    {
        "fetch_quote": ("fetch_quote", 10, "9=1"),
    },
)


async def run(
    inputs: Mapping[str, Any] | None = None,
    *,
    resources: Mapping[str, Any] | None = None,
) -> rt.RunResult:
    """Run the workflow once: {"results": {node_id: output}, "errors": {node_id: message}}."""
    async with rt.Run("code_retry", inputs, resources) as r:
        r.node("fetch_quote", fetch_quote)
    return r.result


if __name__ == "__main__":
    rt.main(run)
