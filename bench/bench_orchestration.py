"""Orchestration cost per node: a chain of no-op nodes, side by side in one run.

Compares the generated module's run() with hand-written asyncio (the floor: one await per
node) and with the peers, each in an interpreter of its own (a venv) running the same chain:

- the reference interpreted SDK (``--reference-python PATH``; by default bench/.venv-ref,
  made with ``python -m venv bench/.venv-ref && bench/.venv-ref/bin/pip install kailash``);
- Prefect 3 (``--prefect-python PATH``: a venv with ``pip install prefect``), one task per
  node in a flow, with its ephemeral API server (started before the timed runs). Prefect runs
  a shorter chain (``PREFECT_CHAIN`` nodes): per node it costs thousands of times more.

``--large N`` (default 10,000; 0 skips it) also compiles an N-node chain and prints its
per-node cost beside the 200-node chain's (target: within 1.5x), the two modules run in a
process of their own, as shipped. Target: <= 25 us per node.

Then what seeing a run costs: the same module, each case in a fresh process, with the runtime
of a previous commit (``KAILASH_BENCH_BASELINE``, default: where this branch left main) and
with this runtime when nothing observes the run, with DEBUG run logging (to a handler that
drops the records), with a Chrome trace, and with OpenTelemetry spans (the SDK's tracer
provider exporting to memory; only when opentelemetry-sdk is installed).

``python bench/bench_orchestration.py [--reference-python PATH] [--prefect-python PATH] [--large N]``
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
from io import BytesIO
from pathlib import Path
from types import ModuleType

from _common import REFERENCE_PYTHON, ROOT, best_of, load_source, per_node_seconds
from kailash.codegen import compile_ir
from kailash.workflow import AsyncWorkflowBuilder

CHAIN = 200
RUNS = 50
PREFECT_CHAIN = 20
PREFECT_RUNS = 3


def chain_builder(nodes: int = CHAIN) -> AsyncWorkflowBuilder:
    builder = AsyncWorkflowBuilder("noop_chain")
    previous = builder.add_async_code("n0", "result = {'value': 0}")
    for index in range(1, nodes):
        node = builder.add_async_code(f"n{index}", "result = {'value': value}")
        builder.add_connection(previous, "value", node, "value")
        previous = node
    return builder


def generated_chain(nodes: int) -> ModuleType:
    source = compile_ir(chain_builder(nodes).build().ir, jobs=os.cpu_count() or 1).source
    return load_source(f"noop_chain_{nodes}", source)


def one_measure(module: ModuleType, nodes: int) -> float:
    """Seconds per node of the module's run(), over about as many node runs whatever the length."""
    return per_node_seconds(module, nodes, max(2, RUNS * CHAIN // nodes))


def per_node_generated(nodes: int = CHAIN) -> float:
    module = generated_chain(nodes)
    return best_of(5, lambda: one_measure(module, nodes))


SHIPPED_SCRIPT = """
import importlib.util, json, statistics, sys
sys.path.insert(0, {bench!r})
from _common import per_node_seconds
def load(path):
    spec = importlib.util.spec_from_file_location(path.rsplit("/", 1)[-1][:-3], path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
sizes = [int(size) for size in sys.argv[1::2]]
modules = {{size: load(path) for size, path in zip(sizes, sys.argv[2::2])}}
figures = {{size: [] for size in sizes}}
for _ in range(5):
    for size, module in modules.items():
        figures[size].append(per_node_seconds(module, size, max(2, {runs} * {chain} // size)))
print(json.dumps({{size: statistics.median(values) for size, values in figures.items()}}))
"""


def per_node_side_by_side(small: int, large: int) -> tuple[float, float]:
    """Per-node cost of two chain lengths, measured in turns (so load on the machine hits both),
    in a process of their own that holds the two modules and kailash_rt, as a shipped module
    runs: in this process the compiler's own objects would slow the garbage collector's passes."""
    with tempfile.TemporaryDirectory(prefix="kailash-bench-chain-") as work:
        arguments = []
        for nodes in (small, large):
            path = Path(work) / f"noop_chain_{nodes}.py"
            path.write_text(compile_ir(chain_builder(nodes).build().ir, jobs=os.cpu_count() or 1).source)
            arguments += [str(nodes), str(path)]
        script = SHIPPED_SCRIPT.format(bench=str(Path(__file__).resolve().parent), runs=RUNS, chain=CHAIN)
        done = subprocess.run([sys.executable, "-c", script, *arguments], capture_output=True, text=True, check=True)
    figures = {int(size): value for size, value in json.loads(done.stdout).items()}
    return figures[small], figures[large]


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


PREFECT_SCRIPT = """
import asyncio, json, statistics, time
from prefect import flow, task
CHAIN, RUNS = {chain}, {runs}
@task
async def node(value):
    return {{"value": value}}
@flow
async def noop_chain():
    out = {{"value": 0}}
    for _ in range(CHAIN):
        out = await node(out["value"])
    return out
async def measure():
    await noop_chain()  # starts the ephemeral API server
    start = time.perf_counter()
    for _ in range(RUNS):
        result = await noop_chain()
    assert result == {{"value": 0}}, result
    return (time.perf_counter() - start) / RUNS / CHAIN
print(json.dumps(asyncio.run(measure())))
"""


def per_node_peer(python: Path | None, script: str, env: dict[str, str] | None = None) -> float | str:
    """Seconds per node from ``script`` run by ``python``, or why there is no figure."""
    if python is None:
        return "not given"
    if not python.exists():
        return f"no interpreter at {python}"
    done = subprocess.run(
        [str(python), "-c", script], capture_output=True, text=True, check=False, env={**os.environ, **(env or {})}
    )
    try:
        return float(json.loads(done.stdout.strip().splitlines()[-1]))
    except (IndexError, ValueError):
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return f"failed: {last}"


def prefect_env(home: str) -> dict[str, str]:
    return {
        "PREFECT_HOME": home,  # its database and settings, not the user's
        "PREFECT_LOGGING_LEVEL": "WARNING",
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "300",  # a loaded machine starts it slowly
    }


OBSERVED_SCRIPT = """
import asyncio, importlib.util, json, logging, statistics, sys
mode, path, chain, runs = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
after_run = lambda: None
if mode == "logging":
    logger = logging.getLogger("kailash_rt")
    logger.setLevel(logging.DEBUG)
    logger.addHandler(logging.NullHandler())
    logger.propagate = False
elif mode == "opentelemetry":
    from opentelemetry import trace
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    after_run = exporter.clear
spec = importlib.util.spec_from_file_location("noop_chain", path)
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
import kailash_rt
if mode == "trace":
    from kailash_rt._observe import run_options
    tracing = run_options(trace=True)  # kept: a dropped context manager would end the option
    tracing.__enter__()
async def measure():
    loop = asyncio.get_running_loop()
    await module.run()
    total = 0.0
    for _ in range(runs):
        start = loop.time()
        result = await module.run()
        total += loop.time() - start
        after_run()
    assert not result["errors"]
    if mode == "trace":
        assert len(result.trace["traceEvents"]) > chain
    return total / runs / chain
print(json.dumps({"per_node": statistics.median(asyncio.run(measure()) for _ in range(5)),
                  "runtime": kailash_rt.__file__}))
"""

OBSERVED_MODES = ("previous", "off", "logging", "trace", "opentelemetry")


def baseline_runtime(directory: Path) -> str | None:
    """Extract kailash_rt of the baseline commit into ``directory``; the commit, or None."""
    rev = os.environ.get("KAILASH_BENCH_BASELINE")
    if not rev:
        found = subprocess.run(["git", "merge-base", "HEAD", "main"], cwd=ROOT, capture_output=True, text=True)
        rev = found.stdout.strip() if found.returncode == 0 else ""
    if not rev:
        return None
    archive = subprocess.run(["git", "archive", rev, "runtime_stub/kailash_rt"], cwd=ROOT, capture_output=True)
    if archive.returncode != 0:
        return None
    with tarfile.open(fileobj=BytesIO(archive.stdout)) as tar:
        tar.extractall(directory, filter="data")
    return rev[:10]


def per_node_observed(module_path: Path, mode: str, runtime_path: Path) -> float | None:
    env = {**os.environ, "PYTHONPATH": str(runtime_path)}
    command = [sys.executable, "-c", OBSERVED_SCRIPT, mode, str(module_path), str(CHAIN), str(RUNS)]
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    if done.returncode != 0:
        print(f"{mode}: failed: {done.stderr.strip().splitlines()[-1:]}", file=sys.stderr)
        return None
    outcome = json.loads(done.stdout.strip().splitlines()[-1])
    assert Path(outcome["runtime"]).is_relative_to(runtime_path), outcome
    return float(outcome["per_node"])


def observed_costs(rounds: int = 5) -> None:
    """Per-node cost of each mode, the median of ``rounds`` processes each, taken in turn."""
    directory = Path(tempfile.mkdtemp(prefix="kailash-bench-observed-"))
    module_path = directory / "noop_chain.py"
    module_path.write_text(compile_ir(chain_builder().build().ir).source)
    previous = directory / "previous"
    rev = baseline_runtime(previous)
    current = ROOT / "runtime_stub"
    samples: dict[str, list[float]] = {mode: [] for mode in OBSERVED_MODES}
    for _ in range(rounds):
        for mode in OBSERVED_MODES:
            if mode == "previous":
                value = per_node_observed(module_path, "off", previous / "runtime_stub") if rev else None
            else:
                value = per_node_observed(module_path, mode, current)
            if value is not None:
                samples[mode].append(value)
    cost = {mode: statistics.median(values) for mode, values in samples.items() if values}
    off = cost["off"]
    labels = {
        "previous": f"previous runtime ({rev})",
        "off": "this runtime, nothing observing",
        "logging": "DEBUG run logging",
        "trace": "Chrome trace (--trace)",
        "opentelemetry": "OpenTelemetry SDK spans",
    }
    print(f"seeing a run: chain of {CHAIN} no-op nodes, median of {rounds} processes x 5 x {RUNS} runs, per node:")
    for mode in OBSERVED_MODES:
        if mode not in cost:
            print(
                f"  {labels[mode]:<36}: not measured" + ("" if mode != "opentelemetry" else " (no opentelemetry-sdk)")
            )
            continue
        print(f"  {labels[mode]:<36}: {cost[mode] * 1e6:8.2f} us  ({cost[mode] / off:.2f}x nothing observing)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default_reference = REFERENCE_PYTHON if REFERENCE_PYTHON.exists() else None
    parser.add_argument("--reference-python", type=Path, default=default_reference, metavar="PATH")
    parser.add_argument("--prefect-python", type=Path, metavar="PATH")
    parser.add_argument("--large", type=int, default=10_000, metavar="N")
    args = parser.parse_args()

    generated = per_node_generated()
    handwritten = per_node_handwritten()
    reference = per_node_peer(args.reference_python, REFERENCE_SCRIPT.format(chain=CHAIN, runs=max(RUNS // 10, 2)))
    with tempfile.TemporaryDirectory(prefix="kailash-bench-prefect-") as home:
        prefect = per_node_peer(
            args.prefect_python,
            PREFECT_SCRIPT.format(chain=PREFECT_CHAIN, runs=PREFECT_RUNS),
            prefect_env(home),
        )
    print(f"chain of {CHAIN} no-op nodes, median of 5 x {RUNS} runs, per node:")
    print(f"  hand-written asyncio : {handwritten * 1e6:12.2f} us")
    print(f"  generated module     : {generated * 1e6:12.2f} us  ({generated / handwritten:.1f}x hand-written)")
    for name, figure, shape in (
        ("reference SDK", reference, f"{CHAIN} nodes"),
        ("Prefect 3", prefect, f"{PREFECT_CHAIN} nodes, {PREFECT_RUNS} runs"),
    ):
        if isinstance(figure, float):
            print(f"  {name:<21}: {figure * 1e6:12.2f} us  ({figure / generated:,.0f}x the generated module; {shape})")
        else:
            print(f"  {name:<21}: {figure}")
    print(f"target <= 25 us per node: {'met' if generated <= 25e-6 else 'NOT met'}")
    if args.large:
        small, large = per_node_side_by_side(CHAIN, args.large)
        ratio = large / small
        print("\ngenerated modules in a process of their own (as shipped), in turns, median of 5:")
        print(f"  per node {small * 1e6:.2f} us ({CHAIN} nodes),")
        print(f"  {large * 1e6:.2f} us ({args.large:,} nodes): {ratio:.2f}x the {CHAIN}-node chain's per-node cost")
        print(f"  (target <= 1.5x): {'met' if ratio <= 1.5 else 'NOT met'}")
    print()
    observed_costs()


if __name__ == "__main__":
    main()
