"""Scatter-gather, parallel fetch, batch processing and cache-aside: the runtime decorators."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator, Coroutine
from typing import Any

import kailash_rt as rt
import pytest


def run(coro: Coroutine[Any, Any, Any]) -> Any:
    return asyncio.run(coro)


# -- scatter-gather ---------------------------------------------------------------------
def test_scatter_gather_three_stages_keep_the_original_order() -> None:
    @rt.scatter_gather(worker_count=3)
    def worker(item: str) -> dict[str, Any]:
        return {"original": item, "transformed": item.upper()}

    words = [f"w{i}" for i in range(10)]

    async def main() -> rt.RunResult:
        async with rt.Run("sg") as r:
            scattered = r.node("scatter_process", worker.scatter, items=words)
            parts = [r.node(f"worker_{i}", worker.process, items=scattered[f"shard_{i}"]) for i in range(3)]
            r.node("gather_results", worker.gather, **{f"part_{i}": p["results"] for i, p in enumerate(parts)})
        return r.result

    result = run(main())
    assert result["errors"] == {}
    assert sorted(result["results"]) == ["gather_results", "scatter_process", "worker_0", "worker_1", "worker_2"]
    assert [len(result["results"]["scatter_process"][f"shard_{i}"]) for i in range(3)] == [4, 3, 3]
    gathered = result["results"]["gather_results"]
    assert [r["original"] for r in gathered["results"]] == words
    assert gathered["statistics"]["per_worker"] == [4, 3, 3]


def test_scatter_with_fewer_items_than_workers() -> None:
    @rt.scatter_gather(worker_count=4)
    async def worker(item: int) -> int:
        return item

    shards = run(worker.scatter(items=[1, 2]))
    assert [shards[f"shard_{i}"] for i in range(4)] == [[1], [2], [], []]
    assert run(worker.process(items=[]))["results"] == []


def test_a_failing_item_is_named_by_its_index_in_the_input_not_in_its_workers_shard() -> None:
    @rt.scatter_gather(worker_count=2)
    def worker(item: int) -> int:
        if item == 30:
            raise ValueError("no price for 30")
        return item

    async def main() -> rt.RunResult:
        async with rt.Run("sg") as r:
            scattered = r.node("scatter", worker.scatter, items=[0, 10, 20, 30, 40])
            for i in range(2):
                r.node(f"worker_{i}", worker.process, items=scattered[f"shard_{i}"], start=scattered[f"start_{i}"])
        return r.result

    result = run(main())
    scattered = result["results"]["scatter"]
    assert (scattered["shard_1"], scattered["start_1"]) == ([30, 40], 3)  # the second worker starts at item 3
    assert result["errors"] == {"worker_1": "ItemFailed: item 3 of the input failed: ValueError: no price for 30"}
    assert result["results"]["worker_0"]["results"] == [0, 10, 20]


# -- parallel fetch ------------------------------------------------------------------------
def test_parallel_fetch_runs_operations_at_once_each_with_its_own_timeout() -> None:
    async def users(api: str) -> list[str]:
        await asyncio.sleep(0.1)
        return [api, "users"]

    async def orders(api: str, region: str) -> list[str]:
        await asyncio.sleep(0.1)
        return [api, region]

    async def inventory() -> None:
        await asyncio.sleep(10)

    async def broken() -> None:
        raise ConnectionError("refused")

    fetch = rt.parallel_fetch(
        {"users": users, "orders": orders, "inventory": inventory, "broken": broken},
        timeout_per_operation=0.3,
    )
    started = time.monotonic()
    out = run(fetch(api="A", region="eu"))
    assert time.monotonic() - started < 1.0  # concurrent: not 0.1 + 0.1 + 0.3
    assert out["successful"] == {"users": ["A", "users"], "orders": ["A", "eu"]}
    assert out["failed"] == {"inventory": "TimeoutError: timed out after 0.3s", "broken": "ConnectionError: refused"}
    assert out["statistics"] == {
        "total_operations": 4,
        "successful_count": 2,
        "failed_count": 2,
        "success_rate": 0.5,
    }


def test_parallel_fetch_without_continue_on_error_fails_the_node() -> None:
    async def ok() -> int:
        return 1

    async def broken() -> int:
        raise ValueError("nope")

    fetch = rt.parallel_fetch({"ok": ok, "broken": broken}, continue_on_error=False)
    with pytest.raises(rt.FetchFailed, match=r"1 of 2 operations failed: broken \(ValueError: nope\)"):
        run(fetch())
    assert run(rt.parallel_fetch({"ok": ok}, continue_on_error=False)())["successful"] == {"ok": 1}


# -- batch processing ------------------------------------------------------------------------
def test_batches_of_a_list() -> None:
    seen: list[list[int]] = []

    @rt.batch_processor(batch_size=4, flush_interval=5.0)
    async def insert(items: list[int], table: str) -> list[dict[str, Any]]:
        seen.append(items)
        return [{"id": item, "table": table} for item in items]

    out = run(insert(items=list(range(10)), table="logs"))
    assert seen == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    assert out["processed_count"] == 10 and out["batch_count"] == 3
    assert out["results"][9] == {"id": 9, "table": "logs"}
    assert out["flush_reasons"] == ["batch_full", "batch_full", "end"]


def test_an_async_stream_is_flushed_on_size_and_on_interval() -> None:
    seen: list[list[int]] = []

    async def stream() -> AsyncIterator[int]:
        for i in range(5):  # a quick burst of five
            yield i
        await asyncio.sleep(0.3)  # a pause longer than the flush interval
        yield 5
        yield 6

    @rt.batch_processor(batch_size=3, flush_interval=0.1)
    async def insert(items: list[int]) -> list[int]:
        seen.append(items)
        return items

    out = run(insert(items=stream()))
    assert seen == [[0, 1, 2], [3, 4], [5, 6]]
    assert out["flush_reasons"] == ["batch_full", "time_based", "end"]
    assert out["results"] == list(range(7))


# -- cache-aside ----------------------------------------------------------------------------
class CacheAside:
    def __init__(self, ttl_seconds: int = 60) -> None:
        self.fetched: list[int] = []
        self.check = rt.cache_check(cache="redis_cache", key_template="kc_test_{run_id}_{item_id}")
        self.store = rt.cache_store(cache="redis_cache", ttl_seconds=ttl_seconds)

        @rt.cache_fetch
        async def data_fetch(item_id: int) -> dict[str, Any]:
            self.fetched.append(item_id)
            return {"id": item_id, "name": f"item {item_id}"}

        self.fetch = data_fetch

    async def run(self, cache: Any, run_id: str, item_id: int) -> rt.RunResult:
        async with rt.Run("cache_aside") as r:
            checked = r.node("cache_check", self.check, redis_cache=cache, run_id=run_id, item_id=item_id)
            fetched = r.node("data_fetch", self.fetch, cache_result=checked, item_id=item_id)
            r.node("cache_store", self.store, fetch_data=fetched, redis_cache=cache)
        return r.result


@pytest.mark.parametrize(
    "backend",
    ["memory", pytest.param("redis", marks=pytest.mark.services)],
)
def test_a_cache_hit_skips_the_fetch(backend: str) -> None:
    pattern = CacheAside()
    spec = rt.cache(backend=backend, host="127.0.0.1", port=6379)
    run_id = uuid.uuid4().hex

    async def main() -> tuple[rt.RunResult, rt.RunResult, rt.RunResult, Any, int]:
        cache = await spec.create()
        try:
            miss = await pattern.run(cache, run_id, 1)
            hit = await pattern.run(cache, run_id, 1)
            other = await pattern.run(cache, run_id, 2)
            stored = await cache.get(f"kc_test_{run_id}_1")
            ttl = await cache.ttl(f"kc_test_{run_id}_1")
            await cache.delete(f"kc_test_{run_id}_1", f"kc_test_{run_id}_2")
        finally:
            await spec.close(cache)
        return miss, hit, other, stored, ttl

    miss, hit, other, stored, ttl = run(main())
    assert pattern.fetched == [1, 2]  # the second run for item 1 was a hit: no fetch
    assert miss["errors"] == hit["errors"] == {}
    assert miss["results"]["cache_check"]["found_in_cache"] is False
    assert miss["results"]["data_fetch"]["needs_caching"] is True
    assert miss["results"]["cache_store"]["cached"] is True
    assert hit["results"]["cache_check"] == {
        "found_in_cache": True,
        "cache_key": f"kc_test_{run_id}_1",
        "data": {"id": 1, "name": "item 1"},
    }
    assert hit["results"]["data_fetch"]["needs_caching"] is False
    assert hit["results"]["cache_store"]["cached"] is False
    assert hit["results"]["cache_store"]["data"] == {"id": 1, "name": "item 1"}
    assert other["results"]["cache_store"]["data"]["id"] == 2
    assert json.loads(stored) == {"id": 1, "name": "item 1"}
    assert 0 < ttl <= 60


def test_the_ttl_expires_entries() -> None:
    pattern = CacheAside(ttl_seconds=1)
    spec = rt.cache(backend="memory")

    async def main() -> None:
        cache = await spec.create()
        await pattern.run(cache, "ttl", 7)
        await pattern.run(cache, "ttl", 7)
        await asyncio.sleep(1.1)
        await pattern.run(cache, "ttl", 7)

    run(main())
    assert pattern.fetched == [7, 7]


def test_a_failing_cache_degrades_to_fetching() -> None:
    pattern = CacheAside()

    class BrokenCache:
        async def get(self, key: str) -> Any:
            raise ConnectionError("cache down")

        async def set(self, key: str, value: str, ex: int) -> Any:
            raise ConnectionError("cache down")

    result = run(pattern.run(BrokenCache(), "x", 3))
    assert pattern.fetched == [3]
    assert result["results"]["cache_check"]["cache_error"] == "ConnectionError: cache down"
    assert result["results"]["cache_store"] == {
        "data": {"id": 3, "name": "item 3"},
        "cached": False,
        "cache_key": "kc_test_x_3",
        "cache_error": "ConnectionError: cache down",
    }


def test_key_templates_are_checked() -> None:
    with pytest.raises(ValueError, match="fields must be named"):
        rt.cache_check(cache="c", key_template="user_{}")
    with pytest.raises(ValueError, match="not a valid format string"):
        rt.cache_check(cache="c", key_template="user_{id")
