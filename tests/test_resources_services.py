"""Resources against the real services: PostgreSQL, Redis, an aiohttp server, custom factories."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

import pytest
from kailash.resources import ResourceFactory, ResourceRegistry
from kailash.runtime import AsyncLocalRuntime
from kailash.workflow import AsyncWorkflowBuilder

from .resource_services import (
    PG,
    REDIS,
    compile_and_load,
    http_server,
    pg_connections,
    redis_clients,
    require_postgres,
    require_redis,
)


def _db(builder: AsyncWorkflowBuilder, name: str = "main_db", **extra: Any) -> AsyncWorkflowBuilder:
    return builder.with_database(name, **PG, min_size=1, max_size=3, **extra)


async def _execute(workflow: Any, inputs: dict[str, Any] | None = None, **runtime: Any) -> dict[str, Any]:
    return await AsyncLocalRuntime(**runtime).execute_workflow_async(workflow, inputs or {})


# -- PostgreSQL -----------------------------------------------------------------------------
@pytest.fixture
def people_table() -> Any:
    """A table with three rows, dropped after the test."""
    require_postgres()
    import asyncpg

    table = f"people_{uuid.uuid4().hex[:8]}"

    async def setup() -> None:
        conn = await asyncpg.connect(**PG)
        await conn.execute(f"CREATE TABLE {table} (id int PRIMARY KEY, name text, active bool)")
        await conn.executemany(
            f"INSERT INTO {table} VALUES ($1, $2, $3)", [(1, "Ada", True), (2, "Bob", False), (3, "Cy", True)]
        )
        await conn.close()

    async def teardown() -> None:
        conn = await asyncpg.connect(**PG)
        await conn.execute(f"DROP TABLE IF EXISTS {table}")
        await conn.close()

    asyncio.run(setup())
    yield table
    asyncio.run(teardown())


def test_resource_node_queries_a_table(people_table: str) -> None:
    builder = _db(AsyncWorkflowBuilder("query_people"))
    query = f"SELECT id, name FROM {people_table} WHERE active = true ORDER BY id"
    builder.add_resource_node("db_query", "main_db", "fetch", {"query": query})
    result = asyncio.run(_execute(builder.build()))
    assert result["errors"] == {}
    assert result["results"]["db_query"] == {
        "result": [{"id": 1, "name": "Ada"}, {"id": 3, "name": "Cy"}],
        "resource": "main_db",
        "operation": "fetch",
    }


def test_resource_node_takes_connected_inputs(people_table: str) -> None:
    builder = _db(AsyncWorkflowBuilder("count_people"))
    make = builder.add_async_code("make_query", f"result = {{'query': 'SELECT count(*) FROM {people_table}'}}")
    count = builder.add_resource_node("count", "main_db", "fetchval", {"query": "SELECT 0"})
    builder.add_connection(make, "query", count, "query")
    result = asyncio.run(_execute(builder.build()))
    assert result["errors"] == {}
    assert result["results"]["count"]["result"] == 3


def test_code_node_uses_the_pool_in_a_transaction(people_table: str) -> None:
    builder = _db(AsyncWorkflowBuilder("transfer"))
    builder.add_async_code(
        "rename",
        f"""
        async with main_db.acquire() as conn:
            async with conn.transaction():
                await conn.execute("UPDATE {people_table} SET name = 'Ada L.' WHERE id = 1")
                names = [r["name"] for r in await conn.fetch("SELECT name FROM {people_table} ORDER BY id")]
        result = {{"names": names}}
        """,
    )
    builder.add_async_code(
        "rolled_back",
        f"""
        db = await get_resource("main_db")
        try:
            async with db.acquire() as conn:
                async with conn.transaction():
                    await conn.execute("UPDATE {people_table} SET name = 'nobody'")
                    raise RuntimeError("abort")
        except RuntimeError:
            pass
        result = {{"names": [r["name"] for r in await db.fetch("SELECT name FROM {people_table} ORDER BY id")]}}
        """,
    )
    builder.add_connection("rename", "names", "rolled_back", "after_rename")
    result = asyncio.run(_execute(builder.build()))
    assert result["errors"] == {}
    assert result["results"]["rename"]["names"] == ["Ada L.", "Bob", "Cy"]
    assert result["results"]["rolled_back"]["names"] == ["Ada L.", "Bob", "Cy"]


def test_extra_database_settings_are_passed_to_asyncpg(people_table: str) -> None:
    builder = _db(
        AsyncWorkflowBuilder("settings_through"),
        command_timeout=5,
        server_settings={"application_name": "kailash-settings-test"},
    )
    builder.add_resource_node("who", "main_db", "fetchval", {"query": "SELECT current_setting('application_name')"})
    result = asyncio.run(_execute(builder.build()))
    assert result["errors"] == {}
    assert result["results"]["who"]["result"] == "kailash-settings-test"


# -- caches: cache-aside on Redis and on the embedded memory cache ------------------------------
CACHE_ASIDE = """
key = f"user:{user_id}"
cached = await store.get(key)
if cached is not None:
    result = {"user": json.loads(cached), "found_in_cache": True}
