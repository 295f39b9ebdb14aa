"""Names are what Python reads them as: NFKC normal form (black-letter H is H), in process and in the module.

Python normalises every identifier in source, so a resource ``\\u210cc`` is ``Hc`` in the generated
module; the builder records every name that becomes an identifier or keyword in that form, and
two names equal after normalisation are one name (a clash says so).
"""

from __future__ import annotations

import asyncio
import json
import runpy
import uuid
from pathlib import Path
from typing import Any

import pytest
from kailash.analysis.names import node_identifier
from kailash.codegen import compile_ir
from kailash.errors import WorkflowError
from kailash.resources import ResourceFactory
from kailash.runtime import AsyncLocalRuntime
from kailash.workflow import AsyncPatterns, AsyncWorkflowBuilder

from .conftest import run_cli, run_generated

BLACK_LETTER_H = "\u210c"  # NFKC: H
BOLD_IF = "\U0001d422\U0001d41f"  # mathematical bold "if"; NFKC: the keyword if


def unique(name: str) -> str:
    return f"{name}_{uuid.uuid4().hex[:8]}"


def execute(builder: AsyncWorkflowBuilder, inputs: dict[str, Any] | None = None) -> dict[str, Any]:
    return asyncio.run(AsyncLocalRuntime().execute_workflow_async(builder.build(), inputs or {}))


WORKFLOW = """
from kailash.workflow import AsyncPatterns, AsyncWorkflowBuilder

H = "\\u210c"
flow = AsyncWorkflowBuilder("normal_form_names")
flow.with_cache(H + "c", backend="memory")
flow.add_async_code("resource", '''
first = await get_resource("\\u210cc")
second = await get_resource("Hc")
await first.set("k", "v")
result = [first is second, first is \\u210cc, first is Hc, (await Hc.get("k")).decode()]
''')
flow.add_async_code("source", "result = {'x': 2, 'xs': [1, 2], 'k': 10}")
flow.add_async_code("connected", "result = [\\u210c, H]")
flow.add_connection("source", "x", "connected", H)
flow.add_parallel_map(
    "mapped", "def process_item(\\uff49tem):\\n    return \\uff49tem * \\U0001d424", input_field="\\uff58s"
)
flow.add_connection("source", "xs", "mapped", "\\uff58s")
flow.add_connection("source", "k", "mapped", "\\U0001d424")
AsyncPatterns.cache_aside(
    flow, "check", "fetch", "store", "result = {'value': \\u210c * 100}",
    cache_resource=H + "c", cache_key_template="key_{\\u210c}",
)
flow.add_connection("source", "x", "check", H)
flow.add_connection("source", "x", "fetch", H)
"""

EXPECTED = {
    "resource": [True, True, True, "v"],
    "source": {"x": 2, "xs": [1, 2], "k": 10},
    "connected": [2, 2],
    "mapped": [10, 20],
    "check": {"found_in_cache": False, "cache_key": "key_2", "data": None},
    "fetch": {"needs_caching": True, "cache_key": "key_2", "data": {"value": 200}},
}


def _checked(results: dict[str, Any]) -> None:
    results = dict(results)
    results["mapped"] = results["mapped"]["results"]
    results.pop("store")
    assert results == EXPECTED


def test_names_mean_the_same_in_process_and_in_the_written_module(tmp_path: Path) -> None:
    source = tmp_path / "flow.py"
    source.write_text(WORKFLOW, encoding="utf-8")
    builder = runpy.run_path(str(source))["flow"]
    in_process = execute(builder)
    assert in_process["errors"] == {}
    _checked(in_process["results"])

    out = tmp_path / "out"
    compiled = run_cli(str(source), "-o", str(out))
    assert compiled.returncode == 0, compiled.stderr
    module = out / "normal_form_names.py"
    assert "RESOURCES = rt.Resources(Hc=" in module.read_text(encoding="utf-8")
    ran = run_generated(module)
    assert ran.returncode == 0, ran.stderr
    written = json.loads(ran.stdout)
    assert written["errors"] == {}
    _checked(written["results"])


def test_a_workflow_input_is_named_in_normal_form() -> None:
    builder = AsyncWorkflowBuilder(unique("inputs"))
    builder.add_async_code("reader", f"result = {BLACK_LETTER_H} + 1")
    source = compile_ir(builder.build().ir).source
    assert "    H (used by reader)" in source
    assert execute(builder, {"H": 1})["results"] == {"reader": 2}


def test_node_ids_become_identifiers_through_their_normal_form() -> None:
    assert node_identifier(BLACK_LETTER_H + "ello") == "Hello"


@pytest.mark.parametrize("first, second", [(BLACK_LETTER_H, "H"), ("H", BLACK_LETTER_H)])
def test_two_connections_into_one_name_say_the_names_are_the_same(first: str, second: str) -> None:
    builder = AsyncWorkflowBuilder(unique("clash"))
    builder.add_async_code("source", "result = {'a': 1, 'b': 2}")
    builder.add_async_code("reader", "result = H")
    builder.add_connection("source", "a", "reader", first)
    with pytest.raises(WorkflowError) as error:
        builder.add_connection("source", "b", "reader", second)
    message = str(error.value)
    assert f"inputs {first!r} and {second!r} are one name to Python, 'H'" in message
    assert "NFKC" in message and "node 'reader'" in message and "test_normal_form_names.py:" in message


def test_two_resources_of_one_name_say_the_names_are_the_same() -> None:
    builder = AsyncWorkflowBuilder(unique("clash"))
    builder.with_cache(BLACK_LETTER_H + "c", backend="memory")
    with pytest.raises(WorkflowError) as error:
        builder.with_cache("Hc", backend="memory")
    assert f"({BLACK_LETTER_H + 'c'!r} and 'Hc' are one name to Python" in str(error.value)


class Echo:
    def echo(self, **kwargs: Any) -> dict[str, Any]:
        return kwargs


class EchoFactory(ResourceFactory):
    async def create(self) -> Echo:
        return Echo()


def test_keys_python_would_normalise_reach_the_operation_as_spelled() -> None:
    builder = AsyncWorkflowBuilder(unique("keys"))
    builder.require_resource("echo", EchoFactory())
    builder.add_resource_node("read", "echo", "echo", {"key": "k", BLACK_LETTER_H: 1, "H": 2})
    source = compile_ir(builder.build().ir).source
    assert f'**{{"{BLACK_LETTER_H}": 1}}' in source  # a keyword Python would read as H is passed as a key
    assert execute(builder)["results"]["read"]["result"] == {"key": "k", BLACK_LETTER_H: 1, "H": 2}


@pytest.mark.parametrize(
    "declare",
    [
        lambda b: b.add_async_code("node", f"result = {BOLD_IF}"),
        lambda b: b.add_connection("a", "x", "node", BOLD_IF),
        lambda b: b.with_cache(BOLD_IF, backend="memory"),
        lambda b: b.add_parallel_map("node", "def process_item(i):\n    return i", input_field=BOLD_IF),
        lambda b: AsyncPatterns.cache_aside(b, "node", "f", "s", "result = 1", cache_key_template=f"k_{{{BOLD_IF}}}"),
    ],
    ids=["code", "connection", "resource", "input_field", "key_template"],
)
def test_a_name_that_normalises_into_a_keyword_is_refused(declare: Any) -> None:
    builder = AsyncWorkflowBuilder(unique("keyword"))
    with pytest.raises(WorkflowError) as error:
        declare(builder)
    assert "test_normal_form_names.py:" in str(error.value)
