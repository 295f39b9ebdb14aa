"""An exception class the workflow file defines at its top level, named in ``retry_on``: its
definition is copied into the module, so the module imports nothing of the workflow file; one
that cannot be copied is refused naming it and its line.

The copy is the module's own class. Retrying matches it, because the code blocks (and the
helpers copied with them) raise that same copy. Code outside the workflow (the caller of the
in-process runtime) gets the module's class, not the workflow file's: ``except Flaky`` there
does not catch it; a class defined in a module both import is one class everywhere.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from .conftest import run_cli, run_generated

FLOW = """
from kailash.workflow import AsyncPatterns, AsyncWorkflowBuilder, RetryPolicy
from shared_errors import SharedFlaky


class Flaky(Exception):
    pass


def attempt(tries, failures, error):
    tries.append(1)
    if len(tries) <= failures:
        raise error(len(tries))
    return len(tries)


builder = AsyncWorkflowBuilder("flaky")
builder.add_input("tries")
builder.add_input("failures", default=2)
builder.add_input("named_tries", default=[])
builder.add_async_code(
    "by_class",
    "result = attempt(tries, failures, Flaky)",
    retry_policy=RetryPolicy(max_retries=3, base_delay=0.0, retry_on=[Flaky]),
)
AsyncPatterns.retry_with_backoff(
    builder, "by_name", "result = attempt(named_tries, 1, Flaky)", initial_backoff=0.0, retry_on=["Flaky"]
)
shared = AsyncWorkflowBuilder("shared")
shared.add_async_code(
    "a", "raise SharedFlaky('down')", retry_policy=RetryPolicy(max_retries=1, base_delay=0.0, retry_on=[SharedFlaky])
)
"""

IN_PROCESS = """
import asyncio

import flow
from kailash.runtime import AsyncLocalRuntime
from shared_errors import SharedFlaky


async def main():
    tries = []
    result = await AsyncLocalRuntime().execute_workflow_async(flow.builder.build(), {"tries": tries})
    print("retried", result["results"]["by_class"], result["results"]["by_name"]["total_attempts"], len(tries))
    failing = AsyncLocalRuntime(raise_on_error=True)
    try:
        await failing.execute_workflow_async(flow.builder.build(), {"tries": [], "failures": 9})
    except flow.Flaky:
        print("caught as flow.Flaky")
    except Exception as exc:
        print("raised", type(exc).__qualname__, "the module's own class:", type(exc).__module__ != "flow")
    try:
        await failing.execute_workflow_async(flow.shared.build())
    except SharedFlaky as exc:
        print("caught as SharedFlaky:", exc)


asyncio.run(main())
"""


def _project(tmp_path: Path) -> Path:
    (tmp_path / "flow.py").write_text(FLOW)
    (tmp_path / "shared_errors.py").write_text("class SharedFlaky(Exception):\n    pass\n")
    return tmp_path


def test_the_class_is_copied_and_the_compiled_module_retries_on_it(tmp_path: Path) -> None:
    project = _project(tmp_path)
    done = run_cli("flow.py:builder", "-o", "out", cwd=project)
    assert done.returncode == 0, done.stderr
    module = (project / "out" / "flaky.py").read_text()
    assert "# copied from the workflow file, flow.py:6\nclass Flaky(Exception):" in module
    assert "retry_on=(Flaky,)" in module
    assert "import flow" not in module
    ran = run_generated(project / "out" / "flaky.py", "--inputs", '{"tries": []}')
    assert ran.returncode == 0, ran.stderr
    assert '"by_class": 3' in ran.stdout and '"total_attempts": 2' in ran.stdout
    # A failure the retries do not outlast is reported as the copied class.
    failed = run_generated(project / "out" / "flaky.py", "--inputs", '{"tries": [], "failures": 9}')
    assert '"by_class": "Flaky: 4"' in failed.stdout


def test_in_process_the_retry_matches_and_the_caller_sees_the_modules_class(tmp_path: Path) -> None:
    project = _project(tmp_path)
    done = subprocess.run(
        [sys.executable, "-c", IN_PROCESS], cwd=project, capture_output=True, text=True, check=False, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == textwrap.dedent(
        """\
        retried 3 2 3
        raised Flaky the module's own class: True
        caught as SharedFlaky: down
        """
    )


REFUSED = """
from kailash.workflow import AsyncWorkflowBuilder, RetryPolicy

