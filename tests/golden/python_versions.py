"""python_versions: compiled workflow. Do not edit; edit the workflow and compile again.

Source: tests/workflows/python_versions.py
Inputs:
    scores (used by report)
    threshold (used by report)
    words (used by match)
Resources: none
Requires: kailash-rt 0.1.0 or newer
    pip install "kailash-rt>=0.1.0"
"""

from collections.abc import Mapping
from typing import Any

import kailash_rt as rt

rt.require_version("0.1.0", __name__)


# node "report"
async def report(scores: Any, threshold: Any) -> Any:
    rows = [(name, score) for name, score in scores.items() if score >= threshold]
    width = max(len(name) for name, _ in rows)
    result = {
        "text": f"""Report
  {len(rows)} of {len(scores)} passed
    {", ".join(
        f"{name:<{width}}={score}" for name, score in rows
    )}
end""",
        "names": [name for name, _ in rows],
    }
    return result


# node "type"
async def type_(names: Any) -> Any:
    match names:
        case [first, *rest] if rest:
            result = {"kind": "many", "first": first, "rest": len(rest)}
        case [only]:
            result = {"kind": "one", "first": only, "rest": 0}
        case _:
            result = {"kind": "none", "first": None, "rest": 0}
    return result


# node "match"
async def match_(kind: Any, first: Any, words: Any) -> Any:
    try:
        raise ExceptionGroup("several", [ValueError(kind), KeyError(first)])
    except* ValueError as group:
        seen = [str(error) for error in group.exceptions]
    except* KeyError:
        pass
    totals = {
        (key := word[0]): [w for w in words if w.startswith(key)] for word in words
    }
    result = {"seen": seen, "totals": totals, "last": key}
    return result


# Where each node's code is in the workflow file; kailash_rt names the line in a note on an
# exception raised in that code. {function: (node id, file line of code line 1, runs of
# "lines=code line", lines counted from the function's first line)}
SOURCE_LINES = (
    "tests/workflows/python_versions.py",
    {
        "report": ("report", 16, "1=1 2=2 3-11=3"),
        "type_": ("type", 33, "1-2=1 3=3 4=1 5=5 6=1 7=7"),
        "match_": ("match", 46, "1=1 2=2 4=4 6=6 7-9=7 10=8"),
    },
)


async def run(
    inputs: Mapping[str, Any] | None = None,
    *,
    resources: Mapping[str, Any] | None = None,
) -> rt.RunResult:
    """Run the workflow once: {"results": {node_id: output}, "errors": {node_id: message}}."""
    async with rt.Run("python_versions", inputs, resources) as r:
        report_out = r.node(
            "report",
            report,
            scores=r.input("scores"),
            threshold=r.input("threshold"),
        )
        type__out = r.node("type", type_, names=report_out["names"])
        r.node(
            "match",
            match_,
            kind=type__out["kind"],
            first=type__out["first"],
            words=r.input("words"),
        )
    return r.result


if __name__ == "__main__":
    rt.main(run)
