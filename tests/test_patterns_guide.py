"""The guide's pattern snippets, compiled and run; the whole Complete Example, run unchanged."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from kailash.codegen import compile_ir
from kailash.errors import WorkflowError
from kailash.runtime import AsyncLocalRuntime
from kailash.workflow import AsyncPatterns, AsyncWorkflowBuilder

GUIDE = Path(__file__).resolve().parent / "guide"


def test_the_complete_example_runs_unchanged_and_prints_its_success_lines(tmp_path: Path) -> None:
    # The flaky call fails at random; a fixed seed makes this run's draws (and so its output) repeatable.
    script = "import random, runpy, sys; random.seed(7); runpy.run_path(sys.argv[1], run_name='__main__')"
    done = subprocess.run(
        [sys.executable, "-c", script, str(GUIDE / "complete_example.py")],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    for line in (
        "✅ Pipeline completed successfully!",
        "   - Total users: 5",
        "   - Active users: 2",
        "   - Average score: 30.0",
        "✅ Resilient workflow completed with retry logic",
        "   - Parallel processing with rate limiting",
    ):
        assert line + "\n" in done.stdout
    assert "❌" not in done.stdout


def run(builder: AsyncWorkflowBuilder, inputs: dict[str, Any] | None = None) -> dict[str, Any]:
    workflow = builder.build()
    compile_ir(workflow.ir, strict=False)
    return asyncio.run(AsyncLocalRuntime().execute_workflow_async(workflow, inputs or {}))


class Response:
    def __init__(self, data: Any, status: int = 200) -> None:
        self.data = data
        self.status = status

    async def json(self) -> Any:
        return self.data


class Client:
    """A stand-in for the user's HTTP client objects, passed in as workflow inputs."""

    def __init__(self, name: str, delay: float = 0.0) -> None:
        self.name = name
        self.delay = delay
        self.calls: list[str] = []

    async def get(self, path: str) -> Response:
        self.calls.append(path)
        await asyncio.sleep(self.delay)
        return Response({"from": self.name, "path": path})

    async def post(self, path: str, json: Any = None) -> Response:
        self.calls.append(path)
        return Response({"posted": json})


def test_guide_parallel_map_snippet() -> None:
    builder = AsyncWorkflowBuilder("guide_parallel_map")
    builder.add_parallel_map(
        "process_items",
        """
    async def process_item(item):
        # Simulate async processing
        await asyncio.sleep(0.1)
        return {
            "id": item["id"],
            "processed": True,
            "result": item["value"] * 2
        }
    """,
        max_workers=10,
        batch_size=50,
        timeout_per_item=5,
        continue_on_error=True,
    )
    items = [{"id": i, "value": i} for i in range(60)]
    result = run(builder, {"items": items})
    assert result["errors"] == {}
    assert [r["result"] for r in result["results"]["process_items"]["results"]] == [i * 2 for i in range(60)]


def test_guide_scatter_gather_snippet() -> None:
    builder = AsyncWorkflowBuilder("guide_scatter_gather")
    builder.add_scatter_gather(
        "scatter_process",
        "worker",
        "gather_results",
        """
    def process_item(item):
        return {
            "original": item,
            "transformed": item.upper(),
            "length": len(item)
        }
    """,
        worker_count=4,
    )
    words = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta"]
    result = run(builder, {"items": words})
    assert result["errors"] == {}
    assert {"scatter_process", "worker_0", "worker_3", "gather_results"} <= set(result["results"])
    assert [r["transformed"] for r in result["results"]["gather_results"]["results"]] == [w.upper() for w in words]


def test_guide_retry_snippet() -> None:
    builder = AsyncWorkflowBuilder("guide_retry")
    AsyncPatterns.retry_with_backoff(
        builder,
        "retry_operation",
        """
    # Operation that might fail
    response = await http_client.get("/unstable-endpoint")
    result = {"status": response.status, "data": await response.json()}
    """,
        max_retries=5,
        initial_backoff=1.0,
        backoff_factor=2.0,
        retry_on=["ConnectionError", "TimeoutError"],
    )
    result = run(builder, {"http_client": Client("api")})
    assert result["errors"] == {}
    assert result["results"]["retry_operation"]["status"] == 200
    assert result["results"]["retry_operation"]["total_attempts"] == 1


