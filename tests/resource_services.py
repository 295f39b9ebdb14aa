"""The real services resource tests use: PostgreSQL and Redis of this machine, an aiohttp server.

A service test skips (with the reason) only when the service is unreachable and ``CI`` is
not set; in CI an unreachable service fails the test.
"""

from __future__ import annotations

import asyncio
import os
import socket
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
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


def run(coro: Any) -> Any:
    return asyncio.run(coro)


def python() -> str:
    return sys.executable