else:
    calls.append(user_id)
    user = {"id": user_id, "name": f"user-{user_id}"}
    await store.set(key, json.dumps(user), ex=ttl)
    result = {"user": user, "found_in_cache": False}
"""


def _cache_aside_workflow(backend: str, prefix: str) -> Any:
    builder = AsyncWorkflowBuilder(f"cache_aside_{backend}")
    if backend == "redis":
        builder.with_cache("store", backend="redis", **REDIS)
    else:
        builder.with_cache("store", backend="memory")
    builder.add_async_code("lookup", CACHE_ASIDE.replace("user:", f"{prefix}:"))
    return builder.build()


@pytest.mark.parametrize("backend", ["redis", "memory"])
def test_cache_aside_hit_miss_and_ttl_expiry(backend: str) -> None:
    if backend == "redis":
        require_redis()
    prefix = f"kt-{uuid.uuid4().hex[:8]}"
    module = compile_and_load(_cache_aside_workflow(backend, prefix))
    calls: list[int] = []

    async def scenario() -> list[bool]:
        seen = []
        for ttl in (1, 1, 1):
            result = await module.run({"user_id": 7, "ttl": ttl, "calls": calls})
            assert result["errors"] == {}
            seen.append(result["results"]["lookup"]["found_in_cache"])
        await asyncio.sleep(1.3)  # the key expires
        result = await module.run({"user_id": 7, "ttl": 1, "calls": calls})
        seen.append(result["results"]["lookup"]["found_in_cache"])
        assert result["results"]["lookup"]["user"] == {"id": 7, "name": "user-7"}
        return seen

    assert asyncio.run(scenario()) == [False, True, True, False]
    assert calls == [7, 7]


def test_memory_cache_lasts_across_in_process_runs_as_in_the_compiled_module() -> None:
    """The in-process runtime keeps a memory cache's data for the process, per workflow content,
    exactly as the compiled module's RESOURCES does: the second run is a hit in both."""
    prefix = f"kt-{uuid.uuid4().hex[:8]}"

    async def runs(run: Any) -> list[bool]:
        seen = []
        for _ in range(2):
            result = await run({"user_id": 7, "ttl": 30, "calls": []})
            assert result["errors"] == {}
            seen.append(result["results"]["lookup"]["found_in_cache"])
        return seen

    module = compile_and_load(_cache_aside_workflow("memory", prefix))
    assert asyncio.run(runs(module.run)) == [False, True]

    workflow = _cache_aside_workflow("memory", prefix)
    assert asyncio.run(runs(lambda inputs: _execute(workflow, inputs))) == [False, True]
    # built again (same content), run by another runtime in another event loop: the same data
    again = _cache_aside_workflow("memory", prefix)
    assert asyncio.run(runs(lambda inputs: _execute(again, inputs))) == [True, True]
    # different content, its own cache
    other = _cache_aside_workflow("memory", prefix + "-other")
    assert asyncio.run(runs(lambda inputs: _execute(other, inputs))) == [False, True]


def test_redis_client_is_a_real_redis_client() -> None:
    require_redis()
    builder = AsyncWorkflowBuilder("redis_info").with_cache("redis_cache", backend="redis", **REDIS)
    builder.add_resource_node("ping", "redis_cache", "ping", {})
    builder.add_resource_node("info", "redis_cache", "info", {"section": "server"})
    result = asyncio.run(_execute(builder.build()))
    assert result["errors"] == {}
    assert result["results"]["ping"]["result"] is True
    assert "redis_version" in result["results"]["info"]["result"]


