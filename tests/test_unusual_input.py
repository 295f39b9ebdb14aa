"""Valid but unusual input compiles to a module that returns it exactly, or is refused with the
usual message (file:line, node id, hint): never an internal error of the compiler.
"""

from __future__ import annotations

import asyncio
import json
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from kailash.analysis.names import module_identifier, node_identifier, to_identifier
from kailash.codegen import compile_ir
from kailash.errors import WorkflowError
from kailash.resources import ResourceFactory
from kailash.runtime import AsyncLocalRuntime
from kailash.workflow import AsyncPatterns, AsyncWorkflowBuilder, ErrorHandler, RetryPolicy

from .conftest import run_cli, run_generated

HUGE = 10**5000 + 12345  # its decimal text is longer than sys.set_int_max_str_digits allows by default


def unique(name: str) -> str:
    return f"{name}_{uuid.uuid4().hex[:8]}"


def execute(builder: AsyncWorkflowBuilder, inputs: dict[str, Any] | None = None) -> dict[str, Any]:
    return asyncio.run(AsyncLocalRuntime().execute_workflow_async(builder.build(), inputs or {}))


def refused(call: Callable[[], object], node_id: str | None = None) -> WorkflowError:
    """The WorkflowError of a builder call, checked to name this file and the node."""
    with pytest.raises(WorkflowError) as error:
        call()
    assert error.value.location is not None
    assert error.value.location.file.endswith("test_unusual_input.py") and error.value.location.line > 0
    assert error.value.node_id == node_id
    return error.value


class Echo:
    def __init__(self, settings: dict[str, Any]) -> None:
        self.settings = settings

    def echo(self, **kwargs: Any) -> dict[str, Any]:
        return kwargs


class EchoFactory(ResourceFactory):
    def __init__(self, size: Any = None) -> None:
        self.size = size

    async def create(self) -> Echo:
        return Echo({"size": self.size})


# -- node ids whose identifier would start with a digit ------------------------------------------


@pytest.mark.parametrize("node_id", ["__1", "((1))", "\x1b[31m", "1", "_9x", "\u2460", "__", "9" * 300])
def test_node_ids_that_mangle_to_a_leading_digit_compile(node_id: str) -> None:
    builder = AsyncWorkflowBuilder(unique("ids"))
    builder.add_async_code(node_id, "result = {'v': 1}")
    builder.add_async_code("after", "result = v + 1")
    builder.add_connection(node_id, "v", "after", "v")
    assert execute(builder) == {"results": {node_id: {"v": 1}, "after": 2}, "errors": {}}
    assert node_identifier(node_id).isidentifier()


@pytest.mark.parametrize("node_id", ["__1", "((1))", "\x1b[31m"])
def test_map_and_scatter_nodes_whose_ids_mangle_to_a_leading_digit_compile(node_id: str) -> None:
    """Their function is rewritten with libcst, which refused the name ``1_node``."""
    builder = AsyncWorkflowBuilder(unique("map_ids"))
    builder.add_parallel_map(node_id, "def process_item(item):\n    return item * 2")
    builder.add_scatter_gather(node_id + "s", "_1", node_id + "g", "def process_item(item):\n    return item + 1")
    builder.add_async_code("source", "result = {'items': [1, 2]}")
    builder.add_connection("source", "items", node_id, "items")
    builder.add_connection("source", "items", node_id + "s", "items")
    outcome = execute(builder)
    assert outcome["errors"] == {}
    assert outcome["results"][node_id]["results"] == [2, 4]
    assert outcome["results"][node_id + "g"]["results"] == [2, 3]


@pytest.mark.parametrize("text", ["__1", "((1))", "\x1b[31m", "1", "_1", "\u2460", "", "-"])
def test_identifiers_never_start_with_a_digit_even_without_leading_underscores(text: str) -> None:
    ident = to_identifier(text)
    assert ident.isidentifier() and ident.isascii()
    assert not ident.lstrip("_")[:1].isdigit()
    assert module_identifier(text).isidentifier()


@pytest.mark.parametrize("name", ["__1", "1 flow", "\x1b[31m"])
def test_workflow_names_that_mangle_to_a_leading_digit_compile(name: str) -> None:
    builder = AsyncWorkflowBuilder(name)
    builder.add_async_code("n", "result = 1")
    module = compile_ir(builder.build().ir)
    assert module.name.isidentifier()
    assert execute(builder)["results"] == {"n": 1}


# -- statements beside process_item() ---------------------------------------------------------


