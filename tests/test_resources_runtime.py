"""kailash_rt resources without services: lifecycle, environment, the memory cache."""

from __future__ import annotations

import asyncio
import logging
import subprocess
import sys
from typing import Any

import kailash_rt as rt
import pytest
from kailash_rt._secrets import has_credentials, is_secret_name
from kailash_rt._settings import env_name, given_secrets


class Tracked:
    """A spec that records what it creates and closes."""

    def __init__(self, log: list[str], *, fail_close: bool = False, slow_create: float = 0) -> None:
        self.log = log
        self.fail_close = fail_close
        self.slow_create = slow_create

    async def create(self) -> Any:
        self.log.append("create")
        await asyncio.sleep(self.slow_create)
        return object()

    async def close(self, resource: Any) -> None:
        self.log.append("close")
        if self.fail_close:
            raise OSError("socket already gone")


async def _use(res: Any) -> Any:
    return {"ok": True}


async def _fail(res: Any) -> Any:
    raise ValueError("boom")


async def _hang(res: Any) -> Any:
    await asyncio.sleep(10)


def _run_once(fn: Any, log: list[str], **spec: Any) -> Any:
    declared = rt.Resources(thing=Tracked(log, **spec))

    async def main() -> Any:
        async with rt.Run("t", {}, None, declared=declared) as r:
            r.node("a", fn, res=r.resource("thing"))
        return r.result

    return asyncio.run(main())


def test_resource_is_created_on_first_use_and_closed_after_success_and_failure() -> None:
    for fn in (_use, _fail):
        log: list[str] = []
        _run_once(fn, log)
        assert log == ["create", "close"]


def test_unused_resource_is_never_created() -> None:
    log: list[str] = []

    async def nothing() -> Any:
        return 1

    declared = rt.Resources(thing=Tracked(log))

    async def main() -> Any:
        async with rt.Run("t", {}, None, declared=declared) as r:
            r.node("a", nothing)
        return r.result

    assert asyncio.run(main())["results"] == {"a": 1}
    assert log == []


def test_resources_are_closed_when_the_run_is_cancelled() -> None:
    log: list[str] = []
    declared = rt.Resources(thing=Tracked(log))

    async def main() -> None:
        async def one_run() -> None:
            async with rt.Run("t", {}, None, declared=declared) as r:
                r.node("a", _hang, res=r.resource("thing"))

        task = asyncio.ensure_future(one_run())
        await asyncio.sleep(0.05)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(main())
    assert log == ["create", "close"]


def test_cancelled_while_creating_closes_what_was_created() -> None:
    log: list[str] = []
    declared = rt.Resources(thing=Tracked(log, slow_create=0.1))

    async def main() -> None:
        async def one_run() -> None:
            async with rt.Run("t", {}, None, declared=declared) as r:
                r.node("a", _use, res=r.resource("thing"))

        task = asyncio.ensure_future(one_run())
        await asyncio.sleep(0.02)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(main())
    assert log in (["create"], ["create", "close"])  # creation was cancelled, or finished and was closed
    assert log.count("close") == log.count("create") - (1 if log == ["create"] else 0)


def test_close_errors_are_logged_and_do_not_stop_other_closes(caplog: pytest.LogCaptureFixture) -> None:
    log: list[str] = []
    declared = rt.Resources(first=Tracked(log, fail_close=True), second=Tracked(log))

    async def both(a: Any, b: Any) -> Any:
        return 1

    async def main() -> Any:
        async with rt.Run("t", {}, None, declared=declared) as r:
            r.node("n", both, a=r.resource("first"), b=r.resource("second"))
        return r.result

    with caplog.at_level(logging.ERROR, logger="kailash_rt"):
        assert asyncio.run(main())["errors"] == {}
    assert log == ["create", "create", "close", "close"]
    assert any("'first': closing it failed" in rec.getMessage() for rec in caplog.records)


def test_concurrent_first_uses_create_once() -> None:
    log: list[str] = []
    declared = rt.Resources(thing=Tracked(log, slow_create=0.05))

    async def main() -> Any:
        async with rt.Run("t", {}, None, declared=declared) as r:
            for i in range(5):
                r.node(f"n{i}", _use, res=r.resource("thing"))
        return r.result

    assert len(asyncio.run(main())["results"]) == 5
    assert log == ["create", "close"]


def test_unknown_resource_lists_the_declared_ones() -> None:
    async def main() -> Any:
        async def reads(get_resource: Any) -> Any:
            return await get_resource("nope")

        async with rt.Run("t", {}, None, declared=rt.Resources(db=rt.cache(backend="memory"))) as r:
            r.node("n", reads, get_resource=r.get_resource)
        return r.result

    assert asyncio.run(main())["errors"]["n"] == "LookupError: no resource named 'nope' (declared: db)"


# -- environment ------------------------------------------------------------------------------
def test_env_names_and_secret_names() -> None:
    assert env_name("main_db", "password") == "MAIN_DB_PASSWORD"
    assert env_name("api", "headers", "X-Api-Key") == "API_HEADERS_X_API_KEY"
    for secret in ("password", "Authorization", "X-API-Key", "api_key", "client_secret", "access_token"):
        assert is_secret_name(secret), secret
    for secret in (
        "pwd",
        "pass",
        "db_pass",
        "X-Auth",
        "auth_key",
        "authKey",
        "access_key",
        "X-Access-Key",
        "access_key_id",
        "Cookie",
        "Set-Cookie",
        "session",
        "X-Session-Id",
        "credentials",
        "passphrase",
    ):
        assert is_secret_name(secret), secret
    for plain in ("host", "port", "base_url", "Accept", "database", "user", "author", "X-Author", "bypass", "compass"):
        assert not is_secret_name(plain), plain


