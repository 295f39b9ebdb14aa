"""The compile cache on disk stays bounded by age and size, keeps what is in use, and a
compile that writes new entries prunes it at most once an hour."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from kailash.codegen import compile_ir, disk_cache, formatting
from kailash.targets.asyncio import chunk_facts
from kailash.workflow import AsyncWorkflowBuilder

DAY = 86400.0


def entry(cache: Path, name: str, size: int, age_days: float, now: float, directory: str = "") -> Path:
    path = cache / (directory or name[:2]) / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"x" * size)
    os.utime(path, (now - age_days * DAY, now - age_days * DAY))
    return path


def test_entries_older_than_the_age_limit_go(tmp_path: Path) -> None:
    now = time.time()
    old = entry(tmp_path, "aa01", 10, age_days=31, now=now)
    young = entry(tmp_path, "ab02", 10, age_days=29, now=now)
    disk_cache.prune(tmp_path, max_bytes=10**9, max_age=30 * DAY, now=now)
    assert not old.exists()
    assert young.exists()


def test_over_the_size_limit_the_oldest_go_until_a_fifth_below_it(tmp_path: Path) -> None:
    now = time.time()
    paths = [entry(tmp_path, f"{index:02x}{index:04d}", 100, age_days=10 - index, now=now) for index in range(10)]
    modules = entry(tmp_path, "m.py", 100, age_days=20, now=now, directory="modules")
    other = tmp_path / "notes.txt"  # not an entry: never touched
    other.write_text("mine")
    os.utime(other, (now - 400 * DAY, now - 400 * DAY))
    disk_cache.prune(tmp_path, max_bytes=1000, max_age=30 * DAY, now=now)  # 1,100 bytes: over
    kept = [path for path in paths if path.exists()]
    assert kept == paths[-8:]  # 800 bytes: the oldest three (the module entry first) went
    assert not modules.exists()
    assert other.exists()


def test_under_the_limits_nothing_goes(tmp_path: Path) -> None:
    now = time.time()
    paths = [entry(tmp_path, f"{index:02x}00", 100, age_days=index, now=now) for index in range(5)]
    disk_cache.prune(tmp_path, max_bytes=500, max_age=30 * DAY, now=now)
    assert all(path.exists() for path in paths)


def test_an_old_entry_read_is_touched_so_it_stays(tmp_path: Path) -> None:
    now = time.time()
    used = entry(tmp_path, "cd01", 10, age_days=29.5, now=now)
    recent = entry(tmp_path, "cd02", 10, age_days=0.5, now=now)
    recent_mtime = recent.stat().st_mtime
    assert disk_cache.read_entry(used, 100) == b"x" * 10
    assert disk_cache.read_entry(recent, 100) == b"x" * 10
    assert now - used.stat().st_mtime < DAY
    assert recent.stat().st_mtime == recent_mtime  # young entries are not written to
    assert disk_cache.read_entry(used, 5) is None  # longer than the limit
    assert disk_cache.read_entry(tmp_path / "none", 5) is None


def test_a_compile_that_writes_prunes_once_an_hour(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cache = tmp_path / "cache"
    monkeypatch.setenv("KAILASH_COMPILE_CACHE", str(cache))
    monkeypatch.setenv("KAILASH_COMPILE_CACHE_MAX_DAYS", "30")
    now = time.time()

    def compile_new(index: int) -> None:
        builder = AsyncWorkflowBuilder(f"prune_{index}")
        builder.add_async_code("only", f"result = {{'n': {index}}}")
        compile_ir(builder.build().ir)

    stale = entry(cache, "ef01", 10, age_days=40, now=now)
    compile_new(1)
    assert not stale.exists()  # the first compile that wrote pruned
    marker = cache / ".pruned"
    assert marker.is_file()
    stale = entry(cache, "ef02", 10, age_days=40, now=now)
    compile_new(2)
    assert stale.exists()  # pruned less than an hour ago: not again
    os.utime(marker, (now - 2 * 3600, now - 2 * 3600))
    compile_new(3)
    assert not stale.exists()


def test_the_in_memory_caches_hold_a_10000_node_workflow() -> None:
    # 10,000 node chunks plus run()'s statement groups, and twice that many facts pieces
    assert formatting._memory.maxsize >= 2 * 10_000
    assert chunk_facts._units.maxsize >= 3 * 10_000
