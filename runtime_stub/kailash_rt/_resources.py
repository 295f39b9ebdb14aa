"""Resources of a run: declared once per module, created lazily, always closed.

A module declares ``RESOURCES = Resources(name=spec, ...)``; a spec has ``async create()``
and ``async close(resource)``. Nothing connects until a node of the run first uses a
resource; the run closes what it created, also on failure and cancellation.

What a caller may pass as ``run(resources=...)``:

- a mapping of live objects: used as they are, never closed here (the caller owns them);
- a ``Resources``: specs that replace the declared ones of the same name (real secret
  values from the in-process runtime, a test database), still created and closed per run;
- a ``SharedResources``: resources created on first use and kept across many runs until
  the caller's ``await shared.aclose()`` (``Resources(...).sharing(shared)`` combines both).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import Any, Protocol

from ._settings import ResourceError

logger = logging.getLogger("kailash_rt")


class ResourceSpec(Protocol):
    async def create(self) -> Any: ...

    async def close(self, resource: Any) -> None: ...


class Resources:
    """The resources a workflow declares, by name."""

    def __init__(self, **specs: ResourceSpec) -> None:
        self.specs: dict[str, ResourceSpec] = {}
        self.shared: SharedResources | None = None
        for name, spec in specs.items():
            named = getattr(spec, "named", None)
            self.specs[name] = named(name) if callable(named) else spec

    def sharing(self, shared: SharedResources) -> Resources:
        """These specs, with ``shared``'s live resources taking precedence by name."""
        combined = Resources()
        combined.specs = dict(self.specs)
        combined.shared = shared
        return combined

    def __repr__(self) -> str:
        return f"Resources({', '.join(self.specs)})"


class _Pool:
    """Creates each resource once, on first use, and closes what it created."""

    def __init__(self, specs: Mapping[str, ResourceSpec]) -> None:
        self._specs = dict(specs)
        self._live: dict[str, Any] = {}
        self._creating: dict[str, asyncio.Task[Any]] = {}
        self._tasks: list[asyncio.Task[Any]] = []
        self._created: list[tuple[str, ResourceSpec, Any]] = []

    def __contains__(self, name: object) -> bool:
        return name in self._specs or name in self._live

    def names(self) -> set[str]:
        return {*self._specs, *self._live}

    async def get(self, name: str) -> Any:
        if name in self._live:
            return self._live[name]
        task = self._creating.get(name)
        if task is None:
            spec = self._specs.get(name)
            if spec is None:
                raise LookupError(f"no resource named {name!r}")
            # Created in a task of its own: a node cancelled while waiting does not cancel the
            # creation another node may be waiting for too.
            task = asyncio.get_running_loop().create_task(self._create(name, spec))
            self._creating[name] = task
            self._tasks.append(task)
        return await asyncio.shield(task)

    async def _create(self, name: str, spec: ResourceSpec) -> Any:
        try:
            resource = await spec.create()
        except Exception as exc:
            self._creating.pop(name, None)  # a later use tries again
            if isinstance(exc, ResourceError) and f"{name!r}" in str(exc):
                raise
            raise ResourceError(f"resource {name!r} could not be created: {type(exc).__name__}: {exc}") from exc
        except BaseException:
            self._creating.pop(name, None)
            raise
        self._live[name] = resource
        self._created.append((name, spec, resource))
        self._creating.pop(name, None)
        return resource

    async def aclose(self) -> None:
        """Close everything created here, newest first; also when cancelled while closing."""
        closing = asyncio.get_running_loop().create_task(self._close_all())
        try:
            await asyncio.shield(closing)
        except asyncio.CancelledError:
            await closing
            raise

    async def _close_all(self) -> None:
        pending, self._tasks = self._tasks, []
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)
        created, self._created = self._created, []
        for name, spec, resource in reversed(created):
            self._live.pop(name, None)
            try:
                await spec.close(resource)
            except Exception:  # one failing close must not keep the others open
                logger.exception("resource %r: closing it failed", name)


class SharedResources:
    """Resources shared by many runs: created on first use, closed by ``await shared.aclose()``."""

    def __init__(self, resources: Resources | Mapping[str, ResourceSpec]) -> None:
        specs = resources.specs if isinstance(resources, Resources) else Resources(**resources).specs
        self._pool = _Pool(specs)

    def __contains__(self, name: object) -> bool:
        return name in self._pool

    def names(self) -> set[str]:
        return self._pool.names()

    async def get(self, name: str) -> Any:
        return await self._pool.get(name)

    async def aclose(self) -> None:
        await self._pool.aclose()

    async def __aenter__(self) -> SharedResources:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        return f"SharedResources({', '.join(sorted(self.names()))})"


class RunResources:
    """The resources of one run: creates each declared one on first use, closes them at the end."""

    def __init__(
        self,
        declared: Resources | None,
        given: Mapping[str, Any] | Resources | SharedResources | None,
    ) -> None:
        specs: dict[str, ResourceSpec] = dict(declared.specs) if declared else {}
        self._shared: SharedResources | None = None
        live: dict[str, Any] = {}
        if isinstance(given, Resources):
            specs.update(given.specs)
            self._shared = given.shared
        elif isinstance(given, SharedResources):
            self._shared = given
        elif given is not None:
            live = dict(given)
        self._live = live
        self._pool = _Pool(specs)

    async def get(self, name: str) -> Any:
        if name in self._live:
            return self._live[name]
        if self._shared is not None and name in self._shared:
            return await self._shared.get(name)
        if name in self._pool:
            return await self._pool.get(name)
        known = sorted({*self._live, *self._pool.names(), *(self._shared.names() if self._shared else ())})
        raise LookupError(f"no resource named {name!r} (declared: {', '.join(known) or 'none'})")

    async def aclose(self) -> None:
        """Close what this run created; live and shared resources stay open."""
        await self._pool.aclose()