def test_urls_carrying_secrets() -> None:
    for secret in (
        "postgresql://u:pw@h/db",
        "https://x/v1?api_key=K",
        "https://x/v1?page=1&access_token=T",
        "/users?token=T",
        "redis://:pw@h:6379/0",
    ):
        assert has_credentials(secret), secret
    for plain in ("https://x/v1?page=1", "https://x/v1?api_key=", "postgresql://h/db", "SELECT 1 WHERE a = ?", "k?"):
        assert not has_credentials(plain), plain


def test_secret_values_are_read_when_used_given_in_process_first(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("N_PARAMS_TOKEN", raising=False)
    with pytest.raises(rt.ResourceError, match="environment variable N_PARAMS_TOKEN is not set"):
        rt.env("N_PARAMS_TOKEN").read()
    monkeypatch.setenv("N_PARAMS_TOKEN", "from-env")
    assert rt.env("N_PARAMS_TOKEN").read() == "from-env"

    async def in_a_task() -> str:
        return rt.env("N_PARAMS_TOKEN").read()

    async def main() -> list[str]:
        with given_secrets({"N_PARAMS_TOKEN": "given"}):
            inside = [rt.env("N_PARAMS_TOKEN").read(), await asyncio.create_task(in_a_task())]
        return [*inside, rt.env("N_PARAMS_TOKEN").read()]

    assert asyncio.run(main()) == ["given", "given", "from-env"]


def test_env_secret_and_overrides(monkeypatch: pytest.MonkeyPatch) -> None:
    spec = rt.Resources(
        c=rt.http_client(
            base_url="http://x/", timeout=30, headers={"Authorization": rt.env("C_AUTH")}, raise_for_status=False
        )
    ).specs["c"]
    assert isinstance(spec, rt._backends.Spec)
    with pytest.raises(rt.ResourceError, match="needs environment variable C_AUTH"):
        spec.resolved()
    monkeypatch.setenv("C_AUTH", "Bearer abc")
    monkeypatch.setenv("C_TIMEOUT", "2.5")
    monkeypatch.setenv("C_RAISE_FOR_STATUS", "yes")
    monkeypatch.setenv("C_BASE_URL", "http://y/")
    assert spec.resolved() == {
        "base_url": "http://y/",
        "timeout": 2.5,
        "headers": {"Authorization": "Bearer abc"},
        "raise_for_status": True,
    }
    monkeypatch.setenv("C_HEADERS", '{"X-Other": "1"}')
    assert spec.resolved()["headers"] == {"X-Other": "1"}
    assert "abc" not in repr(spec) and "Authorization" in repr(spec)


def test_runtime_imports_without_client_libraries() -> None:
    """kailash_rt and the memory cache work with asyncpg, aiohttp and redis unimportable."""
    code = """
import sys, asyncio
for name in ("asyncpg", "aiohttp", "redis", "kailash"):
    sys.modules[name] = None
import kailash_rt as rt

async def use(store):
    await store.set("k", "v", ex=10)
    return {"v": await store.get("k")}

async def main():
    declared = rt.Resources(store=rt.cache(backend="memory"), db=rt.postgres(host="127.0.0.1"))
    async with rt.Run("t", {}, None, declared=declared) as r:
        r.node("a", use, store=r.resource("store"))
        r.node("b", use, store=r.resource("db"))
    print(r.result)

asyncio.run(main())
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert "'a': {'v': b'v'}" in done.stdout
    assert "resource 'db' (postgres) needs the asyncpg package: pip install asyncpg" in done.stdout


# -- the memory cache -----------------------------------------------------------------------------
def test_memory_cache_has_redis_semantics() -> None:
    async def main() -> None:
        cache = rt.MemoryCache()
        assert await cache.get("missing") is None
        assert await cache.set("k", "v") is True
        assert await cache.get("k") == b"v"
        assert await cache.set("k", "w", nx=True) is None
        assert await cache.set("new", "w", xx=True) is None
        assert await cache.ttl("k") == -1 and await cache.ttl("missing") == -2
        await cache.setex("t", 1, 42)
        assert await cache.get("t") == b"42" and await cache.ttl("t") == 1
        assert await cache.incr("n") == 1 and await cache.incr("n", 5) == 6
        assert sorted(await cache.keys("*")) == [b"k", b"n", b"t"]
        assert await cache.exists("k", "t", "missing") == 2
        assert await cache.delete("k", "missing") == 1
        with pytest.raises(TypeError, match=r"json\.dumps"):
            await cache.set("d", {"a": 1})
        with pytest.raises(ValueError):
            await cache.setex("bad", 0, "v")
        await asyncio.sleep(1.05)
        assert await cache.get("t") is None  # expired for real
        text = rt.MemoryCache(decode_responses=True)
        await text.set("s", "é")
        assert await text.get("s") == "é"
        await cache.aclose()
        with pytest.raises(RuntimeError, match="closed"):
            await cache.get("n")

    asyncio.run(main())


def test_memory_cache_data_outlives_a_run_but_not_its_declaration() -> None:
    async def write(store: Any) -> Any:
        before = await store.get("k")
        await store.set("k", "v")
        return before

    def declared() -> rt.Resources:
        return rt.Resources(store=rt.cache(backend="memory"))

    async def run_with(resources: rt.Resources) -> Any:
        async with rt.Run("t", {}, None, declared=resources) as r:
            r.node("n", write, store=r.resource("store"))
        return r.result["results"]["n"]

    async def main() -> list[Any]:
        same = declared()
        return [await run_with(same), await run_with(same), await run_with(declared())]

    assert asyncio.run(main()) == [None, b"v", None]