@pytest.mark.parametrize(
    "statement",
    [
        "await asyncio.sleep(0)",
        "return 1",
        "async with lock:\n    pass",
        "async for x in source:\n    pass",
        "values = [await v for v in source]",
    ],
)
def test_what_only_a_function_allows_is_refused_beside_process_item(statement: str) -> None:
    code = f"{statement}\n\n\ndef process_item(item):\n    return item\n"
    builder = AsyncWorkflowBuilder(unique("map_top"))
    builder.add_parallel_map("mapped", code)
    error = refused(lambda: compile_ir(builder.build().ir), "mapped")
    assert "beside process_item() run once, when the module loads" in error.problem
    assert error.code_line is not None and error.code_line.number == 1
    assert error.hint is not None and "process_item()" in error.hint


# -- values of the wrong type --------------------------------------------------------------------


def test_a_workflow_name_that_is_not_a_string_is_refused() -> None:
    error = refused(lambda: AsyncWorkflowBuilder(123))  # type: ignore[arg-type]
    assert "the workflow name must be a string, not int" in error.problem and error.hint


@pytest.mark.parametrize(
    "declare",
    [
        lambda b: AsyncWorkflowBuilder(unique("d"), description=123),
        lambda b: b.add_async_code("node", "result = 1", description=123),
        lambda b: b.add_node("PythonCodeNode", "node", {"code": "result = 1", "description": 123}),
        lambda b: b.add_parallel_map("node", "def process_item(i):\n    return i", description=123),
        lambda b: AsyncPatterns.circuit_breaker(b, "node", "result = 1", description=123),
        lambda b: b.require_resource("echo", EchoFactory(), description=123),
    ],
    ids=["workflow", "code", "add_node", "parallel_map", "pattern", "resource"],
)
def test_a_description_that_is_not_a_string_is_refused(declare: Callable[[AsyncWorkflowBuilder], object]) -> None:
    builder = AsyncWorkflowBuilder(unique("desc"))
    with pytest.raises(WorkflowError) as error:
        declare(builder)
    assert "description must be a string, not int" in str(error.value)
    assert "test_unusual_input.py:" in str(error.value) and error.value.hint


# -- numbers too large for a float, ints too long to print ------------------------------------------


@pytest.mark.parametrize(
    "declare",
    [
        lambda b: b.add_async_code("node", "result = 1", timeout=10**400),
        lambda b: b.add_parallel_map("node", "def process_item(i):\n    return i", max_workers=10**400),
        lambda b: b.add_parallel_map("node", "def process_item(i):\n    return i", batch_size=-HUGE),
        lambda b: AsyncPatterns.rate_limited(b, "node", "result = 1", requests_per_second=HUGE),
        lambda b: AsyncPatterns.timeout_with_fallback(
            b, "node", "fb", "result = 1", "result = 0", timeout_seconds=-HUGE
        ),
    ],
    ids=["timeout", "max_workers", "negative_batch_size", "rate", "timeout_seconds"],
)
def test_numbers_no_float_can_hold_are_refused(declare: Callable[[AsyncWorkflowBuilder], object]) -> None:
    builder = AsyncWorkflowBuilder(unique("huge"))
    error = refused(lambda: declare(builder), "node")
    assert len(str(error)) < 400  # the value is described, never printed in full


def test_a_policy_number_no_float_can_hold_is_refused() -> None:
    error = refused(lambda: RetryPolicy(base_delay=10**400))
    assert "base_delay must be at most" in error.problem


@pytest.fixture
def raised_digit_limit() -> Iterator[None]:
    """This process reads ints of any length, as after sys.set_int_max_str_digits(0)."""
    before = sys.get_int_max_str_digits()
    sys.set_int_max_str_digits(0)
    try:
        yield
    finally:
        sys.set_int_max_str_digits(before)


@pytest.mark.parametrize("limit", ["default", "raised"])
def test_an_int_literal_too_long_for_python_to_read_is_refused(limit: str, request: pytest.FixtureRequest) -> None:
    if limit == "raised":
        request.getfixturevalue("raised_digit_limit")  # the module must load where the limit is the default
    code = f"x = 1\nresult = {'7' * 4301}"
    builder = AsyncWorkflowBuilder(unique("long_literal"))
    error = refused(lambda: builder.add_async_code("node", code), "node")
    assert "more than 4300 digits" in error.problem and "hexadecimal" in error.problem
    assert error.code_line is not None and error.code_line.number == 2


def test_an_int_literal_python_reads_compiles() -> None:
    builder = AsyncWorkflowBuilder(unique("long_literal"))
    builder.add_async_code("node", f"result = {'7' * 4300} % 1000")
    assert execute(builder)["results"] == {"node": 777}


