"""Orchestration cost per node: a chain of no-op nodes, side by side in one run.

Compares the generated module's run() with hand-written asyncio (the floor: one await per
node) and, when bench/.venv-ref holds the reference interpreted SDK (kailash 2.65.0,
``python -m venv bench/.venv-ref && bench/.venv-ref/bin/pip install kailash==2.65.0``),
with that SDK running the same workflow. Target: <= 25 us per node for the generated module.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys

from _common import REFERENCE_PYTHON, best_of, load_source
from kailash.codegen import compile_ir
from kailash.workflow import AsyncWorkflowBuilder

CHAIN = 200
RUNS = 50


def chain_builder() -> AsyncWorkflowBuilder:
    builder = AsyncWorkflowBuilder("noop_chain")
    previous = builder.add_async_code("n0", "result = {'value': 0}")
    for index in range(1, CHAIN):
        node = builder.add_async_code(f"n{index}", "result = {'value': value}")
        builder.add_connection(previous, "value", node, "value")
        previous = node
    return builder


def per_node_generated() -> float:
    module = load_source("noop_chain", compile_ir(chain_builder().build().ir).source)

    async def measure() -> float:
        loop = asyncio.get_running_loop()
        await module.run()
        start = loop.time()
        for _ in range(RUNS):
            result = await module.run()
        assert not result["errors"]
        return (loop.time() - start) / RUNS / CHAIN

    return best_of(5, lambda: asyncio.run(measure()))


def per_node_handwritten() -> float:
    async def node(value: int) -> dict[str, int]:
        return {"value": value}

    async def run() -> dict[str, int]:
        out = {"value": 0}
        for _ in range(CHAIN):
            out = await node(out["value"])
        return out

    async def measure() -> float:
        loop = asyncio.get_running_loop()
        start = loop.time()
        for _ in range(RUNS):
            await run()
        return (loop.time() - start) / RUNS / CHAIN

    return best_of(5, lambda: asyncio.run(measure()))


REFERENCE_SCRIPT = """
import asyncio, json, statistics, time
from kailash.workflow import AsyncWorkflowBuilder
from kailash.runtime.async_local import AsyncLocalRuntime
CHAIN, RUNS = {chain}, {runs}
b = AsyncWorkflowBuilder("noop_chain")
b.add_async_code("n0", "result = {{'value': 0}}")  # 2.65.0 returns the builder, not the id
for i in range(1, CHAIN):
    b.add_async_code(f"n{{i}}", "result = {{'value': value}}")
    b.add_connection(f"n{{i - 1}}", "value", f"n{{i}}", "value")
wf = b.build()
async def measure():
    rt = AsyncLocalRuntime()
    await rt.execute_workflow_async(wf, {{}})
    start = time.perf_counter()
    for _ in range(RUNS):
        r = await rt.execute_workflow_async(wf, {{}})
    results = r[0] if isinstance(r, tuple) else r  # 2.65.0 returns (results, run_id)
    assert len(results) == CHAIN or "results" in results, results
    return (time.perf_counter() - start) / RUNS / CHAIN
print(json.dumps(statistics.median(asyncio.run(measure()) for _ in range(3))))
"""


def per_node_reference() -> float | None:
    if not REFERENCE_PYTHON.exists():
        return None
    script = REFERENCE_SCRIPT.format(chain=CHAIN, runs=max(RUNS // 10, 2))
    done = subprocess.run([str(REFERENCE_PYTHON), "-c", script], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        print(f"reference SDK failed: {done.stderr.strip().splitlines()[-1:]}", file=sys.stderr)
        return None
    return float(json.loads(done.stdout.strip().splitlines()[-1]))


def main() -> None:
    generated = per_node_generated()
    handwritten = per_node_handwritten()
    reference = per_node_reference()
    print(f"chain of {CHAIN} no-op nodes, median of 5 x {RUNS} runs, per node:")
    print(f"  hand-written asyncio : {handwritten * 1e6:8.2f} us")
    print(f"  generated module     : {generated * 1e6:8.2f} us  ({generated / handwritten:.1f}x hand-written)")
    if reference is not None:
        print(
            f"  reference SDK        : {reference * 1e6:8.2f} us  ({reference / generated:.1f}x the generated module)"
        )
    else:
        print("  reference SDK        : not installed (see the module docstring)")
    print(f"target <= 25 us per node: {'met' if generated <= 25e-6 else 'NOT met'}")


if __name__ == "__main__":
    main()
