"""``python module.py --inputs '<json>'``: run a generated module from the command line."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import traceback
from collections.abc import Callable, Coroutine, Sequence
from pathlib import Path
from typing import Any

from ._run import InputError, UpstreamFailed


def main(run: Callable[..., Coroutine[Any, Any, dict[str, Any]]], argv: Sequence[str] | None = None) -> None:
    """Parse ``--inputs``, run the workflow, print the result as JSON; exit 1 if a node errored."""
    module = sys.modules.get(run.__module__)
    parser = argparse.ArgumentParser(
        description=(module.__doc__ if module is not None else None) or "Run the compiled workflow.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--inputs",
        default="{}",
        help="workflow inputs as a JSON object, or @path to a JSON file",
    )
    parser.add_argument(
        "--traceback",
        action="store_true",
        help="print the traceback of every node that failed to stderr",
    )
    args = parser.parse_args(argv)
    text = Path(args.inputs[1:]).read_text() if args.inputs.startswith("@") else args.inputs
    try:
        inputs = json.loads(text)
    except json.JSONDecodeError as exc:
        parser.error(f"--inputs is not valid JSON: {exc}")
    if not isinstance(inputs, dict):
        parser.error("--inputs must be a JSON object")
    try:
        result: dict[str, Any] = asyncio.run(run(inputs))
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(2)
    if args.traceback:
        for node_id, failure in getattr(result, "exceptions", {}).items():
            if not isinstance(failure, UpstreamFailed):
                print(f"node {node_id!r} failed:", file=sys.stderr)
                traceback.print_exception(failure, file=sys.stderr)
    print(json.dumps(result, indent=2, default=repr))
    sys.exit(1 if result["errors"] else 0)
