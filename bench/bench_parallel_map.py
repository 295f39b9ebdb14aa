"""Parallel map: items per second and memory growth for 100,000 items, beside hand-written asyncio.

Every case runs in a fresh interpreter (so memory growth is its own): the RSS before the
map and the peak RSS after it. Cases, all with ``timeout_per_item=5`` and 10 workers:

- ``kailash_rt``: ``@rt.parallel_map`` over a trivial async item function;
- ``gather + semaphore``: what one writes by hand: a task per item, a semaphore, ``asyncio.timeout``;
- ``worker pool``: a hand-written pool of 10 tasks, ``asyncio.timeout`` per item;
- the same three where every item really suspends once (``await asyncio.sleep(0)``);
- a trivial plain ``def``: ``kailash_rt`` (the run's own 10 threads) beside a hand-written
  pool of 10 tasks handing items to the loop's default executor.

``python bench/bench_parallel_map.py [--items N] [--repeats R]``
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
WORKERS = 10
TIMEOUT = 5


async def trivial(item: int) -> int:
    return item * 2


async def suspending(item: int) -> int:
    await asyncio.sleep(0)
    return item * 2


def trivial_sync(item: int) -> int:
    return item * 2


async def with_kailash_rt(items: list[int], fn: Any) -> list[Any]:
    sys.path.insert(0, str(ROOT / "runtime_stub"))
    import kailash_rt as rt

    node = rt.parallel_map(max_workers=WORKERS, timeout_per_item=TIMEOUT, continue_on_error=True)(fn)
    out = await node(items=items)
    return list(out["results"])


async def with_gather(items: list[int], fn: Any) -> list[Any]:
    semaphore = asyncio.Semaphore(WORKERS)

    async def one(item: int) -> Any:
        async with semaphore:
            async with asyncio.timeout(TIMEOUT):
                return await fn(item)

    return list(await asyncio.gather(*(one(item) for item in items), return_exceptions=True))


async def with_worker_pool(items: list[int], fn: Any) -> list[Any]:
    results: list[Any] = [None] * len(items)
    indices = iter(range(len(items)))

    async def worker() -> None:
        for index in indices:
            try:
                async with asyncio.timeout(TIMEOUT):
                    results[index] = await fn(items[index])
            except Exception as exc:
                results[index] = exc

    await asyncio.gather(*(worker() for _ in range(WORKERS)))
    return results


async def with_executor_pool(items: list[int], fn: Any) -> list[Any]:
    results: list[Any] = [None] * len(items)
    indices = iter(range(len(items)))
    loop = asyncio.get_running_loop()

    async def worker() -> None:
        for index in indices:
            try:
                async with asyncio.timeout(TIMEOUT):
                    results[index] = await loop.run_in_executor(None, fn, items[index])
            except Exception as exc:
                results[index] = exc

    await asyncio.gather(*(worker() for _ in range(WORKERS)))
    return results


CASES = {
    "kailash_rt": (with_kailash_rt, trivial),
    "gather + semaphore": (with_gather, trivial),
    "worker pool": (with_worker_pool, trivial),
    "kailash_rt, suspending": (with_kailash_rt, suspending),
    "gather + semaphore, suspending": (with_gather, suspending),
    "worker pool, suspending": (with_worker_pool, suspending),
    "kailash_rt, plain def": (with_kailash_rt, trivial_sync),
    "executor pool, plain def": (with_executor_pool, trivial_sync),
}


RATIOS = [
    ("kailash_rt", "worker pool"),
    ("kailash_rt, suspending", "worker pool, suspending"),
    ("kailash_rt, plain def", "executor pool, plain def"),
]


def rss_kib() -> int:
    with open("/proc/self/statm") as statm:
        pages = int(statm.read().split()[1])
    return pages * resource.getpagesize() // 1024


def measure(case: str, count: int) -> dict[str, float]:
    """One measurement in this process: seconds, and peak RSS growth in MiB."""
    run_map, fn = CASES[case]
    items = list(range(count))
    asyncio.run(run_map(items[:1000], fn))  # warm up imports and the loop machinery
    before = rss_kib()
    started = time.perf_counter()
    results = asyncio.run(run_map(items, fn))
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    assert results[: len(items)] == [i * 2 for i in items], "wrong results"
    return {"seconds": seconds, "growth_mib": max(0, peak - before) / 1024}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--case", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.case:
        print(json.dumps(measure(args.case, args.items)))
        return
    print(f"parallel map of {args.items:,} items, {WORKERS} workers, timeout_per_item={TIMEOUT}")
    print(f"median of {args.repeats} runs, each in a fresh interpreter\n")
    print(f"{'case':<34}{'items/s':>14}{'memory growth':>16}")
    rates: dict[str, float] = {}
    for case in CASES:
        runs = []
        for _ in range(args.repeats):
            done = subprocess.run(
                [sys.executable, __file__, "--case", case, "--items", str(args.items)],
                capture_output=True,
                text=True,
                check=True,
            )
            runs.append(json.loads(done.stdout))
        runs.sort(key=lambda r: r["seconds"])
        middle = runs[len(runs) // 2]
        rate = rates[case] = args.items / middle["seconds"]
        print(f"{case:<34}{rate:>14,.0f}{middle['growth_mib']:>13.1f} MB")
    print("\nkailash_rt / hand-written worker pool (same run):")
    for ours, theirs in RATIOS:
        print(f"  {ours:<30}{rates[ours] / rates[theirs]:>6.2f}x  {theirs}")


if __name__ == "__main__":
    main()
