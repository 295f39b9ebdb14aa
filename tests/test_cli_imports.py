"""What the command line imports: at start-up only itself, then what its command needs.

Each check runs in a fresh interpreter and reads sys.modules: importing ``kailash.cli`` loads no
template engine, formatter, libcst, code generator or graph code; a compile loads no graph code
unless ``--graph`` asks for the graphs.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

PROBE = """
import json, sys
import kailash.cli
imported = sorted(sys.modules)
if len(sys.argv) > 1:
    try:
        kailash.cli.main(sys.argv[1:], standalone_mode=False)
    except SystemExit as exc:
        assert not exc.code, exc.code
print(json.dumps({"import": imported, "command": sorted(sys.modules)}))
"""

WORKFLOW = """
from kailash.workflow import AsyncWorkflowBuilder

builder = AsyncWorkflowBuilder("imports_probe")
first = builder.add_async_code("first", "result = {'value': 1}")
second = builder.add_async_code("second", "result = value + 1")
builder.add_connection(first, "value", second, "value")
"""

# Loaded only by what renders, formats or validates a module, or draws a graph.
LATER_STAGES = ("jinja2", "black", "libcst", "kailash.codegen", "kailash.analysis", "kailash.targets")
GRAPHS = ("kailash.graphs", "kailash.graph_cli")


def loaded(*args: str, cwd: Path) -> dict[str, list[str]]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *args], capture_output=True, text=True, check=False, cwd=cwd, timeout=300
    )
    assert done.returncode == 0, done.stderr
    modules: dict[str, list[str]] = json.loads(done.stdout)
    return modules


def of(modules: list[str], packages: tuple[str, ...]) -> list[str]:
    return [name for name in modules if name.split(".")[0] in packages or name.startswith(packages)]


def test_importing_the_command_line_loads_no_later_stage(tmp_path: Path) -> None:
    imported = loaded(cwd=tmp_path)["import"]
    assert "kailash.cli" in imported
    assert of(imported, LATER_STAGES + GRAPHS) == []


def test_a_compile_loads_the_code_generator_but_no_graph_code(tmp_path: Path) -> None:
    (tmp_path / "flow.py").write_text(WORKFLOW)
    command = loaded("flow.py", "-o", "out", cwd=tmp_path)["command"]
    assert (tmp_path / "out" / "imports_probe.py").is_file()
    assert "kailash.codegen" in command
    assert of(command, GRAPHS) == []
    assert of(command, ("kailash.targets.temporal",)) == []


def test_a_compile_with_graph_loads_the_graph_code(tmp_path: Path) -> None:
    (tmp_path / "flow.py").write_text(WORKFLOW)
    command = loaded("flow.py", "-o", "out", "--graph", cwd=tmp_path)["command"]
    assert (tmp_path / "out" / "imports_probe.mmd").is_file()
    assert "kailash.graphs.mermaid" in command
