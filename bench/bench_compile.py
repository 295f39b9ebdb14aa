"""Compile time of a 1,000-node workflow: cold, warm in process, warm from the disk cache.

Printed beside the time black alone takes to format the whole generated module, measured
in the same run. Also checks that chunk-by-chunk formatting equals formatting the whole
module with black. Targets: about 2 s cold, well under a second warm.
"""

from __future__ import annotations

import os
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


def main() -> None:
    with tempfile.TemporaryDirectory() as cache:
        os.environ["KAILASH_COMPILE_CACHE"] = cache
        cold, source = compile_seconds(big_builder())
        warm_memory, again = compile_seconds(big_builder())
        assert again == source, "two compiles differ"
        one_changed, _ = compile_seconds(big_builder(changed_node=NODES // 2))
        rewired, _ = compile_seconds(big_builder(rewired_node=NODES // 2))
        formatting._memory.clear()
        chunk_facts.forget()  # what validation read, in memory
        warm_disk, _ = compile_seconds(big_builder())
        child = subprocess.run(
            [sys.executable, "-c", "import bench_compile as b; print(b.compile_seconds(b.big_builder())[0])"],
            capture_output=True,
            text=True,
            check=True,
            cwd=os.path.dirname(__file__),
            env={**os.environ, "KAILASH_COMPILE_CACHE": cache},
        )
        warm_new_process = float(child.stdout.strip())
    start = time.perf_counter()
    whole = black.format_str(source, mode=formatting.MODE)
    black_whole = time.perf_counter() - start
    lines = source.count("\n")
    print(f"{NODES}-node workflow, {lines} lines generated:")
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