# -- HTTP ---------------------------------------------------------------------------------------
def _echo_app(app: Any) -> None:
    from aiohttp import web

    async def echo(request: web.Request) -> web.Response:
        headers = request.headers
        return web.json_response(
            {"path": request.path, "auth": headers.get("Authorization"), "agent": headers.get("X-Agent")}
        )

    app.router.add_get("/{tail:.*}", echo)


def test_http_client_resolves_relative_urls_and_sends_headers() -> None:
    async def scenario() -> dict[str, Any]:
        async with http_server(_echo_app) as base:
            builder = AsyncWorkflowBuilder("http_calls").with_http_client(
                "api",
                base_url=base + "/v1/",
                headers={"Authorization": "Bearer t0ken-value", "X-Agent": "kailash"},
                timeout=5,
            )
            builder.add_async_code(
                "users",
                """
                async with api.get("users") as response:
                    result = {"status": response.status, "body": await response.json()}
                """,
            )
            builder.add_resource_node("orders", "api", "get", {"url": "orders?limit=2"})
            return await _execute(builder.build())

    result = asyncio.run(scenario())
    assert result["errors"] == {}
    users = result["results"]["users"]
    assert users["status"] == 200
    assert users["body"] == {"path": "/v1/users", "auth": "Bearer t0ken-value", "agent": "kailash"}
    orders = result["results"]["orders"]["result"]
    assert orders["status"] == 200
    assert orders["body"]["path"] == "/v1/orders"


# -- custom factories ---------------------------------------------------------------------------
class CustomServiceFactory(ResourceFactory):
    """The guide's factory: an aiohttp session with an API key header."""

    def __init__(self, api_key: str, base_url: str) -> None:
        self.api_key = api_key
        self.base_url = base_url

    async def create(self) -> Any:
        import aiohttp

        return aiohttp.ClientSession(base_url=self.base_url, headers={"X-API-Key": self.api_key})


class CountingFactory(ResourceFactory):
    created = 0
    cleaned = 0

    def __init__(self, label: str, healthy: bool = True) -> None:
        self.label = label
        self.healthy = healthy

    async def create(self) -> Any:
        type(self).created += 1
        return {"label": self.label}

    async def cleanup(self, resource: Any) -> None:
        type(self).cleaned += 1

    async def health_check(self, resource: Any) -> bool:
        return self.healthy


def _key_app(app: Any) -> None:
    from aiohttp import web

    async def whoami(request: web.Request) -> web.Response:
        return web.json_response({"key": request.headers.get("X-API-Key"), "path": request.path})

    app.router.add_get("/{tail:.*}", whoami)


def test_guide_custom_service_factory_in_process() -> None:
    async def scenario() -> dict[str, Any]:
        async with http_server(_key_app) as base:
            builder = AsyncWorkflowBuilder("custom_service_flow")
            builder.require_resource(
                "custom_service", CustomServiceFactory("k3y-in-process", base + "/"), description="Custom service"
            )
            builder.add_async_code(
                "call",
                """
                async with custom_service.get("whoami") as response:
                    result = await response.json()
                """,
            )
            return await _execute(builder.build())

    result = asyncio.run(scenario())
    assert result["errors"] == {}
    assert result["results"]["call"] == {"key": "k3y-in-process", "path": "/whoami"}


def test_factory_cleanup_and_health_check() -> None:
    CountingFactory.created = CountingFactory.cleaned = 0
    builder = AsyncWorkflowBuilder("counting")
    builder.require_resource("thing", CountingFactory("a"))
    builder.require_resource("sick", CountingFactory("b", healthy=False))
    builder.add_async_code("use", "result = {'label': thing['label']}")
    builder.add_async_code("use_sick", "result = sick")
    result = asyncio.run(_execute(builder.build()))
    assert result["results"]["use"] == {"label": "a"}
    assert "failed its health check" in result["errors"]["use_sick"]
    assert (CountingFactory.created, CountingFactory.cleaned) == (2, 2)


