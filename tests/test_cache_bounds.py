"""In-process caches keep a bounded number of workflows: many distinct workflows do not grow them."""

from __future__ import annotations

import asyncio
import linecache
import sys
import uuid
from pathlib import Path

import pytest
from kailash._lru import LRU, WORKFLOWS_KEPT
from kailash.resources import specs
from kailash.runtime import AsyncLocalRuntime, async_local, loader
from kailash.workflow import AsyncWorkflowBuilder, Workflow


def _workflow(prefix: str, index: int) -> Workflow:
    builder = AsyncWorkflowBuilder(f"{prefix}_{index}").with_cache("cache", backend="memory")
    builder.add_async_code("a", f"result = {index}")
    builder.add_async_code("b", "await cache.set('k', str(x)); result = int(await cache.get('k')) + 1")
    builder.add_connection("a", "result", "b", "x")
    return builder.build()


def _run(workflow: Workflow) -> dict[str, object]:
    result: dict[str, object] = asyncio.run(AsyncLocalRuntime().execute_workflow_async(workflow, {}))
    return result


def _loaded(prefix: str) -> list[str]:
    return [name for name in list(sys.modules) if name.startswith(f"_kailash_generated_{prefix}_")]


@pytest.mark.parametrize("cache_on_disk", [True, False], ids=["cache-directory", "in-memory"])
def test_many_distinct_workflows_keep_a_bounded_number_of_modules(
    cache_on_disk: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KAILASH_COMPILE_CACHE", str(tmp_path / "cache") if cache_on_disk else "")
    prefix = f"bounded_{uuid.uuid4().hex[:8]}"
    count = WORKFLOWS_KEPT + 12
    workflows = [_workflow(prefix, i) for i in range(count)]
    for index, workflow in enumerate(workflows):
        assert _run(workflow)["results"] == {"a": index, "b": index + 1}

    assert len(_loaded(prefix)) == WORKFLOWS_KEPT
    assert len(async_local._compiled) <= WORKFLOWS_KEPT
    assert len(loader._loaded) <= WORKFLOWS_KEPT
    assert len(specs._DECLARED) <= WORKFLOWS_KEPT
    first = f"_kailash_generated_{prefix}_0_{workflows[0].ir.content_hash()[:12]}"
    assert first not in sys.modules  # the least recently used left
    sources = [key for key in linecache.cache if isinstance(key, str) and f"{prefix}_" in key]
    assert len(sources) <= WORKFLOWS_KEPT
    if cache_on_disk:  # files stay: content-named, and used again by the next compile
        assert (tmp_path / "cache" / "modules" / f"{first}.py").is_file()

    assert _run(workflows[0])["results"] == {"a": 0, "b": 1}  # compiled and loaded again
    assert first in sys.modules


def test_a_workflow_run_often_stays_loaded() -> None:
    prefix = f"hot_{uuid.uuid4().hex[:8]}"
    hot = _workflow(prefix, 0)
    _run(hot)
    for index in range(1, WORKFLOWS_KEPT + 8):
        _run(_workflow(prefix, index))
        _run(hot)
    assert f"_kailash_generated_{prefix}_0_{hot.ir.content_hash()[:12]}" in sys.modules


def test_lru_evicts_the_least_recently_used_and_says_so() -> None:
    evicted: list[tuple[str, int]] = []
    cache: LRU[str, int] = LRU(2, on_evict=lambda key, value: evicted.append((key, value)))
    cache["a"] = 1
    cache["b"] = 2
    assert cache.get("a") == 1  # "b" is now the least recently used
    cache["c"] = 3
    assert evicted == [("b", 2)]
    assert cache.keys() == ["a", "c"] and len(cache) == 2 and "b" not in cache
    with pytest.raises(ValueError):
        LRU(0)


def test_lru_clear_drops_every_entry_and_says_so() -> None:
    dropped: list[str] = []
    cache: LRU[str, int] = LRU(3, on_evict=lambda key, value: dropped.append(key))
    cache["a"], cache["b"] = 1, 2
    cache.clear()
    assert len(cache) == 0 and sorted(dropped) == ["a", "b"]