def test_long_ints_in_fallback_values_and_settings_reach_the_module_exactly() -> None:
    builder = AsyncWorkflowBuilder(unique("long_values"))
    builder.add_async_code(
        "fails", "raise ValueError('no')", error_handler=ErrorHandler(fallback_value={"v": [HUGE, -HUGE]})
    )
    builder.require_resource("echo", EchoFactory(size=-HUGE))
    builder.add_resource_node("param", "echo", "echo", {"value": HUGE, "nested": {"k": (1, HUGE)}})
    builder.add_async_code("setting", "result = echo.settings['size'] == -0x" + format(HUGE, "X"))
    outcome = execute(builder)
    assert outcome["errors"] == {}
    assert outcome["results"]["fails"] == {"v": [HUGE, -HUGE]}
    assert outcome["results"]["param"]["result"] == {"value": HUGE, "nested": {"k": (1, HUGE)}}
    assert outcome["results"]["setting"] is True
    source = compile_ir(builder.build().ir).source
    assert max(len(line) for line in source.splitlines()) < 5000  # hexadecimal, not 5,000 decimal digits


# -- lone surrogates -----------------------------------------------------------------------------


def test_lone_surrogates_in_code_are_refused_with_the_line_and_column() -> None:
    builder = AsyncWorkflowBuilder(unique("surrogate"))
    error = refused(lambda: builder.add_async_code("node", "x = 1\nresult = '\ud800'"), "node")
    assert "lone surrogate U+D800" in error.problem and "\\ud800" in error.problem
    assert error.code_line is not None and error.code_line.number == 2
    assert error.code_line.text == "result = '\\ud800'" and error.code_line.column == 10
    str(error).encode("utf-8")  # the message itself can be printed


SURROGATE_WORKFLOW = """
from kailash.workflow import AsyncWorkflowBuilder, ErrorHandler

flow = AsyncWorkflowBuilder("surrogates\\ud800", description="about \\udfff")
flow.add_async_code("id\\udc00", "result = {'key\\\\ud801': 'value\\\\udc01'}", description="node \\ud800")
flow.add_async_code(
    "fallback", "raise ValueError('no')", error_handler=ErrorHandler(fallback_value=["\\ud802", {"\\udc02": 1}])
)
flow.add_parallel_map(
    "mapped", "def process_item(item):\\n    return item", output_field="out\\ud803", description="map \\ud803"
)
flow.add_async_code("source", "result = {'items': ['\\\\ud804']}")
flow.add_connection("source", "items", "mapped", "items")
flow.add_async_code("reader", "result = value")
flow.add_connection("id\\udc00", "key\\ud801", "reader", "value")
flow.with_cache("store", backend="memory")
flow.add_resource_node("stored", "store", "set", {"key": "k", "value": "v"}, description="set \\ud805")
"""


def test_lone_surrogates_in_ids_names_descriptions_and_values_are_written_as_escapes(tmp_path: Path) -> None:
    source = tmp_path / "flow.py"
    source.write_text(SURROGATE_WORKFLOW, encoding="utf-8")
    out = tmp_path / "out"
    compiled = run_cli(str(source), "-o", str(out))
    assert compiled.returncode == 0, compiled.stderr
    [module] = out.glob("*.py")
    module.read_text(encoding="utf-8")  # valid UTF-8
    ran = run_generated(module)
    assert ran.returncode == 0, ran.stderr
    result = json.loads(ran.stdout)
    assert result["errors"] == {}
    assert result["results"]["id\udc00"] == {"key\ud801": "value\udc01"}
    assert result["results"]["fallback"] == ["\ud802", {"\udc02": 1}]
    assert result["results"]["mapped"]["out\ud803"] == ["\ud804"]
    assert result["results"]["reader"] == "value\udc01"
    assert result["results"]["stored"]["result"] is True


@pytest.mark.parametrize(
    "code",
    [
        '"\\ud800 first string"\nresult = 1',
        'def f():\n    "\\udfff"\nresult = 1',
        'class C:\n    """\\U0000dbff"""\nresult = 1',
    ],
)
def test_a_docstring_holding_a_lone_surrogate_is_refused_on_every_python(code: str) -> None:
    builder = AsyncWorkflowBuilder(unique("surrogate_doc"))
    error = refused(lambda: builder.add_async_code("node", code), "node")
    assert "Python 3.13 cannot compile" in error.problem


def test_a_lone_surrogate_in_a_string_that_is_no_docstring_compiles() -> None:
    builder = AsyncWorkflowBuilder(unique("surrogate_string"))
    builder.add_async_code("node", 'x = 1\n"\\ud800"\nresult = ["\\ud800", "\\U0000dfff"]')
    assert execute(builder)["results"] == {"node": ["\ud800", "\udfff"]}
