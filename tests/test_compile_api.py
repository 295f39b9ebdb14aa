"""The compile API, used as a user would: ``from kailash import compile_workflow, compile_source``
compiles the examples to their golden modules and writes them as the command does; a workflow
file gives the same module however it was imported."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from kailash import GeneratedModule, compile_source, compile_sources, compile_workflow
from kailash.compile_api import OutputError, SourceError, WorkflowError
from kailash.sources import load_workflows
from kailash.workflow import AsyncWorkflowBuilder

from .conftest import EXAMPLES, GOLDEN, ROOT, run_cli, run_generated

EXAMPLE_FILES = sorted(path.relative_to(ROOT).as_posix() for path in EXAMPLES.glob("*.py"))


@pytest.mark.parametrize("example", EXAMPLE_FILES)
def test_compile_source_gives_the_golden_modules_and_writes_them(example: str, tmp_path: Path) -> None:
    modules = compile_source(example)
    assert modules
    for module in modules:
        assert isinstance(module, GeneratedModule)
        assert module.filename == f"{module.name}.py"
        assert module.source == (GOLDEN / module.filename).read_text()
        assert module.write(tmp_path / "out") is True
        assert (tmp_path / "out" / module.filename).read_text() == module.source


@pytest.mark.parametrize("example", EXAMPLE_FILES)
def test_compile_workflow_takes_a_builder_a_workflow_or_its_ir(example: str) -> None:
    for found in load_workflows(example):
        golden = (GOLDEN / compile_workflow(found.workflow).filename).read_text()
        assert compile_workflow(found.workflow).source == golden
        assert compile_workflow(found.workflow.builder).source == golden
        assert compile_workflow(found.workflow.ir).source == golden


def test_the_api_writes_what_the_command_writes(tmp_path: Path) -> None:
    by_command, by_api = tmp_path / "command", tmp_path / "api"
    assert run_cli(*EXAMPLE_FILES, "-o", str(by_command), "--emit-ir").returncode == 0
    for module in compile_sources(EXAMPLE_FILES):
        module.write(by_api, emit_ir=True)
    names = sorted(path.name for path in by_command.iterdir())
    assert names == sorted(path.name for path in by_api.iterdir()) and len(names) == 8
    for name in names:
        assert (by_api / name).read_bytes() == (by_command / name).read_bytes()


def test_write_leaves_an_unchanged_module_untouched_and_replaces_a_stale_one(tmp_path: Path) -> None:
    (module,) = compile_source(EXAMPLES / "order_totals.py")  # a Path is a file SOURCE too
    path = tmp_path / module.filename
    assert module.write(tmp_path) is True
    os.utime(path, ns=(1_000_000_000, 1_000_000_000))
    before = path.stat()
    assert module.write(tmp_path) is False
    after = path.stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    path.write_text("stale\n")
    assert module.write(str(tmp_path)) is True
    assert path.read_text() == module.source
    assert path.stat().st_ino != before.st_ino  # replaced by a rename, never rewritten in place
    assert sorted(p.name for p in tmp_path.iterdir()) == [module.filename]  # no temporary file left


def test_write_refuses_a_path_that_cannot_hold_the_module(tmp_path: Path) -> None:
    module = compile_source("examples/order_totals.py")[0]
    (tmp_path / module.filename).mkdir()
    with pytest.raises(OutputError, match="is a directory"):
        module.write(tmp_path)
    (tmp_path / "afile").write_text("")
    with pytest.raises(OutputError, match="afile is a file"):
        module.write(tmp_path / "afile" / "out")


def test_bad_input_raises_the_errors_the_command_prints(tmp_path: Path) -> None:
    with pytest.raises(TypeError, match="not dict"):
        compile_workflow({})  # type: ignore[arg-type]
    with pytest.raises(SourceError, match="no such file"):
        compile_source(str(tmp_path / "missing.py"))
    broken = tmp_path / "broken.py"
    broken.write_text("raise RuntimeError('boom')\n")
    with pytest.raises(SourceError, match="RuntimeError: boom") as raised:
        compile_source(str(broken))
    assert isinstance(raised.value.cause, RuntimeError)
    twice = tmp_path / "twice.py"
    twice.write_text(
        "from kailash.workflow import AsyncWorkflowBuilder\n"
        "a = AsyncWorkflowBuilder('same')\na.add_async_code('x', 'result = 1')\n"
        "b = AsyncWorkflowBuilder('same')\nb.add_async_code('y', 'result = 2')\n"
    )
    with pytest.raises(SourceError, match=r"would be written to same\.py"):
        compile_source(str(twice))
    builder = AsyncWorkflowBuilder("unbound")
    builder.add_async_code("a", "result = missing_input")
    assert "missing_input" in compile_workflow(builder).source
    with pytest.raises(WorkflowError, match="name 'missing_input' is not bound"):
        compile_workflow(builder, strict=True)


FACTORY_FLOW = """
import itertools

