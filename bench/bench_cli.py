"""The edit loop through the command line: a 1,000-node chain compiled cold, then recompiled
after one node is edited, each a fresh ``kailash-compile`` process (start-up included).

Printed beside the time black alone takes on the generated module (``python -m black`` on
it in a fresh process, with an empty black cache), measured in the same run; the run fails
if black changes the compiled module (it must be byte-identical to black's output). Targets: edit
loop <= 0.4 s, cold <= 2.0 s. Each figure is the median of ``--repeats`` runs, the runs of
the different cases taking turns so that load on the machine hits them alike.

``--compare DIR`` also runs the compiler of another checkout (its ``compiler`` and
``runtime_stub`` first on PYTHONPATH) in the same turns, for before/after figures.

``--growth N`` instead times cold, warm (nothing changed) and one-node-edit compiles of the
``--nodes`` chain and of an N-node chain, in turns, and prints how each grows (target: 10x
the nodes, at most 10x the time).

``python bench/bench_cli.py [--nodes 1000] [--repeats 5] [--compare DIR] [--growth N]``
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

WORKFLOW = '''
from kailash.workflow import AsyncWorkflowBuilder

EDITED = {edited}  # the node whose code the edit loop changes

workflow = AsyncWorkflowBuilder("chain_workflow")
for index in range({nodes}):
    note = " (edited {version})" if index == EDITED else ""
    workflow.add_async_code(
        f"step_{{index}}",
        f"""
        # step {{index}}{{note}}
        values = [left, right] if {{index}} > 1 else [1, 2]
        total = sum(v for v in values if isinstance(v, (int, float)))
        result = {{{{"value": total % 1000003, "step": {{index}}, "label": "node-{{index}}"}}}}
        """,
        timeout=30,
    )
    if index > 1:
        workflow.add_connection(f"step_{{index - 1}}", "value", f"step_{{index}}", "left")
        workflow.add_connection(f"step_{{index - 2}}", "value", f"step_{{index}}", "right")
'''


def timed_run(command: list[str], env: dict[str, str], cwd: Path) -> float:
    start = time.perf_counter()
    subprocess.run(command, env=env, cwd=cwd, check=True, capture_output=True)
    return time.perf_counter() - start


def check_black_leaves_it(module: Path, copy: Path) -> None:
    """Exits, loudly, when black would change the compiled module (it must be black's output)."""
    copy.write_text(module.read_text())
    env = {**os.environ, "BLACK_CACHE_DIR": str(copy.with_suffix(".black-cache"))}
    command = [sys.executable, "-m", "black", "-q", "--check", str(copy)]
    done = subprocess.run(command, env=env, cwd=copy.parent, capture_output=True, check=False)
    if done.returncode != 0:
        sys.exit(f"FAILED: black changes the module of a cold compile ({copy}): it must be byte-identical")


COMPILER = [sys.executable, "-m", "kailash.cli"]


def bytecode_env() -> dict[str, str]:
    """This environment with Python's bytecode cache on, as it is by default: a process started
    here imports the compiler from its .pyc files, as a user's does (an environment that turns
    the cache off would make every start-up compile the compiler's own modules first)."""
    return {name: value for name, value in os.environ.items() if name != "PYTHONDONTWRITEBYTECODE"}


def growth(small: int, large: int, repeats: int) -> None:
    """Cold, warm and one-edit times through the command at two chain lengths, in turns."""
    base_env = bytecode_env()
    cases = ("cold", "warm", "edited")
    times: dict[tuple[str, int], list[float]] = {(case, nodes): [] for case in cases for nodes in (small, large)}
    with tempfile.TemporaryDirectory(prefix="kailash-bench-cli-") as work:
        root = Path(work)
        source = root / "chain.py"
        source.write_text(WORKFLOW.format(nodes=10, edited=5, version=0))
        timed_run([*COMPILER, str(source), "-o", str(root / "warm-up")], base_env, root)  # writes the bytecode
        for repeat in range(repeats):
            for nodes in (small, large):
                env = {**base_env, "KAILASH_COMPILE_CACHE": str(root / f"cache-{nodes}-{repeat}")}
                command = [*COMPILER, str(source), "-o", str(root / f"out-{nodes}")]
                source.write_text(WORKFLOW.format(nodes=nodes, edited=nodes // 2, version=repeat))
                times["cold", nodes].append(timed_run(command, env, root))
                times["warm", nodes].append(timed_run(command, env, root))  # nothing changed
                source.write_text(WORKFLOW.format(nodes=nodes, edited=nodes // 2, version=repeat + 0.5))
                times["edited", nodes].append(timed_run(command, env, root))
    print(f"kailash-compile on a chain, fresh processes (start-up included), median of {repeats}; target <= 10x:")
    print(f"  {'':<34}{small:>9,}{large:>9,}   growth")
    labels = {
        "cold": "compile, cold cache",
        "warm": "compile, warm (nothing changed)",
        "edited": "compile, one node edited",
    }
    for case in cases:
        a, b = statistics.median(times[case, small]), statistics.median(times[case, large])
        print(f"  {labels[case]:<34}{a:>8.2f}s{b:>8.2f}s   {b / a:5.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--compare", type=Path, metavar="DIR", help="another checkout, measured in the same turns")
    parser.add_argument(
        "--growth", type=int, metavar="N", help="time an N-node chain beside --nodes and print the growth"
    )
    args = parser.parse_args()
    if args.growth:
        growth(args.nodes, args.growth, args.repeats)
        return
    checkouts: dict[str, dict[str, str]] = {"this checkout": {}}
    if args.compare:
        path = f"{args.compare / 'compiler'}{os.pathsep}{args.compare / 'runtime_stub'}"
        checkouts[str(args.compare)] = {"PYTHONPATH": path}
    times: dict[str, list[float]] = {"black": []}
    for label in checkouts:
        times[f"cold {label}"] = []
        times[f"edit {label}"] = []
    base_env = bytecode_env()
    with tempfile.TemporaryDirectory(prefix="kailash-bench-cli-") as work:
        root = Path(work)
        source = root / "chain.py"
        out = root / "out"
        source.write_text(WORKFLOW.format(nodes=10, edited=5, version=0))
        for extra in checkouts.values():  # writes the bytecode of each checkout's compiler
            timed_run([*COMPILER, str(source), "-o", str(root / "warm-up")], {**base_env, **extra}, root)
        for version, repeat in enumerate(range(args.repeats)):
            for label, extra in checkouts.items():
                env = {**base_env, **extra, "KAILASH_COMPILE_CACHE": str(root / f"cache-{label}")}
                # cold: an empty cache directory
                source.write_text(WORKFLOW.format(nodes=args.nodes, edited=args.nodes // 2, version=version))
                cold_env = {**env, "KAILASH_COMPILE_CACHE": str(root / f"cold-{repeat}-{len(label)}")}
                times[f"cold {label}"].append(timed_run([*COMPILER, str(source), "-o", str(out)], cold_env, root))
                check_black_leaves_it(out / "chain_workflow.py", root / f"cold-{repeat}-{len(label)}.py")
                # the edit loop: one node's code changed, the cache warm from the previous compile
                timed_run([*COMPILER, str(source), "-o", str(out)], env, root)
                source.write_text(WORKFLOW.format(nodes=args.nodes, edited=args.nodes // 2, version=version + 0.5))
                times[f"edit {label}"].append(timed_run([*COMPILER, str(source), "-o", str(out)], env, root))
            # black alone on the generated module, its own cache empty
            module = out / "chain_workflow.py"
            copy = root / f"black-{repeat}.py"
            copy.write_text(module.read_text())
            black_env = {**base_env, "BLACK_CACHE_DIR": str(root / f"black-cache-{repeat}")}
            times["black"].append(timed_run([sys.executable, "-m", "black", "-q", str(copy)], black_env, root))
            if copy.read_text() != module.read_text():
                sys.exit(f"FAILED: black changes the module compiled after the edit: {module} vs {copy}")
        lines = module.read_text().count("\n")
    black = statistics.median(times["black"])
    print(f"kailash-compile on a {args.nodes:,}-node chain ({lines:,} lines generated), fresh processes")
    print(f"(Python's bytecode cache on), median of {args.repeats}:")
    print(f"  black alone on the module  : {black:6.2f} s")
    for label in checkouts:
        cold, edit = statistics.median(times[f"cold {label}"]), statistics.median(times[f"edit {label}"])
        print(f"  {label}:")
        print(f"    compile, cold cache      : {cold:6.2f} s  ({cold / black:.2f}x black alone; target <= 2.0 s)")
        print(f"    compile, one node edited : {edit:6.2f} s  ({edit / black:.2f}x black alone; target <= 0.4 s)")


if __name__ == "__main__":
    main()
