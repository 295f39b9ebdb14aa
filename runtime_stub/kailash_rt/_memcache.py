"""The embedded cache: Redis's async ``get``/``set``/``setex``/``delete`` surface, in process.

Values are stored as Redis stores them (bytes; ``decode_responses=True`` gives str back),
so a workflow behaves the same on either backend. Keys expire for real: an expired key
is gone on the next read. The data lives as long as the declaration (the module's
``RESOURCES``), so it survives from one run to the next in one process, as Redis would.
"""

from __future__ import annotations

import fnmatch
import time
from typing import Any

_SWEEP_EVERY = 1024  # writes between sweeps of expired keys


class MemoryStore:
    """The data of one memory cache declaration: key -> (value, deadline or None)."""

    def __init__(self) -> None:
        self.data: dict[bytes, tuple[bytes, float | None]] = {}
        self.writes = 0

    def live(self, key: bytes) -> bytes | None:
        entry = self.data.get(key)
        if entry is None:
            return None
        value, deadline = entry
        if deadline is not None and deadline <= time.monotonic():
            del self.data[key]
            return None
        return value

    def sweep(self) -> None:
        now = time.monotonic()
        for key in [k for k, (_, d) in self.data.items() if d is not None and d <= now]:
            del self.data[key]


class MemoryCache:
    """An in-process cache client with the async methods of ``redis.asyncio.Redis`` that caches use."""

    def __init__(self, store: MemoryStore | None = None, *, decode_responses: bool = False) -> None:
        self._store = store if store is not None else MemoryStore()
        self._decode = decode_responses
        self._closed = False

    # -- reading --------------------------------------------------------------------
    async def get(self, key: Any) -> Any:
        return self._out(self._store.live(self._check(key)))

    async def mget(self, keys: Any, *more: Any) -> list[Any]:
        names = [*keys, *more] if isinstance(keys, (list, tuple)) else [keys, *more]
        return [await self.get(k) for k in names]

    async def exists(self, *keys: Any) -> int:
        return sum(self._store.live(self._check(k)) is not None for k in keys)

    async def ttl(self, key: Any) -> int:
        """Seconds left (rounded up, as Redis does); -1 without expiry, -2 when missing."""
        name = self._check(key)
        if self._store.live(name) is None:
            return -2
        deadline = self._store.data[name][1]
        if deadline is None:
            return -1
        return max(int(-(-(deadline - time.monotonic()) // 1)), 0)

    async def keys(self, pattern: Any = "*") -> list[Any]:
        wanted = self._encode(pattern).decode("utf-8", "surrogateescape")
        found = []
        for name in list(self._store.data):
            if self._store.live(name) is not None and fnmatch.fnmatchcase(
                name.decode("utf-8", "surrogateescape"), wanted
            ):
                found.append(self._out(name))
        return found

    # -- writing --------------------------------------------------------------------
    async def set(
        self,
        key: Any,
        value: Any,
        ex: float | None = None,
        px: float | None = None,
        nx: bool = False,
        xx: bool = False,
    ) -> bool | None:
        name = self._check(key)
        present = self._store.live(name) is not None
        if (nx and present) or (xx and not present):
            return None
        seconds = _seconds(ex, px)
        self._write(name, self._encode(value), seconds)
        return True

    async def setex(self, key: Any, time_: Any, value: Any) -> bool:
        await self.set(key, value, ex=_seconds(time_, None))
        return True

    async def delete(self, *keys: Any) -> int:
        removed = 0
        for key in keys:
            name = self._check(key)
            if self._store.live(name) is not None:
                del self._store.data[name]
                removed += 1
        return removed

    async def expire(self, key: Any, time_: Any) -> bool:
        name = self._check(key)
        value = self._store.live(name)
        if value is None:
            return False
        self._write(name, value, _seconds(time_, None))
        return True

    async def incr(self, key: Any, amount: int = 1) -> int:
        name = self._check(key)
        current = self._store.live(name)
        try:
            number = int(current) if current is not None else 0
        except ValueError:
            raise ValueError("value is not an integer or out of range") from None
        number += amount
        deadline = self._store.data[name][1] if current is not None else None
        self._store.data[name] = (str(number).encode(), deadline)
        return number

    async def flushdb(self) -> bool:
        self._store.data.clear()
        return True

    async def ping(self) -> bool:
        return True

    # -- lifecycle --------------------------------------------------------------------
    async def aclose(self) -> None:
        self._closed = True

    async def close(self) -> None:
        self._closed = True

    # -- helpers ----------------------------------------------------------------------
    def _check(self, key: Any) -> bytes:
        if self._closed:
            raise RuntimeError("this memory cache client is closed (its run has ended)")
        return self._encode(key)

    def _write(self, name: bytes, value: bytes, seconds: float | None) -> None:
        deadline = time.monotonic() + seconds if seconds is not None else None
        self._store.data[name] = (value, deadline)
        self._store.writes += 1
        if self._store.writes % _SWEEP_EVERY == 0:
            self._store.sweep()

    def _out(self, value: bytes | None) -> Any:
        if value is None or not self._decode:
            return value
        return value.decode("utf-8")

    @staticmethod
    def _encode(value: Any) -> bytes:
        """Redis's encoding: bytes as they are, str as UTF-8, numbers as their text."""
        if isinstance(value, bytes):
            return value
        if isinstance(value, memoryview):
            return value.tobytes()
        if isinstance(value, str):
            return value.encode("utf-8")
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise TypeError(
                f"invalid input of type {type(value).__name__!r}: convert to bytes, str, int or float first"
                " (json.dumps for dicts and lists)"
            )
        return repr(value).encode()


def _seconds(ex: Any, px: Any) -> float | None:
    if ex is None and px is None:
        return None
    if hasattr(ex, "total_seconds"):
        ex = ex.total_seconds()
    seconds = float(ex) if ex is not None else float(px) / 1000
    if seconds <= 0:
        raise ValueError("invalid expire time: it must be positive")
    return seconds
