"""The compile cache stays bounded without slowing the warm path.

A cache directory is filled past its size limit with old entries (``KAILASH_COMPILE_CACHE_MAX_MB``
set low so the filling is quick: the same code prunes at any limit), then the 1,000-node chain of
bench_cli.py is compiled through the CLI, each a fresh process:

- the edit loop with a cache under its limit, and with the cache over it (the first such compile
  prunes, at most once an hour; the figure is that compile's time);
- a warm compile (nothing changed) with the full cache, and with the cache as pruning left it.

Printed: the cache's size before and after pruning against the limit, and the times side by
side. ``python bench/bench_cache.py [--nodes 1000] [--limit-mb 16] [--repeats 3]``
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_cli import COMPILER, WORKFLOW, bytecode_env

_DAY = 86400


def timed_compile(source: Path, out: Path, env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run([*COMPILER, str(source), "-o", str(out)], env=env, check=True, capture_output=True)
    return time.perf_counter() - start


def size_mb(directory: Path) -> float:
    return sum(path.stat().st_size for path in directory.rglob("*") if path.is_file()) / 2**20


def fill(directory: Path, megabytes: int, age_days: float) -> None:
    """Entries as the cache names them (two hex digits, then the key), ``age_days`` old."""
    block = os.urandom(64 * 1024)
    then = time.time() - age_days * _DAY
    for index in range(megabytes * 16):
        key = f"{index:064x}"
        path = directory / key[:2] / key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(block)
        os.utime(path, (then, then))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=1000)
    parser.add_argument("--limit-mb", type=int, default=16)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    base = bytecode_env()
    base["KAILASH_COMPILE_CACHE_MAX_MB"] = str(args.limit_mb)
    edits: dict[str, list[float]] = {"under the limit": [], "over it (this compile prunes)": []}
    warms: dict[str, list[float]] = {"full (over the limit)": [], "as pruning left it": []}
    sizes: list[tuple[float, float]] = []
    with tempfile.TemporaryDirectory(prefix="kailash-bench-cache-") as work:
        root = Path(work)
        source = root / "chain.py"
        out = root / "out"
        for repeat in range(args.repeats):
            for label in edits:
                cache = root / f"cache-{repeat}-{len(label)}"
                env = {**base, "KAILASH_COMPILE_CACHE": str(cache)}
                source.write_text(WORKFLOW.format(nodes=args.nodes, edited=args.nodes // 2, version=0))
                timed_compile(source, out, env)  # the module's state and entries
                (cache / ".pruned").unlink(missing_ok=True)
                if label.startswith("over"):
                    fill(cache, 2 * args.limit_mb, age_days=2)
                    warms["full (over the limit)"].append(timed_compile(source, out, env))  # writes nothing: no pruning
                    before = size_mb(cache)
                else:
                    (cache / ".pruned").touch()  # pruned a moment ago: this compile does not prune
                source.write_text(WORKFLOW.format(nodes=args.nodes, edited=args.nodes // 2, version=1))
                edits[label].append(timed_compile(source, out, env))
                if label.startswith("over"):
                    sizes.append((before, size_mb(cache)))
                    warms["as pruning left it"].append(timed_compile(source, out, env))
    print(f"kailash-compile on a {args.nodes:,}-node chain, fresh processes, median of {args.repeats}")
    before, after = (statistics.median(values) for values in zip(*sizes, strict=True))
    print(f"  cache size: {before:.1f} MB before, {after:.1f} MB after pruning (limit {args.limit_mb} MB)")
    for label, values in edits.items():
        print(f"  one node edited, cache {label:<30}: {statistics.median(values):6.2f} s")
    for label, values in warms.items():
        print(f"  nothing changed, cache {label:<30}: {statistics.median(values):6.2f} s")
    if after > args.limit_mb:
        sys.exit(f"FAILED: the cache is {after:.1f} MB after pruning, over its {args.limit_mb} MB limit")


if __name__ == "__main__":
    main()
