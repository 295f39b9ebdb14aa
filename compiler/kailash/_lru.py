"""A small thread-safe LRU mapping, for the in-process caches that must not grow without bound."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

# How many workflows the in-process caches keep (compiled modules, imported modules,
# resource specs): enough for every workflow a service runs, bounded when workflows are
# made on the fly.
WORKFLOWS_KEPT = 64

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class LRU(Generic[K, V]):
    """Keeps the ``maxsize`` most recently used entries; ``on_evict(key, value)`` is told of
    each entry it drops (outside its lock, so the callback may use the cache)."""

    def __init__(self, maxsize: int, on_evict: Callable[[K, V], None] | None = None) -> None:
        if maxsize < 1:
            raise ValueError("maxsize must be at least 1")
        self.maxsize = maxsize
        self._on_evict = on_evict
        self._entries: OrderedDict[K, V] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: K) -> V | None:
        with self._lock:
            value = self._entries.get(key)
            if value is not None:
                self._entries.move_to_end(key)
            return value

    def __setitem__(self, key: K, value: V) -> None:
        with self._lock:
            self._entries[key] = value
            self._entries.move_to_end(key)
            evicted = []
            while len(self._entries) > self.maxsize:
                evicted.append(self._entries.popitem(last=False))
        if self._on_evict is not None:
            for old_key, old_value in evicted:
                self._on_evict(old_key, old_value)

    def __contains__(self, key: object) -> bool:
        with self._lock:
            return key in self._entries

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    def keys(self) -> list[K]:
        with self._lock:
            return list(self._entries)

    def clear(self) -> None:
        """Drop every entry (``on_evict`` is told of each)."""
        with self._lock:
            evicted = list(self._entries.items())
            self._entries.clear()
        if self._on_evict is not None:
            for key, value in evicted:
                self._on_evict(key, value)
