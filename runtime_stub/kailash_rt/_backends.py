"""The resource kinds a module declares: PostgreSQL, HTTP client, cache, custom factory.

Each is a *spec*: settings now, a connection later. ``create()`` applies environment
overrides, reads ``env()`` secrets, imports the client library (asyncpg, aiohttp, redis:
only then, so that this package imports with the standard library alone) and connects.
"""

from __future__ import annotations

import asyncio
import importlib
import inspect
import logging
from types import ModuleType
from typing import TYPE_CHECKING, Any

from ._factory import ResourceFactory, close_object
from ._secrets import has_secret
from ._settings import ResourceError, resolve, resolve_value

if TYPE_CHECKING:
    from ._memcache import MemoryStore

logger = logging.getLogger("kailash_rt")

CLOSE_TIMEOUT = 10.0  # seconds a pool may take to close gracefully before it is terminated

# A cache only saves work, so a Redis that is down must fail fast rather than stall the run:
# connecting gives up after this many seconds (``with_cache(socket_connect_timeout=...)`` or
# ``<RESOURCE>_SOCKET_CONNECT_TIMEOUT`` sets another), and a failed command is retried once,
# at once (redis-py 6 and later retry three times with backoff: seconds per command).
REDIS_CONNECT_TIMEOUT = 1.0
REDIS_RETRIES = 1


class Spec:
    """A declared resource: ``kind`` and ``settings``; named by the ``Resources`` it is declared in."""

    kind = "resource"

    def __init__(self, **settings: Any) -> None:
        self.settings = settings
        self.name = self.kind

    def named(self, name: str) -> Spec:
        """This spec under a resource name (environment variables are derived from it)."""
        spec = object.__new__(type(self))  # a shallow copy (copy.copy without importing copy)
        spec.__dict__.update(self.__dict__)
        spec.name = name
        return spec

    def resolved(self) -> dict[str, Any]:
        return resolve(self.name, self.settings)

    async def create(self) -> Any:
        raise NotImplementedError

    async def close(self, resource: Any) -> None:
        await close_object(resource)

    def __repr__(self) -> str:
        shown = ", ".join(f"{k}={'***' if has_secret((k,), v) else repr(v)}" for k, v in self.settings.items())
        return f"{type(self).__name__}({self.name!r}, {shown})"

    def _client(self, module: str, package: str) -> ModuleType:
        try:
            return importlib.import_module(module)
        except ImportError:
            raise ResourceError(
                f"resource {self.name!r} ({self.kind}) needs the {package} package: pip install {package}"
            ) from None


class PostgresSpec(Spec):
    kind = "postgres"

    async def create(self) -> Any:
        settings = self.resolved()
        asyncpg = self._client("asyncpg", "asyncpg")
        return await asyncpg.create_pool(**settings)

    async def close(self, resource: Any) -> None:
        try:
            await asyncio.wait_for(resource.close(), CLOSE_TIMEOUT)
        except TimeoutError:
            logger.warning("resource %r: pool did not close within %ss; terminating it", self.name, CLOSE_TIMEOUT)
            resource.terminate()


class HttpSpec(Spec):
    kind = "http"

    async def create(self) -> Any:
        settings = self.resolved()
        aiohttp = self._client("aiohttp", "aiohttp")
        base_url = settings.pop("base_url", None)
        timeout = settings.pop("timeout", None)
        headers = settings.pop("headers", None)
        if base_url:
            base_url = base_url if base_url.endswith("/") else base_url + "/"
        return aiohttp.ClientSession(
            base_url=base_url or None,
            headers=headers or None,
            timeout=aiohttp.ClientTimeout(total=timeout) if timeout is not None else aiohttp.ClientTimeout(),
            **settings,
        )

    async def close(self, resource: Any) -> None:
        await resource.close()


class CacheSpec(Spec):
    kind = "cache"

    def __init__(self, **settings: Any) -> None:
        super().__init__(**settings)
        self._store: MemoryStore | None = None  # the memory backend's data, made on first use

    def named(self, name: str) -> Spec:
        spec = super().named(name)
        assert isinstance(spec, CacheSpec)
        spec._store = None
        return spec

    async def create(self) -> Any:
        settings = self.resolved()
        backend = settings.pop("backend", "redis")
        if backend == "memory":
            for key in ("host", "port", "db"):
                settings.pop(key, None)
            decode = settings.pop("decode_responses", False)
            if settings:
                raise ResourceError(
                    f"resource {self.name!r}: the memory cache takes no setting {', '.join(map(repr, settings))}"
                )
            from ._memcache import MemoryCache, MemoryStore

            if self._store is None:
                self._store = MemoryStore()
            return MemoryCache(self._store, decode_responses=bool(decode))
        if backend == "redis":
            redis = self._client("redis.asyncio", "redis")
            defaults = resolve(self.name, {"socket_connect_timeout": REDIS_CONNECT_TIMEOUT})
            return redis.Redis(**{**defaults, "retry": _redis_retry(REDIS_RETRIES), **settings})
        raise ResourceError(f"resource {self.name!r}: unsupported cache backend {backend!r} (use redis or memory)")

    async def close(self, resource: Any) -> None:
        await resource.aclose()