def test_guide_rate_limit_snippets() -> None:
    builder = AsyncWorkflowBuilder("guide_rate_limit")
    AsyncPatterns.rate_limited(
        builder,
        "api_call",
        """
    response = await api_client.post("/rate-limited-endpoint", json=payload)
    result = await response.json()
    """,
        requests_per_second=10,
        burst_size=20,
    )
    AsyncPatterns.rate_limited(builder, "api_calls", "await api.call()", requests_per_second=10)

    class Api:
        async def call(self) -> None:
            return None

    result = run(builder, {"api_client": Client("api"), "payload": {"n": 1}, "api": Api()})
    assert result["errors"] == {}
    assert result["results"]["api_call"]["posted"] == {"n": 1}
    assert result["results"]["api_call"]["_rate_limit_info"]["burst_size"] == 20
    assert result["results"]["api_calls"] is None


def test_guide_timeout_with_fallback_snippet() -> None:
    builder = AsyncWorkflowBuilder("guide_timeout")
    AsyncPatterns.timeout_with_fallback(
        builder,
        "primary_service",
        "fallback_service",
        """
    # Primary service (might be slow)
    response = await primary_client.get("/data")
    result = await response.json()
    """,
        """
    # Fallback service
    response = await fallback_client.get("/cached-data")
    result = await response.json()
    """,
        timeout_seconds=0.2,
    )
    fast, slow, fallback = Client("primary"), Client("primary", delay=5), Client("fallback")
    answered = run(builder, {"primary_client": fast, "fallback_client": fallback})
    assert answered["results"]["fallback_service"]["_source"] == "primary"
    assert fallback.calls == []
    timed_out = run(builder, {"primary_client": slow, "fallback_client": fallback})
    assert timed_out["results"]["primary_service"]["_source"] == "fallback"
    assert timed_out["results"]["fallback_service"]["from"] == "fallback"
    assert fallback.calls == ["/cached-data"]


def test_guide_circuit_breaker_snippet_keeps_its_state_across_runs() -> None:
    builder = AsyncWorkflowBuilder("guide_breaker")
    AsyncPatterns.circuit_breaker(
        builder,
        "protected_service",
        """
    response = await external_service.call()
    result = {"data": response.data, "success": True}
    """,
        failure_threshold=2,
        reset_timeout=60.0,
    )

    class Service:
        def __init__(self) -> None:
            self.calls = 0

        async def call(self) -> Response:
            self.calls += 1
            raise ConnectionError("unreachable")

    service = Service()
    errors = [run(builder, {"external_service": service})["errors"]["protected_service"] for _ in range(3)]
    assert errors[:2] == ["ConnectionError: unreachable"] * 2
    assert errors[2].startswith("CircuitOpenError: circuit breaker is open")
    assert service.calls == 2  # the open breaker did not run the code


def test_guide_batch_snippet() -> None:
    builder = AsyncWorkflowBuilder("guide_batch")
    AsyncPatterns.batch_processor(
        builder,
        "batch_insert",
        """
    # Process batch of items
    batch_results = []
    async with db_pool.acquire() as conn:
        for item in items:
            await conn.execute("INSERT INTO logs VALUES ($1, $2)", item.id, item.data)
            batch_results.append({"id": item.id, "inserted": True})
    """,
        batch_size=100,
        flush_interval=5.0,
    )
    executed: list[tuple[Any, ...]] = []

    class Connection:
        async def __aenter__(self) -> Connection:
            return self

        async def __aexit__(self, *exc: object) -> None:
            return None

        async def execute(self, *args: Any) -> None:
            executed.append(args)

    class Pool:
        def acquire(self) -> Connection:
            return Connection()

    class Item:
        def __init__(self, id: int) -> None:
            self.id = id
            self.data = f"entry {id}"

    result = run(builder, {"db_pool": Pool(), "items": [Item(i) for i in range(250)]})
    assert result["errors"] == {}
    assert result["results"]["batch_insert"]["batch_count"] == 3
    assert result["results"]["batch_insert"]["processed_count"] == len(executed) == 250


