"""The compiler back end: IR JSON round trip, lint-clean output, a module that runs without
kailash, and chunk-by-chunk formatting that equals formatting the whole module with black.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import black
import pytest
from kailash.analysis import analyse
from kailash.codegen import compile_ir
from kailash.codegen.formatting import black_mode, format_chunk_texts
from kailash.ir import WorkflowIR
from kailash.runtime import AsyncLocalRuntime
from kailash.sources import load_workflows
from kailash.targets.asyncio.render import render_chunks, render_run, templates
from kailash.targets.asyncio.source_lines import source_line_table
from kailash.workflow import AsyncRetryPolicy, AsyncWorkflowBuilder, ErrorHandler, RetryPolicy, Workflow

from .conftest import EXAMPLES, ROOT, run_cli, run_generated

EXAMPLE_FILES = sorted(EXAMPLES.glob("*.py"))


def example_workflows() -> list[Workflow]:
    return [found.workflow for path in EXAMPLE_FILES for found in load_workflows(str(path))]


def policies_workflow() -> Workflow:
    """Every core feature once: policies, fallbacks of every literal shape, inputs, auto-imports."""
    b = AsyncWorkflowBuilder("policies-and-literals", description="Quotes \" and ''' and {{ braces }}")
    b.add_async_code("start", "result = {'items': [1, 2, 3], 'meta': {'n': 3}}", description="first\nnode")
    b.add_async_code(
        "retrying",
        "result = {'sum': sum(items) + offset, 'stamp': round(time.time()) > 0}",
        timeout=2.5,
        max_concurrent_tasks=3,
        retry_policy=RetryPolicy(max_retries=2, base_delay=0.01, max_delay=0.5, retry_on=[ConnectionError]),
    )
    b.add_async_code(
        "async-retrying",
        "result = json.dumps(n)",
        retry_policy=AsyncRetryPolicy(max_attempts=2, initial_delay=0.0, retry_exceptions=["json.JSONDecodeError"]),
        error_handler=ErrorHandler("fallback", (1, "two", None), "error"),
    )
    b.add_async_code(
        "fallback",
        "raise RuntimeError('x')",
        error_handler=ErrorHandler("fallback", {1: "int key", "nested": [(), {"$tuple": 1.5}], "f": -0.0}),
    )
    b.add_connection("start", "items", "retrying", "items")
    b.add_connection("start", "meta.n", "async-retrying", "n")
    return b.build()


def wide_workflow(size: int) -> Workflow:
    """``size`` nodes in layers of ten, each reading the node above; varied code and policies."""
    b = AsyncWorkflowBuilder(f"wide_{size}")
    for index in range(size):
        options: dict[str, Any] = {}
        if index % 7 == 0:
            options["timeout"] = 5
        if index % 11 == 0:
            options["retry_policy"] = RetryPolicy(max_retries=1, base_delay=0.0, retry_on=[ValueError])
        if index % 13 == 0:
            options["error_handler"] = ErrorHandler("fallback", {"index": index})
        body = (
            f"values = [v * {index} for v in range(3)]\n"
            f"if values and {index} % 2:\n"
            f"    values.append(math.floor({index} / 3))\n"
            f"result = {{'value': sum(values) + (upstream if isinstance(upstream, int) else 0), 'name': 'n{index}'}}"
        )
        if index < 10:
            body = body.replace("(upstream if isinstance(upstream, int) else 0)", "0")
        b.add_async_code(f"node-{index}", body, **options)
        if index >= 10:
            b.add_connection(f"node-{index - 10}", "value", f"node-{index}", "upstream")
    return b.build()


# -- IR ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("make", [example_workflows, lambda: [policies_workflow()]], ids=["examples", "policies"])
def test_ir_json_round_trip(make: Any) -> None:
    for workflow in make():
        ir = workflow.ir
        text = ir.to_json()
        again = WorkflowIR.from_json(text)
        assert again == ir
        assert again.to_json() == text
        assert again.content_hash() == ir.content_hash()
        assert compile_ir(again).source == compile_ir(ir).source


def test_ir_json_is_plain_json_with_a_version() -> None:
    data = json.loads(policies_workflow().ir.to_json())
    assert data["ir_version"] == 3
    assert [n["node_id"] for n in data["nodes"]] == ["start", "retrying", "async-retrying", "fallback"]
    data["ir_version"] = 99
    with pytest.raises(ValueError, match="IR version 99"):
        WorkflowIR.from_json(json.dumps(data))


def test_fallback_values_the_module_cannot_spell_are_rejected_when_made() -> None:
    with pytest.raises(ValueError, match="plain literal"):
        ErrorHandler("fallback", {"tags": {"a", "b"}})
    with pytest.raises(ValueError, match="plain literal"):
        ErrorHandler("fallback", b"bytes")


# -- the generated module -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def compiled_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("compiled")
    for workflow in [*example_workflows(), policies_workflow(), wide_workflow(30)]:
        module = compile_ir(workflow.ir)
        (out / module.filename).write_text(module.source)
    return out


def test_generated_modules_pass_ruff(compiled_dir: Path) -> None:
    paths = sorted(str(p) for p in compiled_dir.glob("*.py"))
    assert len(paths) >= 5
    result = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--isolated", "--no-cache", *paths],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_generated_modules_import_only_stdlib_and_kailash_rt(compiled_dir: Path) -> None:
    for path in compiled_dir.glob("*.py"):
        source = path.read_text()
        assert "import kailash\n" not in source and "from kailash" not in source and "kailash." not in source
        assert "exec(" not in source and "eval(" not in source


def test_generated_module_runs_with_kailash_blocked(compiled_dir: Path) -> None:
    result = run_generated(compiled_dir / "policies_and_literals.py", "--inputs", json.dumps({"offset": 10}))
    assert result.returncode == 0, result.stderr
    assert "fallback failed (RuntimeError: x); using its fallback value" in result.stderr  # logged
    output = json.loads(result.stdout)
    assert output["results"]["retrying"]["sum"] == 16
    assert output["results"]["async-retrying"] == "3"
    # JSON on stdout: the int key and the tuple become a string key and a list.
    assert output["results"]["fallback"] == {"1": "int key", "nested": [[], {"$tuple": 1.5}], "f": -0.0}
    assert output["errors"] == {}


@pytest.mark.parametrize("example", ["order_totals.py", "fan_out_fan_in.py"])
def test_example_modules_run_with_kailash_blocked(example: str, tmp_path: Path) -> None:
    assert run_cli(f"examples/{example}", "-o", str(tmp_path)).returncode == 0
    (module,) = tmp_path.glob("*.py")
    inputs = {"order": {"lines": [{"sku": "widget", "qty": 2}], "discount_code": "VIP25"}, "tax_rate": 0.1}
    args = ["--inputs", json.dumps(inputs)] if example == "order_totals.py" else []
    result = run_generated(module, *args)
    assert result.returncode == 0, result.stdout + result.stderr
    assert json.loads(result.stdout)["errors"] == {}
    # The same module with the kailash package importable gives the same result.
    assert run_generated(module, *args, block_kailash=False).stdout == result.stdout


def test_guide_pipeline_runs_with_kailash_blocked(tmp_path: Path) -> None:
    assert run_cli("examples/data_enrichment.py", "-o", str(tmp_path)).returncode == 0
    result = run_generated(tmp_path / "data_enrichment_pipeline.py")
    assert result.returncode == 0, result.stdout + result.stderr
    output = json.loads(result.stdout)
    assert output["errors"] == {}
    statistics = output["results"]["aggregate_results"]["statistics"]
    assert (statistics["total"], statistics["active"], statistics["average_score"]) == (5, 2, 30.0)


# -- formatting ---------------------------------------------------------------------------------


def unformatted_module(workflow: Workflow) -> str:
    """The rendered chunks joined into one module, before any formatting (run() with the
    SOURCE_LINES of the formatted node code, as compile_ir renders it)."""
    plan = analyse(workflow.ir)
    chunks = render_chunks(plan, workflow.ir.location.file)
    table = source_line_table(plan, format_chunk_texts(chunks[:-1]))
    return "\n\n".join([*chunks[:-1], render_run(plan, templates(), table)])


@pytest.mark.parametrize(
    "make",
    [example_workflows, lambda: [policies_workflow()], lambda: [wide_workflow(200)]],
    ids=["examples", "policies", "200-nodes"],
)
def test_chunked_formatting_equals_black_on_the_whole_module(make: Any) -> None:
    for workflow in make():
        generated = compile_ir(workflow.ir).source
        assert generated == black.format_str(unformatted_module(workflow), mode=black_mode()), workflow.name
        assert black.format_str(generated, mode=black_mode()) == generated


def test_big_workflow_compiles_and_runs_in_order(tmp_path: Path) -> None:
    workflow = wide_workflow(200)
    module = compile_ir(workflow.ir)
    path = tmp_path / module.filename
    path.write_text(module.source)
    result = run_generated(path)
    assert result.returncode == 0, result.stderr[-2000:]
    output = json.loads(result.stdout)
    assert len(output["results"]) == 200 and output["errors"] == {}
    assert output["results"]["node-195"]["name"] == "n195"


def test_source_path_is_relative(tmp_path: Path) -> None:
    module = compile_ir(policies_workflow().ir)
    assert "Source: tests/test_codegen.py\n" in module.source
    assert str(ROOT) not in module.source


def test_adding_a_node_touches_only_its_own_lines() -> None:
    def build(with_extra: bool) -> str:
        builder = AsyncWorkflowBuilder("small_diffs")
        first = builder.add_async_code("first", "result = {'n': 1}")
        if with_extra:  # a node added above the others shifts their lines in the workflow file
            builder.add_async_code("extra", "result = {'m': 2}")
        last = builder.add_async_code("last", "result = n + 1")
        builder.add_connection(first, "n", last, "n")
        return compile_ir(builder.build().ir).source

    before, after = build(False).splitlines(), build(True).splitlines()
    removed = [line for line in before if line not in after]
    added = [line for line in after if line not in before]
    assert removed == []
    source = Path(__file__).read_text().splitlines()
    extra_line = next(number for number, line in enumerate(source, 1) if "result = {'m': 2}" in line)
    assert added == [
        '# node "extra"',
        "async def extra() -> Any:",
        '    result = {"m": 2}',
        f'        "extra": ("extra", {extra_line}, "1=1"),',  # its entry in SOURCE_LINES
        '        r.node("extra", extra)',
    ]


def test_fallback_literals_keep_their_types_in_process() -> None:
    result = asyncio.run(AsyncLocalRuntime().execute_workflow_async(policies_workflow(), {"offset": 1}))
    assert result["errors"] == {}
    assert result["results"]["fallback"] == {1: "int key", "nested": [(), {"$tuple": 1.5}], "f": -0.0}
    assert isinstance(result["results"]["fallback"]["nested"][0], tuple)
