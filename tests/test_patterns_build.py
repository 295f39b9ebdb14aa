"""Pattern settings and cache keys, as the builder checks them and the compiled workflow runs them."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path
from typing import Any

import pytest
from kailash.codegen import compile_ir
from kailash.errors import WorkflowError
from kailash.runtime import AsyncLocalRuntime
from kailash.workflow import AsyncPatterns, AsyncWorkflowBuilder

from .resource_services import REDIS, compile_and_load, generated_source, require_redis

HERE = Path(__file__).name
CODE = "result = 1"


# -- settings: finite numbers only -----------------------------------------------------------
def _adders() -> list[tuple[str, str, Any]]:
    """(setting, node id the error names, a function adding the pattern with that setting)."""
    return [
        ("requests_per_second", "a", lambda b, v: AsyncPatterns.rate_limited(b, "a", CODE, requests_per_second=v)),
        ("initial_backoff", "a", lambda b, v: AsyncPatterns.retry_with_backoff(b, "a", CODE, initial_backoff=v)),
        ("backoff_factor", "a", lambda b, v: AsyncPatterns.retry_with_backoff(b, "a", CODE, backoff_factor=v)),
        ("max_backoff", "a", lambda b, v: AsyncPatterns.retry_with_backoff(b, "a", CODE, max_backoff=v)),
        ("reset_timeout", "a", lambda b, v: AsyncPatterns.circuit_breaker(b, "a", CODE, reset_timeout=v)),
        ("flush_interval", "a", lambda b, v: AsyncPatterns.batch_processor(b, "a", CODE, flush_interval=v)),
        (
            "timeout_seconds",
            "a",
            lambda b, v: AsyncPatterns.timeout_with_fallback(b, "a", "f", CODE, CODE, timeout_seconds=v),
        ),
        (
            "timeout_per_operation",
            "a",
            lambda b, v: AsyncPatterns.parallel_fetch(b, "a", {"x": CODE}, timeout_per_operation=v),
        ),
    ]


@pytest.mark.parametrize("value", [float("inf"), float("nan")], ids=["inf", "nan"])
@pytest.mark.parametrize(("setting", "node_id", "add"), _adders(), ids=[a[0] for a in _adders()])
def test_non_finite_settings_are_rejected_at_build_time(setting: str, node_id: str, add: Any, value: float) -> None:
    builder = AsyncWorkflowBuilder("non_finite")
    with pytest.raises(WorkflowError) as info:
        add(builder, value)
    message = str(info.value)
    assert f"{setting} must be a finite number, not {value!r}" in message
    assert f"{HERE}:" in message  # the user's file and line
    assert f"node {node_id!r}" in message
    assert builder.build().ir.nodes == ()  # nothing was added


def test_a_huge_finite_rate_gets_a_default_burst() -> None:
    builder = AsyncWorkflowBuilder("huge_rate")
    AsyncPatterns.rate_limited(builder, "a", CODE, requests_per_second=1e308)
    assert builder.build().ir.nodes[0].settings["burst_size"] == 2**62


# -- cache-aside keys --------------------------------------------------------------------------
SHADOWING = "k_{run_id}:{id}:{type}:{hash}:{time}:{uuid}:{json}"  # builtins and auto-imported modules


def _cache_aside(backend: str, template: str) -> AsyncWorkflowBuilder:
    builder = AsyncWorkflowBuilder(f"cache_keys_{backend}")
    settings = REDIS if backend == "redis" else {}
    builder.with_cache("cache", backend=backend, **settings)
    fetch = "result = {'fetched': True}"
    AsyncPatterns.cache_aside(
        builder, "check", "fetch", "store", fetch, cache_resource="cache", cache_key_template=template, ttl_seconds=60
    )
    return builder


def _runs(builder: AsyncWorkflowBuilder, backend: str, inputs: list[dict[str, Any]], keys: list[str]) -> list[Any]:
    """Run the compiled module once per inputs, in one process (its caches live as long as the module)."""
    if backend == "redis":
        require_redis()
    module = compile_and_load(builder.build())

    async def main() -> list[Any]:
        runs = [await module.run(one) for one in inputs]
        if backend == "redis":
            import redis.asyncio as redis

            client = redis.Redis(**REDIS)
            await client.delete(*keys)
            await client.aclose()
        return runs

    return asyncio.run(main())


BACKENDS = ["memory", pytest.param("redis", marks=pytest.mark.services)]


@pytest.mark.parametrize("backend", BACKENDS)
def test_key_fields_named_like_builtins_or_modules_are_inputs(backend: str) -> None:
    builder = _cache_aside(backend, SHADOWING)
    source = generated_source(builder.build())
    assert 'id=r.input("id")' in source
    assert 'time=r.input("time")' in source
    run_id = uuid.uuid4().hex
    inputs = {"run_id": run_id, "id": 7, "type": "user", "hash": "h", "time": "noon", "uuid": "u", "json": "j"}
    key = f"k_{run_id}:7:user:h:noon:u:j"
    first, second = _runs(builder, backend, [inputs, inputs], [key])
    assert first["errors"] == second["errors"] == {}
    assert first["results"]["check"] == {"found_in_cache": False, "cache_key": key, "data": None}
    assert first["results"]["store"]["data"] == {"fetched": True}
    assert first["results"]["store"]["cached"] is True
    assert second["results"]["check"]["found_in_cache"] is True  # the same key: a hit
    assert second["results"]["fetch"]["needs_caching"] is False


@pytest.mark.parametrize("backend", BACKENDS)
def test_the_guides_user_id_key_from_an_input(backend: str) -> None:
    run_id = uuid.uuid4().hex
    builder = _cache_aside(backend, f"user_{run_id}_{{id}}")
    keys = [f"user_{run_id}_7", f"user_{run_id}_8"]
    miss, hit, other = _runs(builder, backend, [{"id": 7}, {"id": 7}, {"id": 8}], keys)
    assert [r["errors"] for r in (miss, hit, other)] == [{}, {}, {}]
    assert [r["results"]["check"]["found_in_cache"] for r in (miss, hit, other)] == [False, True, False]
    assert hit["results"]["check"]["cache_key"] == keys[0]
    assert hit["results"]["store"]["data"] == {"fetched": True}


def test_the_in_process_runtime_takes_key_fields_as_inputs() -> None:
    workflow = _cache_aside("memory", "user_{id}").build()
    result = asyncio.run(AsyncLocalRuntime().execute_workflow_async(workflow, {"id": 7}))
    assert result["errors"] == {}
    assert result["results"]["check"]["cache_key"] == "user_7"


def test_a_connected_key_field_is_not_an_input() -> None:
    builder = _cache_aside("memory", "k_{id}")
    builder.add_async_code("src", "result = {'id': 3}")
    builder.add_connection("src", "id", "check", "id")
    source = generated_source(builder.build())
    assert 'id=src_out["id"]' in source
    assert 'r.input("id")' not in source.split('"check"', 1)[1].split("fetch_out", 1)[0]


def test_strict_needs_key_fields_connected() -> None:
    builder = _cache_aside("memory", "k_{id}")
    with pytest.raises(WorkflowError, match="cache key field 'id' is not connected"):
        compile_ir(builder.build().ir, strict=True)


def test_key_fields_that_cannot_be_inputs_are_rejected_at_build_time() -> None:
    builder = AsyncWorkflowBuilder("bad_keys")
    builder.with_cache("cache", backend="memory")
    with pytest.raises(WorkflowError, match="Python keyword") as info:
        AsyncPatterns.cache_aside(builder, "c", "f", "s", CODE, cache_key_template="k_{class}")
    assert f"{HERE}:" in str(info.value)
    with pytest.raises(WorkflowError, match="name of the cache resource"):
        AsyncPatterns.cache_aside(builder, "c", "f", "s", CODE, cache_key_template="k_{cache}")


# -- timeout with fallback: each node's own outcome ------------------------------------------
def test_a_compiled_pair_whose_primary_and_fallback_both_fail_reports_each_nodes_own_error() -> None:
    builder = AsyncWorkflowBuilder("both_fail")
    AsyncPatterns.timeout_with_fallback(
        builder,
        "primary",
        "fallback",
        "raise ConnectionError('primary down')",
        "raise LookupError('no cached copy')",
        timeout_seconds=5.0,
    )
    builder.add_async_code("report", "result = answer")
    builder.add_connection("fallback", "result", "report", "answer")
    result = asyncio.run(AsyncLocalRuntime().execute_workflow_async(builder.build(), {}))
    assert result["results"] == {}
    assert result["errors"] == {
        "primary": "ConnectionError: primary down",
        "fallback": "LookupError: no cached copy",
        "report": "UpstreamFailed: skipped because upstream node 'fallback' failed",
    }


# -- scatter-gather: errors name the input's index -------------------------------------------
def test_a_compiled_scatter_gather_names_a_failing_item_by_its_index_in_the_input() -> None:
    builder = AsyncWorkflowBuilder("scatter_index")
    builder.add_async_code("load", "result = {'prices': [0, 10, 20, 30, 40]}")
    builder.add_scatter_gather(
        "split",
        "price_worker",
        "join",
        """
def process_item(item):
    if item == 30:
        raise ValueError("no price for 30")
    return item
""",
        worker_count=2,
    )
    builder.add_connection("load", "prices", "split", "items")
    result = asyncio.run(AsyncLocalRuntime().execute_workflow_async(builder.build(), {}))
    assert result["errors"] == {
        "price_worker_1": "ItemFailed: item 3 of the input failed: ValueError: no price for 30",
        "join": "UpstreamFailed: skipped because upstream node 'price_worker_1' failed",
    }


def test_process_item_may_not_read_start_the_name_each_worker_gets_its_first_index_under() -> None:
    builder = AsyncWorkflowBuilder("scatter_start")
    builder.add_scatter_gather("split", "w", "join", "def process_item(item):\n    return item + start\n")
    with pytest.raises(WorkflowError, match="'start'") as info:
        compile_ir(builder.build().ir)
    assert "node 'split'" in str(info.value)
