"""Cache-aside: check the cache, fetch on a miss, store what was fetched. Three nodes.

``cache_check(cache="redis_cache", key_template="user_{user_id}")`` makes the check node
(it formats the key from its inputs), ``@cache_fetch`` makes the fetch node of a fetch
function (run only on a miss), ``cache_store(cache="redis_cache", ttl_seconds=3600)`` the
store node (it writes the fetched value as JSON with the TTL). The cache is any client with
Redis's async ``get`` and ``set(key, value, ex=ttl)``: a Redis client or the embedded memory
cache; ``cache`` names the keyword argument that carries it.

A cache that fails (Redis down) counts as a miss: the value is fetched and not stored, the
check and store outputs say why in ``cache_error``, and the failure is logged as a warning
on the ``kailash_rt`` logger.
"""

from __future__ import annotations

import functools
import json
import logging
import string
from collections.abc import Awaitable, Callable
from typing import Any

from ._calls import check_number, describe

NodeFunction = Callable[..., Awaitable[Any]]

logger = logging.getLogger("kailash_rt")


def cache_check(*, cache: str, key_template: str) -> NodeFunction:
    """The check node: ``{"found_in_cache", "cache_key", "data"}``; a failing cache counts as a miss.

    ``cache`` names the keyword that carries the cache resource; the other keywords format the key.
    """
    fields = key_fields(key_template)

    async def check(**kwargs: Any) -> dict[str, Any]:
        client = kwargs.pop(cache)
        missing = [name for name in fields if name not in kwargs]
        if missing:
            raise TypeError(f"the cache key {key_template!r} needs {', '.join(map(repr, missing))}")
        key = key_template.format(**kwargs)
        try:
            stored = await client.get(key)
        except Exception as exc:
            logger.warning("cache %r failed to read key %r (%s); fetching instead", cache, key, describe(exc))
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

    check.kailash_patterns = ("cache_aside",)  # type: ignore[attr-defined]
    return check


def cache_fetch(fn: NodeFunction) -> NodeFunction:
    """The fetch node: ``{"needs_caching", "cache_key", "data"}``; on a hit ``fn`` does not run."""

    @functools.wraps(fn)
    async def fetch(*, cache_result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        if cache_result["found_in_cache"]:
            return {"needs_caching": False, "cache_key": cache_result["cache_key"], "data": cache_result["data"]}
        data = await fn(**kwargs)
        return {"needs_caching": True, "cache_key": cache_result["cache_key"], "data": data}

    fetch.kailash_patterns = ("cache_aside",)  # type: ignore[attr-defined]
    return fetch


def cache_store(*, cache: str, ttl_seconds: int = 3600) -> NodeFunction:
    """The store node: writes a fetched value as JSON with the TTL; ``{"data", "cached", "cache_key", ...}``."""
    check_number("ttl_seconds", ttl_seconds, integer=True, positive=True)

    async def store(*, fetch_data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        client = kwargs.pop(cache)
        data, key = fetch_data["data"], fetch_data["cache_key"]
        if not fetch_data["needs_caching"]:
            return {"data": data, "cached": False, "cache_key": key, "from_cache": True}
        try:
            await client.set(key, json.dumps(data), ex=ttl_seconds)
        except Exception as exc:
            logger.warning("cache %r failed to store key %r (%s); the value is not cached", cache, key, describe(exc))
            return {"data": data, "cached": False, "cache_key": key, "cache_error": describe(exc)}
        return {"data": data, "cached": True, "cache_key": key, "ttl": ttl_seconds}

    store.kailash_patterns = ("cache_aside",)  # type: ignore[attr-defined]
    return store


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
