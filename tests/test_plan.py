"""The plan: what analysis tells every target, checked as facts rather than as emitted text.

``analyse(ir)`` decides the order nodes run in, what each node receives and from where
(a connection, a workflow input, a resource), which nodes' outputs others read, and what
the module imports. These tests hold whatever a target writes, so they stay true when the
templates or the plan's internals change.
"""

from __future__ import annotations

import pytest
from kailash.analysis import ModulePlan, NodePlan, analyse
from kailash.errors import WorkflowError
from kailash.ir import WorkflowIR
from kailash.workflow import AsyncPatterns, AsyncWorkflowBuilder, RetryPolicy

Source = tuple[str, str, str | None, str | None]  # name, source, from node, from output


def node_plan(plan: ModulePlan, node_id: str) -> NodePlan:
    return plan.plan(node_id)


def sources(plan: ModulePlan, node_id: str) -> list[Source]:
    """What the node receives, in call order: (name, source, from node, from output)."""
    return [(p.name, p.source, p.from_node, p.from_output) for p in node_plan(plan, node_id).params]


def test_nodes_run_in_dependency_order_and_keep_the_order_they_were_added_in() -> None:
    builder = AsyncWorkflowBuilder("order")
    builder.add_async_code("report", "result = {'text': f'{total} for {customer}'}")
    builder.add_async_code("total", "result = {'total': sum(prices)}")
    builder.add_async_code("prices", "result = {'prices': [1, 2]}")
    builder.add_async_code("customer", "result = {'name': 'Ada'}")
    builder.add_connection("total", "total", "report", "total")
    builder.add_connection("prices", "prices", "total", "prices")
    builder.add_connection("customer", "name", "report", "customer")
    plan = analyse(builder.build().ir)
    assert [p.node.node_id for p in plan.nodes] == ["report", "total", "prices", "customer"]
    assert plan.order.index("prices") < plan.order.index("total") < plan.order.index("report")
    assert plan.order.index("customer") < plan.order.index("report")
    assert sorted(plan.order) == sorted(["report", "total", "prices", "customer"])


def test_each_param_says_where_its_value_comes_from() -> None:
    builder = AsyncWorkflowBuilder("sources")
    builder.with_cache("cache", backend="memory")
    builder.add_async_code("load", "result = {'order': {'lines': []}, 'count': 2}")
    builder.add_async_code(
        "price",
        """
client = await get_resource("cache")
result = {"total": len(order["lines"]) * rate + count, "cached": cache is client}
""",
    )
    builder.add_connection("load", "count", "price", "count")
    builder.add_connection("load", "order", "price", "order")
    plan = analyse(builder.build().ir)
    assert sources(plan, "price") == [
        ("count", "connection", "load", "count"),  # connections first, in the order they were made
        ("order", "connection", "load", "order"),
        ("get_resource", "get_resource", None, None),  # then the free names, as the code reads them
        ("rate", "input", None, None),
        ("cache", "resource", None, None),
    ]
    assert node_plan(plan, "price").inputs == ("rate",)
    assert sources(plan, "load") == []


def test_a_name_nothing_binds_is_an_input_or_under_strict_an_error() -> None:
    builder = AsyncWorkflowBuilder("unbound")
    builder.add_async_code("scale", "result = value * factor")
    builder.add_async_code("start", "result = {'value': 2}")
    builder.add_connection("start", "value", "scale", "value")
    ir = builder.build().ir
    assert [(p.name, p.source) for p in node_plan(analyse(ir), "scale").params] == [
        ("value", "connection"),
        ("factor", "input"),
    ]
    with pytest.raises(WorkflowError, match="'factor' is not bound"):
        analyse(ir, strict=True)


def test_handles_name_the_outputs_other_nodes_read_and_nothing_else() -> None:
    builder = AsyncWorkflowBuilder("handles")
    builder.add_async_code("a", "result = {'x': 1}")
    builder.add_async_code("a_out", "result = x + 1")  # its function is named what a's handle would be
    builder.add_async_code("b", "result = y")
    builder.add_connection("a", "x", "a_out", "x")
    builder.add_connection("a_out", "result", "b", "y")
    plan = analyse(builder.build().ir)
    assert set(plan.handles) == {"a", "a_out"}  # b's output is read by no node
    idents = {p.ident for p in plan.nodes}
    assert len(set(plan.handles.values())) == 2
    assert not set(plan.handles.values()) & idents


def test_modules_a_code_block_uses_without_importing_are_imported_for_it() -> None:
    builder = AsyncWorkflowBuilder("modules")
    builder.add_async_code("stamp", "result = {'at': time.time(), 'text': json.dumps([1])}")
    builder.add_async_code("own_import", "import math\nresult = math.pi")
    plan = analyse(builder.build().ir)
    assert set(node_plan(plan, "stamp").modules) == {"json", "time"}
    assert node_plan(plan, "own_import").modules == ()  # the block imports math itself
    assert plan.modules == ("json", "time")


