"""Cache-aside: check the cache, fetch on a miss, store what was fetched. Three nodes.

``@cache_aside(cache="redis_cache", key_template="user_{user_id}", ttl_seconds=3600)``
decorates the fetch function. ``.check`` is the check node (it formats the key from its
inputs), the decorated object itself is the fetch node (it runs the function only on a
miss), and ``.store`` is the store node (it writes the fetched value as JSON with the
TTL). The cache is any client with Redis's async ``get`` and ``set(..., ex=ttl)``: a Redis client
or the embedded memory cache.
"""

from __future__ import annotations

import functools
import json
import string
from collections.abc import Awaitable, Callable
from typing import Any

from ._calls import describe

NodeFunction = Callable[..., Awaitable[Any]]


class CacheAside:
    def __init__(self, fetch: NodeFunction, cache: str, key_template: str, ttl_seconds: int) -> None:
        functools.update_wrapper(self, fetch)
        self.fetch = fetch
        self.cache = cache
        self.key_template = key_template
        self.ttl_seconds = ttl_seconds
        self.key_fields = key_fields(key_template)

    async def check(self, **kwargs: Any) -> dict[str, Any]:
        """``{"found_in_cache", "cache_key", "data"}``; a failing cache counts as a miss."""
        cache = kwargs.pop(self.cache)
        missing = [name for name in self.key_fields if name not in kwargs]
        if missing:
            raise TypeError(f"the cache key {self.key_template!r} needs {', '.join(map(repr, missing))}")
        key = self.key_template.format(**kwargs)
        try:
            stored = await cache.get(key)
        except Exception as exc:
            return {"found_in_cache": False, "cache_key": key, "data": None, "cache_error": describe(exc)}
        if stored is None:
            return {"found_in_cache": False, "cache_key": key, "data": None}
        if isinstance(stored, bytes):
            stored = stored.decode("utf-8")
        try:
            data = json.loads(stored)
        except (TypeError, ValueError):
            data = stored  # written by someone else, not as JSON: the raw value
        return {"found_in_cache": True, "cache_key": key, "data": data}

    async def __call__(self, *, cache_result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        """The fetch node: ``{"needs_caching", "cache_key", "data"}``; on a hit the function does not run."""
        if cache_result["found_in_cache"]:
            return {"needs_caching": False, "cache_key": cache_result["cache_key"], "data": cache_result["data"]}
        data = await self.fetch(**kwargs)
        return {"needs_caching": True, "cache_key": cache_result["cache_key"], "data": data}

    async def store(self, *, fetch_data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        """``{"data", "cached", "cache_key", ...}``: writes the fetched value, JSON-encoded, with the TTL."""
        cache = kwargs.pop(self.cache)
        data, key = fetch_data["data"], fetch_data["cache_key"]
        if not fetch_data["needs_caching"]:
            return {"data": data, "cached": False, "cache_key": key, "from_cache": True}
        try:
            await cache.set(key, json.dumps(data), ex=self.ttl_seconds)
        except Exception as exc:
            return {"data": data, "cached": False, "cache_key": key, "cache_error": describe(exc)}
        return {"data": data, "cached": True, "cache_key": key, "ttl": self.ttl_seconds}


def cache_aside(
    *, cache: str = "cache", key_template: str = "key_{item_id}", ttl_seconds: int = 3600
) -> Callable[[NodeFunction], CacheAside]:
    """Decorate the fetch function; ``cache`` names the keyword that carries the cache resource."""
    key_fields(key_template)
    if isinstance(ttl_seconds, bool) or not isinstance(ttl_seconds, int) or ttl_seconds < 1:
        raise ValueError(f"ttl_seconds must be a positive integer, not {ttl_seconds!r}")

    def decorate(fn: NodeFunction) -> CacheAside:
        return CacheAside(fn, cache, key_template, ttl_seconds)

    return decorate


def key_fields(template: str) -> list[str]:
    """The names a key template formats, in order; positional or nested fields are an error."""
    fields: list[str] = []
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError as exc:
        raise ValueError(f"cache_key_template {template!r} is not a valid format string: {exc}") from None
    for _, field, _, _ in parsed:
        if field is None:
            continue
        name = field.split(".", 1)[0].split("[", 1)[0]
        if not name.isidentifier():
            raise ValueError(f"cache_key_template {template!r}: fields must be named, like {{item_id}}")
        if name not in fields:
            fields.append(name)
    return fields
