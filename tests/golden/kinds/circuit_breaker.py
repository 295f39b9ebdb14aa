"""circuit_breaker: compiled workflow. Do not edit; edit the workflow and compile again.

Source: tests/workflows/kinds/circuit_breaker.py
Inputs:
    amount (used by charge)
Resources: none
Requires: kailash-rt 0.1.0 or newer
    pip install "kailash-rt>=0.1.0"
"""

from collections.abc import Mapping
from typing import Any

import kailash_rt as rt

rt.require_version("0.1.0", __name__)


# node "charge"
@rt.circuit_breaker(failure_threshold=3, reset_timeout=15.0)
async def charge(amount: Any) -> Any:
    result = {"charged": amount}
    return result


# Where each node's code is in the workflow file; kailash_rt names the line in a note on an
# exception raised in that code. {function: (node id, file line of code line 1, runs of
# "lines=code line", lines counted from the function's first line)}
SOURCE_LINES = (
    "tests/workflows/kinds/circuit_breaker.py",
    {
        "charge": ("charge", 11, "2=1"),
    },
)


async def run(
    inputs: Mapping[str, Any] | None = None,
    *,
    resources: Mapping[str, Any] | None = None,
) -> rt.RunResult:
    """Run the workflow once: {"results": {node_id: output}, "errors": {node_id: message}}."""
    async with rt.Run("circuit_breaker", inputs, resources) as r:
        r.node("charge", charge, amount=r.input("amount"))
    return r.result


if __name__ == "__main__":
    rt.main(run)
