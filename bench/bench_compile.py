"""Compile time of a 1,000-node workflow: cold, warm in process, warm from the disk cache.

Printed beside the time black alone takes to format the whole generated module, measured
in the same run. Also checks that chunk-by-chunk formatting equals formatting the whole
module with black. Targets: about 2 s cold, well under a second warm.

``--large N`` (e.g. 10000) also compiles an N-node workflow, each size in a fresh process
with empty caches, and prints how each time grows from the smaller size (linear growth:
10x the nodes, at most 10x the time) and the compiler process's peak memory. Building the
workflow (the builder calls) is timed apart and counted in every compile time.

``python bench/bench_compile.py [--nodes 1000] [--large 10000]``
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time

import black
from kailash.codegen import compile_ir, formatting
from kailash.targets.asyncio import chunk_facts
from kailash.workflow import AsyncWorkflowBuilder

NODES = 1000


def big_builder(nodes: int = NODES, changed_node: int = -1, rewired_node: int = -1) -> AsyncWorkflowBuilder:
    """A layered workflow: each node reads two upstream outputs and does a little work.

    ``changed_node`` has an edited comment; ``rewired_node`` reads three nodes back instead of two."""
    builder = AsyncWorkflowBuilder("big_workflow")
    for index in range(nodes):
        code = f"""
        # step {index}{" (edited)" if index == changed_node else ""}
        values = [left, right] if {index} > 1 else [1, 2]
        total = sum(v for v in values if isinstance(v, (int, float)))
        result = {{"value": total % 1000003, "step": {index}, "label": "node-{index}"}}
        """
        builder.add_async_code(f"step_{index}", code, timeout=30)
        if index > 1:
            builder.add_connection(f"step_{index - 1}", "value", f"step_{index}", "left")
            right = index - 3 if index == rewired_node else index - 2
            builder.add_connection(f"step_{right}", "value", f"step_{index}", "right")
    return builder


def compile_seconds(builder: AsyncWorkflowBuilder) -> tuple[float, str]:
    """Seconds to compile as the CLI does (black in one worker per core for many new chunks)."""
    start = time.perf_counter()
    source = compile_ir(builder.build().ir, jobs=os.cpu_count() or 1).source
    return time.perf_counter() - start, source


def growth_figures(nodes: int) -> dict[str, float]:
    """In this (fresh) process, with an empty disk cache: build, cold, warm and one-edit times."""
    with tempfile.TemporaryDirectory() as cache:
        os.environ["KAILASH_COMPILE_CACHE"] = cache
        start = time.perf_counter()
        builder = big_builder(nodes)
        build = time.perf_counter() - start
        cold, source = compile_seconds(builder)
        start = time.perf_counter()
        warm_source = compile_ir(big_builder(nodes).build().ir, jobs=os.cpu_count() or 1).source
        warm = time.perf_counter() - start
        assert warm_source == source, "two compiles differ"
        start = time.perf_counter()
        compile_ir(big_builder(nodes, changed_node=nodes // 2).build().ir, jobs=os.cpu_count() or 1)
        edited = time.perf_counter() - start
    return {
        "build": build,
        "cold": build + cold,
        "warm": warm,
        "edited": edited,
        "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def growth(small: int, large: int) -> None:
    figures = {}
    for nodes in (small, large):
        done = subprocess.run(
            [sys.executable, __file__, "--figures-for", str(nodes)],
            capture_output=True,
            text=True,
            check=True,
        )
        figures[nodes] = json.loads(done.stdout)
    print(f"\ngrowth from {small:,} to {large:,} nodes (each in a fresh process, empty caches; target <= 10x):")
    rows = [
        ("build the workflow (builder calls)", "build"),
        ("compile, cold (build included)", "cold"),
        ("compile, warm (build included)", "warm"),
        ("compile, one node edited", "edited"),
    ]
    print(f"  {'':<36}{small:>10,}{large:>10,}   growth")
    for label, key in rows:
        a, b = figures[small][key], figures[large][key]
        print(f"  {label:<36}{a:>9.2f}s{b:>9.2f}s   {b / a:5.2f}x")
    a, b = figures[small]["peak_mib"], figures[large]["peak_mib"]
    print(f"  {'peak memory of the compiler process':<36}{a:>8.0f}MB{b:>8.0f}MB   {b / a:5.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=NODES)
    parser.add_argument("--large", type=int, default=0, help="also compile this many nodes and print the growth")
    parser.add_argument("--growth-only", action="store_true", help="skip the single-size figures")
    parser.add_argument("--figures-for", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.figures_for:
        print(json.dumps(growth_figures(args.figures_for)))
        return
    if not args.growth_only:
        single(args.nodes)
    if args.large:
        growth(args.nodes, args.large)


def single(nodes: int) -> None:
    with tempfile.TemporaryDirectory() as cache:
        os.environ["KAILASH_COMPILE_CACHE"] = cache
        cold, source = compile_seconds(big_builder(nodes))
        warm_memory, again = compile_seconds(big_builder(nodes))
        assert again == source, "two compiles differ"
        one_changed, _ = compile_seconds(big_builder(nodes, changed_node=nodes // 2))
        rewired, _ = compile_seconds(big_builder(nodes, rewired_node=nodes // 2))
        formatting._memory.clear()
        chunk_facts.forget()  # what validation read, in memory
        warm_disk, _ = compile_seconds(big_builder(nodes))
        child = subprocess.run(
            [sys.executable, "-c", f"import bench_compile as b; print(b.compile_seconds(b.big_builder({nodes}))[0])"],
            capture_output=True,
            text=True,
            check=True,
            cwd=os.path.dirname(__file__),
            env={**os.environ, "KAILASH_COMPILE_CACHE": cache},
        )
        warm_new_process = float(child.stdout.strip())
    start = time.perf_counter()
    whole = black.format_str(source, mode=formatting.black_mode())
    black_whole = time.perf_counter() - start
    lines = source.count("\n")
    print(f"{nodes}-node workflow, {lines} lines generated (the workflow built before each timer starts):")
    print(f"  black on the whole module      : {black_whole:6.2f} s")
    print(f"  compile, cold cache            : {cold:6.2f} s  ({cold / black_whole:.2f}x black alone)")
    print(f"  compile, warm (same process)   : {warm_memory:6.2f} s  ({warm_memory / cold:.2f}x cold)")
    print(f"  compile, one node edited       : {one_changed:6.2f} s  ({one_changed / cold:.2f}x cold)")
    print(f"  compile, one connection moved  : {rewired:6.2f} s  ({rewired / cold:.2f}x cold)")
    print(f"  compile, warm (disk cache)     : {warm_disk:6.2f} s  ({warm_disk / cold:.2f}x cold)")
    print(f"  compile, warm (new process)    : {warm_new_process:6.2f} s  ({warm_new_process / cold:.2f}x cold)")
    print(f"  chunked output == black(whole) : {whole == source}")


if __name__ == "__main__":
    main()
