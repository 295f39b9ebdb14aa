"""Helpers shared by the benchmarks: timing loops and loading a compiled workflow."""

from __future__ import annotations

import importlib.util
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[1]
REFERENCE_PYTHON = ROOT / "bench" / ".venv-ref" / "bin" / "python"


def best_of(repeats: int, measure: Callable[[], float]) -> float:
    """The median of ``repeats`` measurements: robust to a noisy machine, unlike the mean."""
    return statistics.median(measure() for _ in range(repeats))


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def load_source(name: str, source: str) -> ModuleType:
    """Write a generated module to a temporary directory and import it like a user would."""
    directory = Path(tempfile.mkdtemp(prefix="kailash-bench-"))
    path = directory / f"{name}.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def per_node_seconds(module: ModuleType, nodes: int, runs: int) -> float:
    """Seconds per node of a generated module's run(), over ``runs`` runs after a first one.
    (Importing this module loads no compiler: a process measuring shipped modules uses it.)"""
    import asyncio

    async def measure() -> float:
        loop = asyncio.get_running_loop()
        await module.run()
        start = loop.time()
        for _ in range(runs):
            result = await module.run()
        assert not result["errors"]
        return (loop.time() - start) / runs / nodes

    return asyncio.run(measure())