if True:
    class Guarded(Exception):
        pass


class TimeoutError(Exception):
    pass


builder = AsyncWorkflowBuilder("refused")
builder.add_async_code("guarded", "result = 1", retry_policy=RetryPolicy(retry_on=[Guarded]))
builder.add_async_code("unknown", "result = 1", retry_policy=RetryPolicy(retry_on=["ConectionError"]))
"""


def test_a_class_that_cannot_be_copied_is_refused_naming_it_and_its_line(tmp_path: Path) -> None:
    (tmp_path / "flow.py").write_text(REFUSED.replace('builder.add_async_code("unknown"', "# "))
    done = run_cli("flow.py", "--stdout", cwd=tmp_path)
    assert done.returncode == 2
    assert (
        "flow.py:14: node 'guarded': retry_on names 'Guarded', which the workflow file binds at flow.py:4, but that"
        " cannot be copied into the compiled module: it is bound by a top-level `if` statement" in done.stderr
    )
    assert "Traceback" not in done.stderr


def test_a_name_neither_builtin_nor_defined_is_refused_when_the_builder_is_called(tmp_path: Path) -> None:
    (tmp_path / "flow.py").write_text(REFUSED.replace("[Guarded]", "[ValueError]"))
    done = run_cli("flow.py", "--stdout", cwd=tmp_path)
    assert done.returncode == 2
    assert (
        "error: flow.py:15: node 'unknown': retry policy: 'ConectionError' is neither a built-in exception nor an"
        " exception class the workflow file defines before this call (did you mean 'ConnectionError'?)" in done.stderr
    )


def test_a_class_named_like_a_builtin_is_refused(tmp_path: Path) -> None:
    (tmp_path / "flow.py").write_text(
        REFUSED.replace("[Guarded]", "[TimeoutError]").replace('builder.add_async_code("unknown"', "# ")
    )
    done = run_cli("flow.py", "--stdout", cwd=tmp_path)
    assert done.returncode == 2
    assert (
        "flow.py:14: node 'guarded': retry policy: exception TimeoutError of the workflow file has the name of a"
        " built-in, which the compiled module would take for the built-in; rename it" in done.stderr
    )


@pytest.mark.parametrize("retry_on", ["[Flaky]", '["Flaky"]'])
def test_the_ir_file_carries_the_copy(tmp_path: Path, retry_on: str) -> None:
    project = _project(tmp_path)
    (project / "flow.py").write_text(FLOW.replace("[Flaky]", retry_on))
    assert run_cli("flow.py:builder", "-o", "out", "--emit-ir", cwd=project).returncode == 0
    again = run_cli("out/flaky.ir.json", "--stdout", cwd=project)
    assert again.returncode == 0, again.stderr
    assert "class Flaky(Exception):" in again.stdout and "retry_on=(Flaky,)" in again.stdout


def test_an_ir_file_without_the_definition_is_refused_naming_the_exception(tmp_path: Path) -> None:
    project = _project(tmp_path)
    assert run_cli("flow.py:builder", "-o", "out", "--emit-ir", cwd=project).returncode == 0
    ir_file = project / "out" / "flaky.ir.json"
    ir = json.loads(ir_file.read_text())
    ir["definitions"] = [d for d in ir["definitions"] if d["name"] != "Flaky"]
    ir["nodes"] = [node for node in ir["nodes"] if node["node_id"] == "by_name"]
    node = ir["nodes"][0]
    node["code"] = "result = 1"
    ir_file.write_text(json.dumps(ir))
    done = run_cli("out/flaky.ir.json", "--stdout", cwd=project)
    assert done.returncode == 2
    assert (
        "node 'by_name': retry_on names 'Flaky', which is neither a built-in exception nor a name the workflow"
        " file defines at its top level" in done.stderr
    )
