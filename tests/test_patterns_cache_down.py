"""Cache-aside with its Redis down: the run fetches at once, says why in cache_error and logs it.

Redis is "down" on a real port of 127.0.0.1 that nothing listens on: bound, then closed.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import kailash_rt as rt
import pytest
from kailash.workflow import AsyncPatterns, AsyncWorkflowBuilder

from .resource_services import compile_and_load, free_port, generated_source


def cache_aside_on(port: int, **cache_settings: Any) -> AsyncWorkflowBuilder:
    builder = AsyncWorkflowBuilder(f"cache_down_{port}_{len(cache_settings)}")
    builder.with_cache("redis_cache", backend="redis", host="127.0.0.1", port=port, **cache_settings)
    AsyncPatterns.cache_aside(
        builder,
        "cache_check",
        "data_fetch",
        "cache_store",
        "result = {'id': item_id, 'name': 'Ada'}",
        cache_resource="redis_cache",
        cache_key_template="user_{item_id}",
    )
    return builder


def test_with_redis_down_cache_aside_fetches_at_once_and_logs_why(caplog: pytest.LogCaptureFixture) -> None:
    pytest.importorskip("redis")
    import redis.asyncio  # noqa: F401  (imported before the clock starts: only the run is timed)

    closed = free_port()
    module = compile_and_load(cache_aside_on(closed).build())
    caplog.set_level(logging.WARNING, logger="kailash_rt")
    started = time.monotonic()
    result = asyncio.run(module.run({"item_id": 7}))
    elapsed = time.monotonic() - started

    # redis-py's own defaults retried each command three times with backoff: 7 to 8 s here
    assert elapsed < 3.0
    assert result["errors"] == {}
    refused = f"ConnectionError: Error 111 connecting to 127.0.0.1:{closed}."
    check = result["results"]["cache_check"]
    assert (check["found_in_cache"], check["cache_key"]) == (False, "user_7")
    assert check["cache_error"].startswith(refused)
    store = result["results"]["cache_store"]
    assert (store["data"], store["cached"]) == ({"id": 7, "name": "Ada"}, False)
    assert store["cache_error"].startswith(refused)
    warnings = [r.getMessage() for r in caplog.records if r.name == "kailash_rt" and r.levelno == logging.WARNING]
    assert len(warnings) == 2
    assert warnings[0].startswith(f"cache 'redis_cache' failed to read key 'user_7' ({refused}")
    assert warnings[0].endswith("); fetching instead")
    assert warnings[1].startswith(f"cache 'redis_cache' failed to store key 'user_7' ({refused}")


def connect_timeout_of(spec: Any) -> Any:
    async def created() -> Any:
        client = await spec.create()
        try:
            return client.connection_pool.connection_kwargs["socket_connect_timeout"]
        finally:
            await spec.close(client)

    return asyncio.run(created())


def test_the_redis_connect_timeout_is_short_by_default_and_set_by_the_cache_settings(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pytest.importorskip("redis")
    port = free_port()
    default = compile_and_load(cache_aside_on(port).build()).RESOURCES.specs["redis_cache"]
    assert connect_timeout_of(default) == 1.0  # redis-py's own default is 5 s (None before redis-py 6)

    builder = cache_aside_on(port, socket_connect_timeout=0.25)
    assert "socket_connect_timeout=0.25" in generated_source(builder.build())
    assert connect_timeout_of(compile_and_load(builder.build()).RESOURCES.specs["redis_cache"]) == 0.25

    monkeypatch.setenv("REDIS_CACHE_SOCKET_CONNECT_TIMEOUT", "2.5")  # the environment overrides either
    assert connect_timeout_of(default) == 2.5
    assert (
        connect_timeout_of(rt.cache(backend="redis", port=port, socket_connect_timeout=0.25).named("redis_cache"))
        == 2.5
    )
