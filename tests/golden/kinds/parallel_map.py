"""parallel_map: compiled workflow. Do not edit; edit the workflow and compile again.

Source: tests/workflows/kinds/parallel_map.py
Inputs: none
Resources: none
Requires: kailash-rt 0.1.0 or newer
    pip install "kailash-rt>=0.1.0"
"""

import string
from collections.abc import Mapping
from typing import Any

import kailash_rt as rt

rt.require_version("0.1.0", __name__)


# node "words"
async def words() -> Any:
    result = {"words": ["alpha", "beta", "gamma"]}
    return result


# node "lengths"
VOWELS = set("aeiou")


@rt.parallel_map(
    input_field="words",
    output_field="counts",
    max_workers=2,
    batch_size=2,
    timeout_per_item=1.5,
    continue_on_error=True,
)
async def lengths(word):
    return {
        "word": word.strip(string.whitespace),
        "vowels": sum(c in VOWELS for c in word),
    }


# Where each node's code is in the workflow file; kailash_rt names the line in a note on an
# exception raised in that code. {function: (node id, file line of code line 1, runs of
# "lines=code line", lines counted from the function's first line)}
SOURCE_LINES = (
    "tests/workflows/kinds/parallel_map.py",
    {
        "words": ("words", 7, "1=1"),
        "lengths": ("lengths", 11, "9-12=7"),
    },
)


async def run(
    inputs: Mapping[str, Any] | None = None,
    *,
    resources: Mapping[str, Any] | None = None,
) -> rt.RunResult:
    """Run the workflow once: {"results": {node_id: output}, "errors": {node_id: message}}."""
    async with rt.Run("parallel_map", inputs, resources) as r:
        words_out = r.node("words", words)
        r.node("lengths", lengths, words=words_out["words"])
    return r.result


if __name__ == "__main__":
    rt.main(run)