def _redis_retry(retries: int) -> Any:
    from redis.asyncio.retry import Retry
    from redis.backoff import NoBackoff

    return Retry(NoBackoff(), retries)


class FactorySpec(Spec):
    """A ``ResourceFactory`` subclass with its arguments, or a factory object made by the caller."""

    kind = "factory"

    def __init__(self, factory: Any, *args: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.factory = factory
        self.args = args
        self._instances: dict[int, Any] = {}

    def named(self, name: str) -> Spec:
        spec = super().named(name)
        assert isinstance(spec, FactorySpec)
        spec._instances = {}
        return spec

    def instance(self) -> Any:
        if not isinstance(self.factory, type):
            return self.factory
        args = [resolve_value(self.name, (f"arg{i}",), a) for i, a in enumerate(self.args)]
        return self.factory(*args, **self.resolved())

    async def create(self) -> Any:
        factory = self.instance()
        resource = await factory.create()
        check = getattr(factory, "health_check", None)
        if check is not None:
            healthy = check(resource)
            if inspect.isawaitable(healthy):
                healthy = await healthy
            if healthy is False:
                await self._cleanup(factory, resource)
                raise ResourceError(f"resource {self.name!r}: {type(factory).__name__} failed its health check")
        self._instances[id(resource)] = factory
        return resource

    async def close(self, resource: Any) -> None:
        factory = self._instances.pop(id(resource), None)
        await self._cleanup(factory, resource)

    @staticmethod
    async def _cleanup(factory: Any, resource: Any) -> None:
        cleanup = getattr(factory, "cleanup", None)
        if cleanup is None:
            await close_object(resource)
            return
        outcome = cleanup(resource)
        if inspect.isawaitable(outcome):
            await outcome

    def __repr__(self) -> str:
        factory = self.factory if isinstance(self.factory, type) else type(self.factory)
        return f"FactorySpec({self.name!r}, {factory.__qualname__})"


def postgres(**settings: Any) -> PostgresSpec:
    """A PostgreSQL connection pool (``asyncpg.create_pool``); every setting is passed through."""
    return PostgresSpec(**settings)


def http_client(**settings: Any) -> HttpSpec:
    """An ``aiohttp.ClientSession``: ``base_url``, ``headers``, ``timeout`` (total seconds), the rest passed."""
    return HttpSpec(**settings)


def cache(**settings: Any) -> CacheSpec:
    """``backend="redis"``: a ``redis.asyncio.Redis`` client; ``backend="memory"``: the embedded cache."""
    return CacheSpec(**settings)


def factory(factory: type[ResourceFactory] | Any, *args: Any, **kwargs: Any) -> FactorySpec:
    """A custom resource: ``factory(MyFactory, "arg", key=env("MY_KEY"))`` or a factory object."""
    return FactorySpec(factory, *args, **kwargs)


async def resource_output(name: str, operation: str, value: Any) -> dict[str, Any]:
    """The output of a resource node: ``{"result": value, "resource": name, "operation": operation}``.

    Awaits the value when the operation returned an awaitable; database records become
    dicts; an HTTP response is read: ``{"status", "headers", "body"}`` (JSON when it is JSON).
    """
    if inspect.isawaitable(value):
        value = await value
    return {"result": await plain(value), "resource": name, "operation": operation}


async def plain(value: Any) -> Any:
    if _is_record(value):
        return dict(value.items())
    if isinstance(value, list) and value and all(_is_record(v) for v in value):
        return [dict(v.items()) for v in value]
    if _is_http_response(value):
        async with value:
            body: Any = await value.read()
            if value.content_type == "application/json":
                import json

                body = json.loads(body) if body else None
            else:
                body = body.decode(value.get_encoding() if body else "utf-8")
        return {"status": value.status, "headers": dict(value.headers), "body": body}
    return value


def _is_record(value: Any) -> bool:
    cls = type(value)
    return cls.__module__.startswith("asyncpg") and hasattr(value, "items")


def _is_http_response(value: Any) -> bool:
    cls = type(value)
    return cls.__module__.startswith("aiohttp") and hasattr(value, "read") and hasattr(value, "status")
