"""code_error_handler: compiled workflow. Do not edit; edit the workflow and compile again.

Source: tests/workflows/kinds/code_error_handler.py
Inputs:
    text (used by read_settings)
Resources: none
Requires: kailash-rt 0.1.0 or newer
    pip install "kailash-rt>=0.1.0"
"""

import json
from collections.abc import Mapping
from typing import Any

import kailash_rt as rt

rt.require_version("0.1.0", __name__)


# node "read_settings"
@rt.node(on_error=rt.Fallback({"theme": "light", "retries": 2}, log_level="error"))
async def read_settings(text: Any) -> Any:
    result = json.loads(text)
    return result


# Where each node's code is in the workflow file; kailash_rt names the line in a note on an
# exception raised in that code. {function: (node id, file line of code line 1, runs of
# "lines=code line", lines counted from the function's first line)}
SOURCE_LINES = (
    "tests/workflows/kinds/code_error_handler.py",
    {
        "read_settings": ("read_settings", 10, "2=1"),
    },
)


async def run(
    inputs: Mapping[str, Any] | None = None,
    *,
    resources: Mapping[str, Any] | None = None,
) -> rt.RunResult:
    """Run the workflow once: {"results": {node_id: output}, "errors": {node_id: message}}."""
    async with rt.Run("code_error_handler", inputs, resources) as r:
        r.node("read_settings", read_settings, text=r.input("text"))
    return r.result


if __name__ == "__main__":
    rt.main(run)
