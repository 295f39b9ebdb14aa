"""Formatting alone, cold: the chunks of bench_cli.py's 1,000-node chain validated and formatted
with nothing in memory and an empty disk cache (``format_chunk_texts`` as the CLI calls it,
two jobs), beside black alone on the whole module, in the same process.

Each figure is the median of ``--repeats`` runs, each in a fresh process. Fails loudly if the
formatted module is not byte-identical to black's formatting of it. ``--compare DIR`` also
times another checkout's formatting (its ``compiler`` first on PYTHONPATH) on the same
chunks, in the same turns.

``python bench/bench_format.py [--nodes 1000] [--repeats 5] [--compare DIR]``
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_cli import WORKFLOW


def record_chunks(nodes: int, directory: Path) -> Path:
    """The texts the compile of the chain gives ``format_chunk_texts``, pickled."""
    import kailash.codegen
    from kailash.compile_api import compile_sources

    calls: list[tuple[list[str], int]] = []
    original = kailash.codegen.format_chunk_texts

    def recording(texts: list[str], *, jobs: int = 1, **options: bool) -> list[str]:
        calls.append((list(texts), jobs))
        return original(texts, jobs=jobs, **options)

    source = directory / "chain.py"
    source.write_text(WORKFLOW.format(nodes=nodes, edited=nodes // 2, version=0))
    os.environ["KAILASH_COMPILE_CACHE"] = ""
    kailash.codegen.format_chunk_texts = recording  # type: ignore[assignment]
    compile_sources([source], jobs=2)
    path = directory / "chunks.pickle"
    path.write_bytes(pickle.dumps(calls))
    return path


def time_formatting(chunks: Path) -> None:
    """In a fresh process: one cold formatting of the recorded chunks, then black on the module."""
    import black
    from kailash.codegen import formatting

    calls = pickle.loads(chunks.read_bytes())
    with tempfile.TemporaryDirectory(prefix="kailash-bench-format-") as cache:
        os.environ["KAILASH_COMPILE_CACHE"] = cache
        start = time.perf_counter()
        formatted = [text for texts, jobs in calls for text in formatting.format_chunk_texts(texts, jobs=jobs)]
        seconds = time.perf_counter() - start
    module = formatting.join_chunks(formatted)
    start = time.perf_counter()
    whole = black.format_str(module, mode=formatting.black_mode())
    black_seconds = time.perf_counter() - start
    print(json.dumps({"format": seconds, "black": black_seconds, "identical": whole == module}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--compare", type=Path, metavar="DIR", help="another checkout, measured in the same turns")
    parser.add_argument("--time", type=Path, help=argparse.SUPPRESS)  # the worker: time these chunks
    args = parser.parse_args()
    if args.time:
        time_formatting(args.time)
        return
    checkouts: dict[str, dict[str, str]] = {"this checkout": {}}
    if args.compare:
        checkouts[str(args.compare)] = {"PYTHONPATH": str(args.compare / "compiler")}
    figures: dict[str, list[dict[str, float]]] = {label: [] for label in checkouts}
    with tempfile.TemporaryDirectory(prefix="kailash-bench-format-") as work:
        chunks = record_chunks(args.nodes, Path(work))
        for _ in range(args.repeats):
            for label, extra in checkouts.items():
                command = [sys.executable, __file__, "--time", str(chunks)]
                done = subprocess.run(command, env={**os.environ, **extra}, capture_output=True, text=True, check=True)
                figure = json.loads(done.stdout)
                if not figure["identical"]:
                    sys.exit(f"FAILED: {label}: the formatted module is not what black makes of it")
                figures[label].append(figure)
    print(f"formatting alone, cold, the {args.nodes:,}-node chain's chunks, fresh processes, median of {args.repeats}:")
    for label, runs in figures.items():
        seconds = statistics.median(run["format"] for run in runs)
        black = statistics.median(run["black"] for run in runs)
        print(f"  {label}: {seconds:6.2f} s  (black alone on the module in that process: {black:.2f} s)")


if __name__ == "__main__":
    main()