def test_map_imports_and_retry_exceptions_become_module_imports() -> None:
    builder = AsyncWorkflowBuilder("imports")
    builder.add_parallel_map(
        "clean",
        "import string\n\nasync def process_item(word):\n    return word.strip(string.whitespace)\n",
    )
    builder.add_async_code(
        "parse",
        "result = 1",
        retry_policy=RetryPolicy(max_retries=1, retry_on=[ConnectionError, "json.JSONDecodeError"]),
    )
    AsyncPatterns.retry_with_backoff(builder, "reserve", "result = 2", retry_on=["asyncio.TimeoutError"])
    plan = analyse(builder.build().ir)
    assert node_plan(plan, "clean").imports == ("import string",)
    assert plan.imports == ("import asyncio", "import json", "import string")
    assert sources(plan, "clean") == [("items", "input", None, None)]  # the map's input field


def test_a_pattern_is_one_step_its_stages_read_what_reaches_its_entry_node() -> None:
    builder = AsyncWorkflowBuilder("cache_aside")
    builder.with_cache("profiles", backend="memory")
    builder.add_async_code("who", "result = {'user_id': 7}")
    AsyncPatterns.cache_aside(
        builder,
        "check",
        "fetch",
        "store",
        "result = {'id': user_id}",
        cache_resource="profiles",
        cache_key_template="profile_{user_id}",
    )
    builder.add_connection("who", "user_id", "check", "user_id")
    plan = analyse(builder.build().ir)
    assert plan.order == ("who", "check", "fetch", "store")
    assert set(sources(plan, "check")) == {
        ("user_id", "connection", "who", "user_id"),
        ("profiles", "resource", None, None),
    }
    # The fetch code reads user_id, which only the check node is connected to.
    assert sources(plan, "fetch") == [
        ("cache_result", "connection", "check", "result"),
        ("user_id", "connection", "who", "user_id"),
    ]
    assert set(sources(plan, "store")) == {
        ("fetch_data", "connection", "fetch", "result"),
        ("profiles", "resource", None, None),
    }


def test_scatter_gather_workers_read_their_shards_and_the_gather_reads_every_worker() -> None:
    builder = AsyncWorkflowBuilder("scatter")
    builder.add_async_code("numbers", "result = {'items': [1, 2, 3]}")
    builder.add_scatter_gather("split", "worker", "join", "def process_item(item):\n    return item\n", worker_count=2)
    builder.add_connection("numbers", "items", "split", "items")
    plan = analyse(builder.build().ir)
    assert plan.order == ("numbers", "split", "worker_0", "worker_1", "join")
    assert sources(plan, "worker_1") == [
        ("items", "connection", "split", "shard_1"),
        ("start", "connection", "split", "start_1"),
    ]
    assert sources(plan, "join") == [
        ("part_0", "connection", "worker_0", "results"),
        ("part_1", "connection", "worker_1", "results"),
    ]


def test_a_timeout_primary_receives_what_its_fallback_reads_and_creates_resources_only_when_used() -> None:
    builder = AsyncWorkflowBuilder("timeout")
    builder.with_cache("rates", backend="memory")
    AsyncPatterns.timeout_with_fallback(
        builder,
        "live",
        "cached",
        "result = {'rate': 1.09, 'currency': currency}",
        "result = {'rate': await rates.get(currency), 'stale': True}",
    )
    plan = analyse(builder.build().ir)
    live = node_plan(plan, "live")
    assert [(p.name, p.source) for p in live.params] == [("currency", "input"), ("rates", "resource")]
    assert [p.deferred for p in live.params if p.source == "resource"] == [True]
    assert sources(plan, "cached") == [("answer", "connection", "live", None)]  # the primary's whole answer


def test_the_plan_depends_only_on_the_ir() -> None:
    builder = AsyncWorkflowBuilder("round_trip")
    builder.with_database(name="db", password="round-trip-secret")
    builder.add_async_code("count", "result = await db.fetchval('SELECT 1') + offset")
    builder.add_async_code("report", "result = {'count': n, 'at': time.time()}")
    builder.add_connection("count", "result", "report", "n")
    ir = builder.build().ir
    again = analyse(WorkflowIR.from_json(ir.to_json()))
    plan = analyse(ir)
    assert again.order == plan.order
    assert again.handles == plan.handles
    assert again.modules == plan.modules and again.imports == plan.imports
    assert [sources(again, node_id) for node_id in again.order] == [sources(plan, node_id) for node_id in plan.order]