def test_registry_shares_live_resources_across_runs(people_table: str) -> None:
    builder = _db(AsyncWorkflowBuilder("shared_pool"), server_settings={"application_name": "kailash-shared"})
    builder.require_resource("thing", CountingFactory("shared"))
    builder.add_async_code("pid", "result = {'pool': id(main_db), 'thing': id(thing)}")
    workflow = builder.build()
    registry: ResourceRegistry = builder.get_resource_registry()
    assert registry.has_factory("main_db") and registry.has_factory("thing")
    assert not registry.has_factory("nope")

    async def scenario() -> tuple[set[int], int, int]:
        CountingFactory.created = CountingFactory.cleaned = 0
        runtime = AsyncLocalRuntime(resource_registry=registry)
        pools = set()
        for _ in range(5):
            result = await runtime.execute_workflow_async(workflow, {})
            assert result["errors"] == {}
            pools.add(result["results"]["pid"]["pool"])
        open_while_shared = await pg_connections("kailash-shared")
        await registry.aclose()
        return pools, open_while_shared, await pg_connections("kailash-shared")

    pools, during, after = asyncio.run(scenario())
    assert len(pools) == 1  # one pool served every run
    assert during >= 1 and after == 0
    assert (CountingFactory.created, CountingFactory.cleaned) == (1, 1)


def test_live_resources_passed_to_run_are_not_closed() -> None:
    builder = AsyncWorkflowBuilder("live").with_cache("store", backend="memory")
    builder.add_async_code("use", "await store.set('k', 'v')\nresult = {'v': await store.get('k')}")
    module = compile_and_load(builder.build())

    async def scenario() -> Any:
        import kailash_rt as rt

        cache = rt.MemoryCache()
        for _ in range(3):
            result = await module.run({}, resources={"store": cache})
            assert result["results"]["use"] == {"v": b"v"}
        return await cache.get("k")  # still open: the caller owns it

    assert asyncio.run(scenario()) == b"v"


# -- no leaks after many runs -----------------------------------------------------------------
def test_hundred_runs_leave_no_connections_behind(people_table: str) -> None:
    require_redis()
    app = f"kailash-leak-{uuid.uuid4().hex[:6]}"
    builder = _db(AsyncWorkflowBuilder("leak_check"), server_settings={"application_name": app})
    builder.with_cache("store", backend="redis", **REDIS, client_name=app)
    builder.add_async_code(
        "work",
        f"""
        count = await main_db.fetchval("SELECT count(*) FROM {people_table}")
        await store.set("{app}", count)
        if mode == "fail":
            raise RuntimeError("this run fails")
        if mode == "hang":
            await main_db.fetchval("SELECT pg_sleep(5)")
        result = {{"count": count}}
        """,
        timeout=2,
    )
    builder.add_async_code("after", "result = {'seen': work}")
    builder.add_connection("work", "count", "after", "work")
    module = compile_and_load(builder.build())

    async def scenario() -> tuple[int, int, int, int, dict[str, Any]]:
        pg_before, redis_before = await pg_connections(app), await redis_clients(app)
        outcomes: dict[str, Any] = {"ok": 0, "failed": 0, "cancelled": 0}
        for i in range(100):
            mode = ("ok", "fail", "ok", "cancel")[i % 4]
            if mode == "cancel":
                task = asyncio.ensure_future(module.run({"mode": "hang"}))
                await asyncio.sleep(0.15)  # the pool is open and a query is running
                if not outcomes["cancelled"]:
                    outcomes["open during a run"] = (await pg_connections(app), await redis_clients(app))
                task.cancel()
                with pytest.raises(asyncio.CancelledError):
                    await task
                outcomes["cancelled"] += 1
                continue
            result = await module.run({"mode": mode})
            if mode == "ok":
                assert result["errors"] == {}, result["errors"]
                assert result["results"]["after"] == {"seen": 3}
                outcomes["ok"] += 1
            else:
                assert result["errors"]["work"] == "RuntimeError: this run fails"
                assert "skipped" in result["errors"]["after"]
                outcomes["failed"] += 1
        await asyncio.sleep(0.2)  # let the server notice the last disconnects
        return pg_before, redis_before, await pg_connections(app), await redis_clients(app), outcomes

    pg_before, redis_before, pg_after, redis_after, outcomes = asyncio.run(scenario())
    assert outcomes.pop("open during a run") == (1, 1)  # what is counted is what the runs open
    assert outcomes == {"ok": 50, "failed": 25, "cancelled": 25}
    assert (pg_before, redis_before) == (0, 0)
    assert pg_after == pg_before, "PostgreSQL connections leaked"
    assert redis_after == redis_before, "Redis connections leaked"


