"""Start-up of a shipped module: the time to import a generated module after ``import asyncio``.

Each measurement is one fresh interpreter that imports ``asyncio`` first (every generated
module needs it, and so does any program that would run one), then times the import of
the generated module inside the process, which includes ``import kailash_rt``. Printed:
the median of the fresh processes per module, and the number of standard-library modules the import loaded beyond those
``import asyncio`` had loaded; ``--compare DIR`` measures another runtime in the same run.

``python bench/bench_import.py [--runs N]``
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
MODULES = {
    "order_totals (three code nodes)": ROOT / "tests" / "golden" / "order_totals.py",
    "parallel_map": ROOT / "tests" / "golden" / "kinds" / "parallel_map.py",
    "database_resource": ROOT / "tests" / "golden" / "kinds" / "database_resource.py",
    "memory_cache_resource": ROOT / "tests" / "golden" / "kinds" / "memory_cache_resource.py",
    "code_retry (retry policy)": ROOT / "tests" / "golden" / "kinds" / "code_retry.py",
}
TARGET_MS = 5.0

PROBE = """
import sys, time, json, importlib.util
import asyncio
before = set(sys.modules)
spec = importlib.util.spec_from_file_location("generated", sys.argv[1])
module = importlib.util.module_from_spec(spec)
started = time.perf_counter()
spec.loader.exec_module(module)
seconds = time.perf_counter() - started
print(json.dumps({"ms": seconds * 1000, "loaded": sorted(set(sys.modules) - before)}))
"""


def probe(path: Path, runtime: Path) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, str(path)],
        cwd=path.parent,
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONPATH": str(runtime)},
    )
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=21, help="fresh interpreters per module")
    parser.add_argument(
        "--compare",
        type=Path,
        metavar="DIR",
        help="also measure the kailash_rt in DIR (e.g. another checkout's runtime_stub), side by side",
    )
    parser.add_argument("--show-modules", action="store_true", help="list the modules each import loads")
    args = parser.parse_args()
    print(f"import of a generated module after `import asyncio`, median of {args.runs} fresh interpreters")
    print(f"(target: <= {TARGET_MS} ms)\n")
    runtimes = [ROOT / "runtime_stub", *([args.compare] if args.compare else [])]
    print(f"{'':<34}" + "".join(f"{'...' + str(r)[-24:]:>28}" for r in runtimes))
    workspace = Path(tempfile.mkdtemp(prefix="kailash-bench-import-"))
    for name, source in MODULES.items():
        path = workspace / source.name  # a copy: its bytecode cache is written there, not in tests/
        shutil.copyfile(source, path)
        runs: dict[Path, list[dict[str, Any]]] = {runtime: [] for runtime in runtimes}
        for runtime in runtimes:
            probe(path, runtime)  # the first run writes the bytecode caches
        for _ in range(args.runs):  # the runtimes take turns, so load on the machine hits both alike
            for runtime in runtimes:
                runs[runtime].append(probe(path, runtime))
        line = f"{name:<34}"
        for runtime in runtimes:
            median = statistics.median(float(run["ms"]) for run in runs[runtime])
            loaded = [m for m in runs[runtime][0]["loaded"] if not m.startswith(("kailash_rt", "generated"))]
            line += f"{median:>9.2f} ms, {len(loaded):>2} modules"
            if args.show_modules:
                line += f"\n    {runtime}: " + " ".join(loaded)
        print(line)


if __name__ == "__main__":
    main()