from kailash.resources import ResourceFactory
from kailash.workflow import AsyncWorkflowBuilder

START = 100


class TicketNumbers(ResourceFactory):
    def __init__(self, start: int = 1) -> None:
        self.start = start

    async def create(self) -> itertools.count:
        return itertools.count(self.start)


builder = AsyncWorkflowBuilder("tickets")
builder.require_resource("tickets", TicketNumbers(start=START))
builder.add_async_code("next_ticket", "result = next(tickets)")
"""

# Each way of importing flow.py that a user's build script might use, then the compile API.
IMPORTS = {
    "spec_from_file_location": """
        spec = importlib.util.spec_from_file_location("flow", "flow.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    """,
    "spec_from_file_location, registered and importable": """
        sys.path.insert(0, ".")
        spec = importlib.util.spec_from_file_location("flow", "flow.py")
        module = sys.modules["flow"] = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    """,
    "import flow": """
        sys.path.insert(0, ".")
        import flow as module
    """,
    "runpy.run_path": """
        module = types.SimpleNamespace(**runpy.run_path("flow.py"))
    """,
}


@pytest.mark.parametrize("how", IMPORTS)
def test_a_workflow_file_compiles_the_same_however_it_was_imported(how: str, tmp_path: Path) -> None:
    (tmp_path / "flow.py").write_text(FACTORY_FLOW)
    by_path = run_cli("flow.py", "--stdout", cwd=tmp_path)
    assert by_path.returncode == 0, by_path.stderr
    assert "class TicketNumbers(rt.ResourceFactory):" in by_path.stdout
    script = "import importlib.util, runpy, sys, types\nfrom kailash import compile_workflow\n"
    script += textwrap.dedent(IMPORTS[how]) + "sys.stdout.write(compile_workflow(module.builder).source)\n"
    done = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout == by_path.stdout
    # and the module runs where the workflow file and the compiler are not there
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "tickets.py").write_text(done.stdout)
    ran = run_generated(tmp_path / "out" / "tickets.py")
    assert ran.returncode == 0, ran.stderr
    assert '"next_ticket": 100' in ran.stdout


EXCEPTION_FLOW = """
from kailash.workflow import AsyncWorkflowBuilder, RetryPolicy


class Flaky(Exception):
    pass


builder = AsyncWorkflowBuilder("flaky")
builder.add_async_code("a", "result = 1", retry_policy=RetryPolicy(max_retries=2, retry_on=[Flaky]))
"""


@pytest.mark.parametrize("how", IMPORTS)
def test_a_retry_exception_of_the_workflow_file_is_refused_however_the_file_was_imported(
    how: str, tmp_path: Path
) -> None:
    """Not a module that imports the workflow file (which would then be needed, and run, in production)."""
    (tmp_path / "flow.py").write_text(EXCEPTION_FLOW)
    message = "flow.py:10: node 'a': retry policy: exception Flaky is defined in the workflow file"
    assert message in run_cli("flow.py", "--stdout", cwd=tmp_path).stderr
    script = "import importlib.util, runpy, sys, types\n" + textwrap.dedent(IMPORTS[how])
    done = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True, check=False)
    assert done.returncode == 1
    assert message in done.stderr