def test_node_timeout_during_query_closes_the_pool(people_table: str) -> None:
    app = f"kailash-timeout-{uuid.uuid4().hex[:6]}"
    builder = _db(AsyncWorkflowBuilder("slow_query"), server_settings={"application_name": app})
    builder.add_async_code("slow", "await main_db.fetchval('SELECT pg_sleep(3)')\nresult = 1", timeout=0.3)

    async def scenario() -> tuple[dict[str, Any], int]:
        result = await _execute(builder.build())
        await asyncio.sleep(0.2)
        return result, await pg_connections(app)

    result, left = asyncio.run(scenario())
    assert result["errors"]["slow"].startswith("TimeoutError")
    assert left == 0


def test_json_round_trip_of_a_resource_workflow(people_table: str) -> None:
    from kailash.ir import WorkflowIR

    from .hostile_factories import EchoFactory

    builder = _db(AsyncWorkflowBuilder("round_trip"))
    builder.require_resource("thing", CountingFactory("x"))  # defined in this file: copied
    builder.require_resource("echo", EchoFactory(label="x"))  # from an importable module: imported
    builder.add_resource_node("q", "main_db", "fetchval", {"query": "SELECT 41 + 1"})
    ir = builder.build().ir
    again = WorkflowIR.from_json(ir.to_json())
    assert again == ir
    resources = json.loads(again.to_json())["resources"]
    assert resources[1]["settings"]["source"].startswith("class CountingFactory(rt.ResourceFactory):")
    assert resources[2]["settings"]["module"] == "tests.hostile_factories"


def test_guide_resource_management_snippet(monkeypatch: pytest.MonkeyPatch) -> None:
    """The guide's snippet as written, pointed at this machine's services through the environment."""
    require_postgres()
    require_redis()
    import asyncpg

    database = f"kailash_guide_{uuid.uuid4().hex[:8]}"

    async def create() -> None:
        conn = await asyncpg.connect(**PG)
        await conn.execute(f"CREATE DATABASE {database}")
        await conn.close()
        conn = await asyncpg.connect(**{**PG, "database": database})
        await conn.execute("CREATE TABLE users (id int, name text, active bool)")
        await conn.execute("INSERT INTO users VALUES (1, 'Ada', true), (2, 'Bob', false), (3, 'Cy', true)")
        await conn.close()

    async def drop() -> None:
        conn = await asyncpg.connect(**PG)
        await conn.execute(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")
        await conn.close()

    asyncio.run(create())
    try:
        builder = AsyncWorkflowBuilder("guide_resources")
        builder.with_database(
            name="main_db", host="localhost", database="myapp", user="dbuser", min_size=5, max_size=20
        )
        builder.with_http_client(
            name="api_client", base_url="https://api.example.com", headers={"Authorization": "Bearer token"}, timeout=30
        )
        builder.with_cache(name="redis_cache", backend="redis", host="localhost", port=6379)
        builder.add_resource_node("db_query", "main_db", "fetch", {"query": "SELECT * FROM users WHERE active = true"})
        builder.add_async_code("cache_ping", "result = {'pong': await redis_cache.ping()}")
        workflow = builder.build()
        monkeypatch.setenv("MAIN_DB_HOST", str(PG["host"]))
        monkeypatch.setenv("MAIN_DB_DATABASE", database)
        monkeypatch.setenv("MAIN_DB_USER", str(PG["user"]))
        monkeypatch.setenv("MAIN_DB_MIN_SIZE", "1")
        monkeypatch.setenv("REDIS_CACHE_HOST", str(REDIS["host"]))
        result = asyncio.run(_execute(workflow))
    finally:
        asyncio.run(drop())
    assert result["errors"] == {}
    assert [row["name"] for row in result["results"]["db_query"]["result"]] == ["Ada", "Cy"]
    assert result["results"]["cache_ping"] == {"pong": True}  # the unused HTTP client was never created
