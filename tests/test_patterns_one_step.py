"""A pattern is one step: what is connected to a pattern's entry node reaches every stage
whose code reads it (cache-aside's fetch code, a scatter-gather's workers, a fallback)."""

from __future__ import annotations

import asyncio
import uuid
from types import SimpleNamespace
from typing import Any

import pytest
from kailash.codegen import compile_ir
from kailash.resources import ResourceFactory
from kailash.runtime import AsyncLocalRuntime
from kailash.workflow import AsyncPatterns, AsyncWorkflowBuilder

from .resource_services import generated_source


class ExpensiveApi:
    """The guide's ``expensive_api_call(item_id)``: records its calls, answers with ``.data``."""

    def __init__(self) -> None:
        self.calls: list[Any] = []

    async def __call__(self, item_id: Any) -> SimpleNamespace:
        self.calls.append(item_id)
        return SimpleNamespace(data={"item": item_id, "price": 9.5})


API = ExpensiveApi()


class ExpensiveApiFactory(ResourceFactory):
    async def create(self) -> ExpensiveApi:
        return API


def run(builder: AsyncWorkflowBuilder, inputs: dict[str, Any] | None = None) -> dict[str, Any]:
    return asyncio.run(AsyncLocalRuntime().execute_workflow_async(builder.build(), inputs or {}))


def guide_cache_aside(item_id: str) -> AsyncWorkflowBuilder:
    """The guide's Cache-Aside example, its item id coming from an upstream node into the check node."""
    builder = AsyncWorkflowBuilder(f"one_step_cache_aside_{uuid.uuid4().hex[:8]}")
    builder.with_cache(name="redis_cache", backend="memory")
    builder.require_resource("expensive_api_call", ExpensiveApiFactory())
    builder.add_async_code("setup", f"result = {{'item_id': {item_id!r}}}")
    AsyncPatterns.cache_aside(
        builder,
        "cache_check",
        "data_fetch",
        "cache_store",
        """
    # Fetch expensive data
    response = await expensive_api_call(item_id)
    result = response.data
    """,
        cache_resource="redis_cache",
        cache_key_template="expensive_data_{item_id}",
        ttl_seconds=3600,
    )
    builder.add_connection("setup", "item_id", "cache_check", "item_id")
    return builder


def test_the_guides_cache_aside_fetch_code_reads_the_item_id_connected_to_the_check_node() -> None:
    item_id = uuid.uuid4().hex
    builder = guide_cache_aside(item_id)
    source = generated_source(builder.build())
    assert 'r.input("item_id")' not in source  # not a workflow input: the connection gives it
    assert source.count('item_id=setup_out["item_id"]') == 2  # to the check node and to the fetch code

    result = run(builder)
    assert result["errors"] == {}
    assert result["results"]["cache_check"]["cache_key"] == f"expensive_data_{item_id}"
    assert result["results"]["cache_store"]["data"] == {"item": item_id, "price": 9.5}
    assert result["results"]["cache_store"]["cached"] is True
    assert API.calls[-1] == item_id


def test_an_entry_nodes_connection_binds_a_stage_under_strict_too() -> None:
    compile_ir(guide_cache_aside("a").build().ir, strict=True)


def test_a_stages_own_connection_wins_over_the_entry_nodes() -> None:
    builder = guide_cache_aside("from setup")
    builder.add_async_code("other", "result = {'item_id': 'from other'}")
    builder.add_connection("other", "item_id", "data_fetch", "item_id")
    source = generated_source(builder.build())
    registrations = source.split("async def run(", 1)[1]
    fetch_call = registrations.split('"data_fetch",', 1)[1].split(")", 1)[0]
    assert 'item_id=other_out["item_id"]' in fetch_call
    assert "setup_out" not in fetch_call
    result = run(builder)
    assert result["errors"] == {}
    assert result["results"]["cache_check"]["cache_key"] == "expensive_data_from setup"
    assert result["results"]["data_fetch"]["data"]["item"] == "from other"


def test_a_scatter_gathers_workers_read_what_is_connected_to_the_scatter_node() -> None:
    builder = AsyncWorkflowBuilder("one_step_scatter")
    builder.add_async_code("setup", "result = {'words': ['a', 'bb', 'ccc'], 'suffix': '!'}")
    builder.add_scatter_gather(
        "scatter",
        "worker",
        "gather",
        """
def process_item(item):
    return item.upper() + suffix
""",
        worker_count=2,
    )
    builder.add_connection("setup", "words", "scatter", "items")
    builder.add_connection("setup", "suffix", "scatter", "suffix")
    source = generated_source(builder.build())
    assert 'r.input("suffix")' not in source
    assert source.count('suffix=setup_out["suffix"]') == 2  # one per worker
    result = run(builder)
    assert result["errors"] == {}
    assert result["results"]["gather"]["results"] == ["A!", "BB!", "CCC!"]


@pytest.mark.parametrize("primary_fails", [False, True])
def test_the_fallback_reads_what_is_connected_to_the_primary_node(primary_fails: bool) -> None:
    builder = AsyncWorkflowBuilder(f"one_step_fallback_{primary_fails}")
    builder.add_async_code("setup", f"result = {{'region': 'eu', 'fail': {primary_fails}}}")
    AsyncPatterns.timeout_with_fallback(
        builder,
        "primary",
        "fallback",
        """
if fail:
    raise ConnectionError("primary down")
result = {"prices": "live", "region": region}
""",
        "result = {'prices': 'cached', 'region': region}",
        timeout_seconds=5.0,
    )
    builder.add_connection("setup", "region", "primary", "region")
    builder.add_connection("setup", "fail", "primary", "fail")
    result = run(builder)
    assert result["errors"] == {}
    answer = result["results"]["fallback"]
    assert (answer["prices"], answer["region"]) == ("cached" if primary_fails else "live", "eu")