@pytest.mark.services
def test_guide_cache_aside_snippet_against_redis() -> None:
    builder = AsyncWorkflowBuilder("guide_cache_aside")
    builder.with_cache("redis_cache", backend="redis", host="127.0.0.1", port=6379)
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
    calls: list[int] = []

    async def expensive_api_call(item_id: int) -> Response:
        calls.append(item_id)
        return Response({"item": item_id})

    import uuid

    item_id = uuid.uuid4().hex
    inputs = {"item_id": item_id, "expensive_api_call": expensive_api_call}
    first, second = run(builder, inputs), run(builder, inputs)
    assert first["errors"] == second["errors"] == {}
    assert calls == [item_id]
    assert second["results"]["cache_check"]["found_in_cache"] is True
    assert second["results"]["cache_store"]["data"] == {"item": item_id}

    async def clean() -> None:
        import redis.asyncio as redis

        client = redis.Redis(host="127.0.0.1", port=6379)
        await client.delete(f"expensive_data_{item_id}")
        await client.aclose()

    asyncio.run(clean())


def test_guide_parallel_fetch_snippet() -> None:
    builder = AsyncWorkflowBuilder("guide_parallel_fetch")
    AsyncPatterns.parallel_fetch(
        builder,
        "multi_source_fetch",
        {
            "users": """
            response = await api_client.get("/users")
            result = await response.json()
        """,
            "orders": """
            response = await api_client.get("/orders")
            result = await response.json()
        """,
            "inventory": """
            response = await api_client.get("/inventory")
            result = await response.json()
        """,
        },
        timeout_per_operation=10.0,
        continue_on_error=True,
    )
    result = run(builder, {"api_client": Client("api")})
    out = result["results"]["multi_source_fetch"]
    assert sorted(out["successful"]) == ["inventory", "orders", "users"]
    assert out["successful"]["orders"]["path"] == "/orders"
    assert out["statistics"]["success_rate"] == 1.0


def test_pattern_mistakes_are_reported_at_build_time() -> None:
    builder = AsyncWorkflowBuilder("mistakes")
    with pytest.raises(WorkflowError, match="retry_on"):
        AsyncPatterns.retry_with_backoff(builder, "r", "result = 1", retry_on=["NoSuchError"])
    with pytest.raises(WorkflowError, match="requests_per_second"):
        AsyncPatterns.rate_limited(builder, "l", "result = 1", requests_per_second=0)
    with pytest.raises(WorkflowError, match="worker_prefix"):
        builder.add_scatter_gather("s", "not an identifier", "g", "def process_item(x):\n    return x")
    with pytest.raises(WorkflowError, match="process_item"):
        builder.add_scatter_gather("s", "w", "g", "def other(x):\n    return x")
    with pytest.raises(WorkflowError, match="cache_key_template"):
        AsyncPatterns.cache_aside(builder, "c", "f", "s", "result = 1", cache_key_template="key_{}")
    with pytest.raises(WorkflowError, match="syntax error"):
        AsyncPatterns.parallel_fetch(builder, "p", {"a": "result = ("})

    AsyncPatterns.batch_processor(builder, "b", "results = items")
    with pytest.raises(WorkflowError, match="batch_results"):
        compile_ir(builder.build().ir)


def test_a_dotted_retry_exception_is_imported_by_the_generated_module() -> None:
    builder = AsyncWorkflowBuilder("dotted_retry")
    AsyncPatterns.retry_with_backoff(builder, "r", "result = 1", retry_on=["json.JSONDecodeError", ConnectionError])
    source = compile_ir(builder.build().ir).source
    assert "import json\n" in source
    assert "retry_on=(json.JSONDecodeError, ConnectionError)" in source
