"""The run orchestrator under stress: leaked CancelledError, cancellation, wide and deep graphs."""

from __future__ import annotations

import asyncio

import pytest
from kailash.runtime import AsyncLocalRuntime
from kailash.workflow import AsyncWorkflowBuilder


def test_a_cancelled_error_raised_by_node_code_is_a_node_error_not_a_hang() -> None:
    builder = AsyncWorkflowBuilder("leak")
    source = builder.add_async_code("source", "result = 1")
    builder.add_async_code("leaks", "raise asyncio.CancelledError()")
    builder.add_async_code("sleeps", "await asyncio.sleep(0.05)\nresult = 2")
    builder.add_connection(source, "result", "leaks", "value")
    builder.add_connection(source, "result", "sleeps", "value")

    async def main() -> dict:
        return await asyncio.wait_for(AsyncLocalRuntime().execute_workflow_async(builder.build(), {}), 5)

    result = asyncio.run(main())
    assert result["results"] == {"source": 1, "sleeps": 2}
    assert result["errors"] == {"leaks": "CancelledError: "}


def test_cancelling_a_run_cancels_its_nodes() -> None:
    builder = AsyncWorkflowBuilder("slow")
    builder.add_async_code("a", "await asyncio.sleep(10)\nresult = 1")
    builder.add_async_code("b", "await asyncio.sleep(10)\nresult = 2")
    workflow = builder.build()

    async def main() -> None:
        async with asyncio.timeout(5):
            task = asyncio.create_task(AsyncLocalRuntime().execute_workflow_async(workflow, {}))
            await asyncio.sleep(0.05)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
        leftover = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        assert leftover == []

    asyncio.run(main())


def test_wide_and_deep_graph_gives_every_node_one_outcome_in_registration_order() -> None:
    builder = AsyncWorkflowBuilder("grid")
    width, depth = 20, 20
    for level in range(depth):
        for column in range(width):
            code = "result = {'v': (left if left is not None else 0) + 1}" if level else "result = {'v': column}"
            node = builder.add_async_code(f"n{level}_{column}", code.replace("column", str(column)))
            if level:
                builder.add_connection(f"n{level - 1}_{column}", "v", node, "left")
    builder.add_async_code("fails", "raise ValueError('no')")
    builder.add_connection("n3_3", "v", "fails", "x")
    builder.add_async_code("after_failure", "result = x")
    builder.add_connection("fails", "result", "after_failure", "x")
    result = asyncio.run(AsyncLocalRuntime().execute_workflow_async(builder.build(), {}))
    assert len(result["results"]) == width * depth
    assert result["results"][f"n{depth - 1}_5"] == {"v": 5 + depth - 1}
    assert result["errors"] == {
        "fails": "ValueError: no",
        "after_failure": "UpstreamFailed: skipped because upstream node 'fails' failed",
    }
    assert list(result["results"]) == [f"n{level}_{column}" for level in range(depth) for column in range(width)]


def test_a_finished_run_leaves_nothing_for_the_garbage_collector() -> None:
    # The nodes link downstream and back through their inputs; a run breaks those links when
    # it ends, so a large run's objects are freed at once instead of being traversed by every
    # collection until one finds the cycle. (A failed node's exception keeps its traceback's
    # frames, and so the run, until the result is dropped: that cycle is the collector's.)
    import gc

    import kailash_rt as rt
    from kailash_rt import _run

    async def step(value: int) -> dict[str, int]:
        return {"value": value + 1}

    async def chain() -> rt.RunResult:
        async with rt.Run("chain") as r:
            out = r.node("n0", step, value=0)
            for index in range(1, 50):
                out = r.node(f"n{index}", step, value=out["value"])
        return r.result

    was_enabled = gc.isenabled()
    gc.collect()
    gc.disable()
    try:
        assert asyncio.run(chain())["results"]["n49"] == {"value": 50}
        assert [o for o in gc.get_objects() if isinstance(o, (_run._Node, _run.Output))] == []
    finally:
        if was_enabled:
            gc.enable()


CHAIN_OBJECTS = """
import asyncio, gc, json
import kailash_rt as rt

async def step(value, extra):
    return {"value": value + extra}

async def main():
    async with rt.Run("chain", {"extra": 1}) as r:
        gc.collect()
        before = len(gc.get_objects())
        out = r.node("n0", step, value=0, extra=r.input("extra"))
        for index in range(1, 1000):
            out = r.node(f"n{index}", step, value=out["value"], extra=r.input("extra", default=2))
        gc.collect()
        registered = len(gc.get_objects()) - before
    assert r.result["results"]["n999"] == {"value": 1000}, r.result
    return registered

print(json.dumps(asyncio.run(main())))
"""


def test_a_chain_node_leaves_the_garbage_collector_five_objects() -> None:
    # Every object the collector tracks is traversed by its passes while a run lasts, so the
    # per-node cost of a large run grows with them: a node in a chain holds its record (which
    # is also its whole Output), its keyword arguments, the Output of the key it reads and the
    # list of its downstream nodes. Counted in a process of its own, where nothing else allocates.
    import json
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-c", CHAIN_OBJECTS], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    registered = json.loads(done.stdout)
    # The fifth is the node's input reference (the run's runtime before this count held eight).
    assert registered <= 1000 * 5, registered / 1000
