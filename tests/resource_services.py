"""The real services resource tests use: PostgreSQL and Redis of this machine, an aiohttp server.

A service test skips (with the reason) only when the service is unreachable and ``CI`` is
not set; in CI an unreachable service fails the test.
"""

from __future__ import annotations

import asyncio
import os
import socket
import sys
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from types import ModuleType
from typing import Any

import pytest

PG = {"host": "127.0.0.1", "port": 5432, "database": "test", "user": "postgres"}
REDIS = {"host": "127.0.0.1", "port": 6379}


def _reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def _require(name: str, host: str, port: int) -> None:
    if _reachable(host, port):
        return
    if os.environ.get("CI"):
        pytest.fail(f"{name} at {host}:{port} is unreachable, and CI is set: service tests must run")
    pytest.skip(f"{name} at {host}:{port} is unreachable (with CI=1 this test fails instead)")


def require_postgres() -> None:
    """Call first in a test that needs PostgreSQL."""
    _require("PostgreSQL", str(PG["host"]), int(PG["port"]))


def require_redis() -> None:
    """Call first in a test that needs Redis."""
    _require("Redis", str(REDIS["host"]), int(REDIS["port"]))


def compile_and_load(workflow: Any) -> ModuleType:
    """Compile a built workflow and import the generated module (as the in-process runtime does)."""
    from kailash.codegen import compile_ir
    from kailash.runtime.loader import load_module

    generated = compile_ir(workflow.ir)
    return load_module(generated, workflow.ir.content_hash())


def generated_source(workflow: Any) -> str:
    from kailash.codegen import compile_ir

    return compile_ir(workflow.ir).source


async def pg_connections(application_name: str) -> int:
    """Open connections to the test database carrying ``application_name``."""
    import asyncpg

    conn = await asyncpg.connect(**PG)
    try:
        count: int = await conn.fetchval(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = $1", application_name
        )
        return count
    finally:
        await conn.close()


async def pg_total_connections() -> int:
    import asyncpg

    conn = await asyncpg.connect(**PG)
    try:
        count: int = await conn.fetchval(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()", PG["database"]
        )
        return count
    finally:
        await conn.close()


async def redis_clients(name: str | None = None) -> int:
    """Connected Redis clients (with client name ``name`` if given), not counting this one."""
    import redis.asyncio as redis

    client = redis.Redis(**REDIS)
    try:
        clients = await client.client_list()
        me = await client.client_id()
        return sum(1 for c in clients if int(c["id"]) != me and (name is None or c.get("name") == name))
    finally:
        await client.aclose()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@asynccontextmanager
async def http_server(setup: Callable[[Any], None]) -> AsyncIterator[str]:
    """An aiohttp server on 127.0.0.1; yields its base URL."""
    from aiohttp import web

    app = web.Application()
    setup(app)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    site = web.TCPSite(runner, "127.0.0.1", port)
    await site.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


@contextmanager
def http_server_thread(setup: Callable[[Any], None]) -> Iterator[str]:
    """An aiohttp server on 127.0.0.1 in a thread of its own; yields its base URL.

    For tests whose workflow runs with ``asyncio.run`` in the test's thread. A handler is
    cancelled when its client goes away (as a timed-out request does), so a slow handler
    does not hold up the server's shutdown.
    """
    from aiohttp import web

    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="test-http-server", daemon=True)
    thread.start()
    app = web.Application()
    setup(app)
    runner = web.AppRunner(app, handler_cancellation=True, shutdown_timeout=1.0)

    async def start() -> str:
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        host, port = runner.addresses[0][:2]
        return f"http://{host}:{port}"

    try:
        yield asyncio.run_coroutine_threadsafe(start(), loop).result(timeout=30)
    finally:
        try:
            asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(timeout=30)
        finally:
            loop.call_soon_threadsafe(loop.stop)
            thread.join(timeout=30)
            loop.close()


def run(coro: Any) -> Any:
    return asyncio.run(coro)


def python() -> str:
    return sys.executable
