"""Edge cases of naming, checking and running: each once produced a wrong module or a traceback."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path
from typing import Any

import kailash_rt as rt
import pytest
from kailash.codegen import compile_ir
from kailash.errors import WorkflowError
from kailash.runtime import AsyncLocalRuntime
from kailash.workflow import AsyncWorkflowBuilder, ErrorHandler, RetryPolicy

from .conftest import run_cli


def run(builder: AsyncWorkflowBuilder, inputs: dict[str, Any] | None = None) -> dict[str, Any]:
    return asyncio.run(AsyncLocalRuntime().execute_workflow_async(builder.build(), inputs or {}))


def ruff_clean(source: str, tmp_path: Path) -> None:
    path = tmp_path / "module.py"
    path.write_text(source)
    done = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--isolated", str(path)], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stdout


def test_nodes_named_like_the_locals_of_run_are_renamed() -> None:
    builder = AsyncWorkflowBuilder("locals")
    builder.add_async_code("r", "result = {'v': 1}")
    builder.add_async_code("inputs", "result = {'v': v + 1}")
    builder.add_async_code("resources", "result = v * 10")
    builder.add_connection("r", "v", "inputs", "v")
    builder.add_connection("inputs", "v", "resources", "v")
    assert run(builder) == {"results": {"r": {"v": 1}, "inputs": {"v": 2}, "resources": 20}, "errors": {}}
    source = compile_ir(builder.build().ir).source
    assert "async def r_node()" in source and "async def inputs_node(" in source


def test_nodes_named_like_module_level_imports_are_renamed(tmp_path: Path) -> None:
    builder = AsyncWorkflowBuilder("imports")
    builder.add_parallel_map(
        "halves",
        "import fractions\nfrom decimal import Decimal as D\n\n\ndef process_item(item):\n"
        "    return f'{fractions.Fraction(item, 2)} {D(item) / 2}'",
    )
    builder.add_async_code("fractions", "result = 1")
    builder.add_async_code("D", "result = 2")
    builder.add_async_code("aiohttp", "result = 3", retry_policy=RetryPolicy(retry_on=["aiohttp.ClientError"]))
    result = run(builder, {"items": [1, 2]})
    assert result["errors"] == {}
    assert result["results"]["halves"]["results"] == ["1/2 0.5", "1 1"]
    assert result["results"]["fractions"] == 1 and result["results"]["D"] == 2 and result["results"]["aiohttp"] == 3
    source = compile_ir(builder.build().ir).source
    for renamed in ("fractions_node", "D_node", "aiohttp_node"):
        assert f"async def {renamed}()" in source
    ruff_clean(source, tmp_path)


def test_two_map_nodes_binding_one_name_to_different_imports_is_an_error() -> None:
    builder = AsyncWorkflowBuilder("clash")
    builder.add_parallel_map("a", "from math import floor as f\ndef process_item(x):\n    return f(x)")
    builder.add_parallel_map("b", "from math import ceil as f\ndef process_item(x):\n    return f(x)")
    with pytest.raises(WorkflowError) as error:
        compile_ir(builder.build().ir)
    assert "node 'b': `from math import ceil as f` in the code block binds 'f'" in str(error.value)
    assert "clashes with `from math import floor as f`" in str(error.value)


def test_workflow_named_like_a_module_it_would_shadow_gets_a_suffix() -> None:
    for name, module in (
        ("typing", "typing_workflow"),
        ("kailash_rt", "kailash_rt_workflow"),
        ("json", "json_workflow"),
    ):
        builder = AsyncWorkflowBuilder(name)
        builder.add_async_code("a", "result = 1")
        assert compile_ir(builder.build().ir).name == module


class LocalError(Exception):
    pass


def test_an_exception_class_the_module_can_neither_import_nor_copy_is_a_clear_error(tmp_path: Path) -> None:
    source = tmp_path / "wf.py"
    source.write_text(
        "from kailash.workflow import AsyncWorkflowBuilder, RetryPolicy\n"
        "def make():\n    class FlakyError(Exception):\n        pass\n    return FlakyError\n"
        "b = AsyncWorkflowBuilder('local_error')\n"
        "b.add_async_code('a', 'result = 1', retry_policy=RetryPolicy(retry_on=[make()]))\n"
    )
    done = run_cli(str(source), "-o", str(tmp_path / "out"), cwd=tmp_path)
    assert done.returncode == 2
    assert (
        "wf.py:7: node 'a': retry policy: exception make.<locals>.FlakyError is defined inside a function of the"
        " workflow file, which a compiled module can neither import nor copy" in done.stderr
    )
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("code", "message", "line"),
    [
        ("x = 1\nnonlocal x", "name 'x' is assigned to before nonlocal declaration", "code line 2 | nonlocal x"),
        ("from os import *", "import * only allowed at module level", "code line 1 | from os import *"),
        ("a = 1\nyield a", "'yield' cannot be used at the top of a code block", "code line 2 | yield a"),
    ],
)
def test_code_only_the_compiler_rejects_is_reported_at_the_builder_call(code: str, message: str, line: str) -> None:
    builder = AsyncWorkflowBuilder("checked")
    with pytest.raises(WorkflowError) as error:
        builder.add_async_code("n", code)
    text = str(error.value)
    assert "test_edge_cases.py:" in text and "node 'n': syntax error in the code block: " + message in text
    assert line in text


def test_a_generator_inside_a_code_block_is_fine() -> None:
    builder = AsyncWorkflowBuilder("gen")
    builder.add_async_code("n", "def g():\n    yield 1\n    yield 2\nresult = list(g())")
    assert run(builder)["results"] == {"n": [1, 2]}


def test_keyword_input_names_are_rejected_at_the_builder_call() -> None:
    builder = AsyncWorkflowBuilder("kw")
    builder.add_async_code("a", "result = 1")
    builder.add_async_code("b", "result = 2")
    with pytest.raises(WorkflowError, match="connection target input 'class' is not a Python identifier"):
        builder.add_connection("a", "result", "b", "class")
    with pytest.raises(WorkflowError, match="input_field must be a Python identifier, not 'class'"):
        builder.add_parallel_map("m", "def process_item(x):\n    return x", input_field="class")


def test_an_input_named_like_the_item_parameter_is_an_error() -> None:
    builder = AsyncWorkflowBuilder("param")
    source = builder.add_async_code("a", "result = {'item': 1, 'xs': [1]}")
    mapped = builder.add_parallel_map("m", "def process_item(item):\n    return item")
    builder.add_connection(source, "xs", mapped, "items")
    builder.add_connection(source, "item", mapped, "item")
    with pytest.raises(WorkflowError, match="input 'item' has the name of a parameter of process_item"):
        compile_ir(builder.build().ir)


def test_settings_of_the_wrong_type_are_errors_not_tracebacks() -> None:
    builder = AsyncWorkflowBuilder("types")
    with pytest.raises(WorkflowError, match="timeout must be a positive number, not '5'"):
        builder.add_async_code("a", "result = 1", timeout="5")  # type: ignore[arg-type]
    with pytest.raises(WorkflowError, match="timeout must be a finite number, not inf"):
        builder.add_async_code("a", "result = 1", timeout=float("inf"))
    with pytest.raises(WorkflowError, match="log_level must be one of"):
        ErrorHandler("fallback", {}, log_level=3)  # type: ignore[arg-type]
    with pytest.raises(WorkflowError, match="handler_type must be one of"):
        ErrorHandler("retry", {})


def test_a_recursive_process_item_calls_itself() -> None:
    builder = AsyncWorkflowBuilder("fib")
    builder.add_parallel_map(
        "fib", "def process_item(n):\n    return n if n < 2 else process_item(n - 1) + process_item(n - 2)"
    )
    result = run(builder, {"items": [5, 10]})
    assert result["results"]["fib"]["results"] == [5, 55]
    assert "fib.process_item(n - 1)" in compile_ir(builder.build().ir).source


def test_a_timeout_error_raised_by_the_code_is_not_reported_as_the_node_timeout() -> None:
    builder = AsyncWorkflowBuilder("own_timeout")
    builder.add_async_code("lock", "raise TimeoutError('db lock')", timeout=30)
    builder.add_async_code("slow", "await asyncio.sleep(1)", timeout=0.05)
    assert run(builder)["errors"] == {"lock": "TimeoutError: db lock", "slow": "TimeoutError: timed out after 0.05s"}


def test_retry_waits_do_not_overflow() -> None:
    assert rt.Retry(attempts=3000, delay=0.0, max_delay=0.0).wait_before(2500) == 0.0
    assert rt.Retry(attempts=3000, delay=1.0, max_delay=5.0).wait_before(2500) == 5.0


def test_module_dunders_are_not_inputs() -> None:
    builder = AsyncWorkflowBuilder("dunder")
    builder.add_async_code("name", "result = __name__")
    plan_inputs = compile_ir(builder.build().ir).plan.nodes[0].inputs
    assert plan_inputs == ()


def test_a_dict_for_a_name_that_is_both_node_and_input_explains_the_ambiguity() -> None:
    builder = AsyncWorkflowBuilder("ambiguous")
    builder.add_async_code("config", "result = 1")
    builder.add_async_code("use", "result = config['x']")
    with pytest.raises(rt.InputError, match=r"'config' is both a node id and an input"):
        run(builder, {"config": {"x": 1}})
    assert run(builder, {"use": {"config": {"x": 1}}})["results"]["use"] == 1


def test_a_callable_source_that_raises_exits_2_with_its_traceback(tmp_path: Path) -> None:
    (tmp_path / "wf.py").write_text("def make():\n    raise RuntimeError('no config')\n")
    done = run_cli("wf.py:make", "-o", "out", cwd=tmp_path)
    assert done.returncode == 2
    assert "RuntimeError: no config" in done.stderr
    assert "error: wf.py:make: calling it raised RuntimeError: no config" in done.stderr
    assert not (tmp_path / "out").exists()


def test_check_and_stdout_do_not_combine(tmp_path: Path) -> None:
    done = run_cli("examples/order_totals.py", "--stdout", "--check")
    assert done.returncode == 2
    assert "does not combine with --check" in done.stderr


def test_a_resource_only_the_fallback_or_one_operation_uses_is_created_only_when_it_runs() -> None:
    from kailash.workflow import AsyncPatterns

    builder = AsyncWorkflowBuilder("deferred").with_database("backup_db", host="127.0.0.1", port=1, database="test")
    builder.with_cache("cache", backend="memory")
    AsyncPatterns.timeout_with_fallback(
        builder,
        "primary",
        "fallback",
        "result = {'v': 1}",
        "row = await backup_db.fetchrow('select 1')\nresult = {'v': 2}",
        timeout_seconds=1,
    )
    AsyncPatterns.parallel_fetch(
        builder,
        "fetch",
        {"ok": "await cache.set('k', '1')\nresult = 1", "bad": "result = await backup_db.fetchval('select 1')"},
        timeout_per_operation=2,
        continue_on_error=True,
    )
    result = run(builder)
    assert result["errors"] == {}
    assert result["results"]["primary"] == {"v": 1, "_source": "primary"}
    assert result["results"]["fetch"]["successful"] == {"ok": 1}
    assert result["results"]["fetch"]["failed"]["bad"].startswith(
        "ResourceError: resource 'backup_db' could not be created: ConnectionRefusedError"
    )
    assert 'backup_db=r.resource("backup_db", deferred=True)' in compile_ir(builder.build().ir).source


def test_a_name_the_module_imports_for_a_retry_exception_is_that_module_in_code(tmp_path: Path) -> None:
    from kailash.workflow import AsyncRetryPolicy

    builder = AsyncWorkflowBuilder("imported")
    builder.add_async_code(
        "resilient_operation",
        "result = aiohttp.ClientError.__name__",
        retry_policy=AsyncRetryPolicy(max_attempts=3, initial_delay=0.5, retry_exceptions=["aiohttp.ClientError"]),
    )
    module = compile_ir(builder.build().ir)
    assert "async def resilient_operation() -> Any:" in module.source
    assert "Inputs: none" in module.source
    assert run(builder)["results"] == {"resilient_operation": "ClientError"}
    ruff_clean(module.source, tmp_path)


def test_generated_module_prints_node_tracebacks_on_request(tmp_path: Path) -> None:
    (tmp_path / "wf.py").write_text(
        "from kailash.workflow import AsyncWorkflowBuilder\n"
        "b = AsyncWorkflowBuilder('tb')\n"
        "b.add_async_code('boom', \"x = 1\\nresult = x + 'a'\")\n"
    )
    assert run_cli("wf.py", "-o", "out", cwd=tmp_path).returncode == 0
    done = subprocess.run(
        [sys.executable, str(tmp_path / "out" / "tb.py"), "--traceback"], capture_output=True, text=True, check=False
    )
    assert done.returncode == 1
    assert "node 'boom' failed:" in done.stderr
    assert 'tb.py", line' in done.stderr and 'result = x + "a"' in done.stderr
    assert "TypeError: unsupported operand" in done.stderr
    help_text = subprocess.run(
        [sys.executable, str(tmp_path / "out" / "tb.py"), "--help"], capture_output=True, text=True, check=False
    ).stdout
    assert "tb: compiled workflow." in help_text and "Inputs: none" in help_text
