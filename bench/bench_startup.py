"""What the command line does before it compiles: ``import kailash.cli``, then loading the
1,000-node chain of bench_cli.py (importing ``kailash.sources`` and what it needs, running the
workflow file: 1,000 ``add_async_code`` and about 2,000 ``add_connection`` calls), each in a fresh
process. Targets: import <= 60 ms, load <= 120 ms. Each figure is the median of ``--repeats``
runs; ``--compare DIR`` measures another checkout in the same turns.

``python bench/bench_startup.py [--nodes 1000] [--repeats 9] [--compare DIR]``
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from bench_cli import WORKFLOW

ROOT = Path(__file__).resolve().parents[1]

PROBE = """
import json, sys, time
start = time.perf_counter()
import kailash.cli
imported = time.perf_counter()
from kailash.sources import load_workflows
ready = time.perf_counter()
load_workflows(sys.argv[1])
loaded = time.perf_counter()
print(json.dumps({"import kailash.cli": imported - start, "import kailash.sources": ready - imported,
                  "load_workflows": loaded - ready, "load, imports included": loaded - imported}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=9)
    parser.add_argument("--compare", type=Path, metavar="DIR", help="another checkout, measured in the same turns")
    args = parser.parse_args()
    checkouts = [ROOT, *([args.compare.resolve()] if args.compare else [])]
    times: dict[Path, dict[str, list[float]]] = {checkout: {} for checkout in checkouts}
    with tempfile.TemporaryDirectory(prefix="kailash-bench-startup-") as work:
        source = Path(work) / "chain.py"
        source.write_text(WORKFLOW.format(nodes=args.nodes, edited=args.nodes // 2, version=0))
        for _ in range(args.repeats):
            for checkout in checkouts:
                path = os.pathsep.join([str(checkout / "compiler"), str(checkout / "runtime_stub")])
                done = subprocess.run(
                    [sys.executable, "-c", PROBE, str(source)],
                    env={**os.environ, "PYTHONPATH": path},
                    cwd=work,
                    capture_output=True,
                    text=True,
                    check=True,
                )
                for label, seconds in json.loads(done.stdout).items():
                    times[checkout].setdefault(label, []).append(seconds)
    print(f"before compiling a {args.nodes:,}-node chain, fresh processes, median of {args.repeats} (ms):")
    for checkout in checkouts:
        print(f"  {'this checkout' if checkout == ROOT else checkout}:")
        for label, values in times[checkout].items():
            print(f"    {label:24s}: {statistics.median(values) * 1000:7.1f}")


if __name__ == "__main__":
    main()
