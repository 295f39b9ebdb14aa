"""Resources of a run: declared once per module, created lazily, always closed.

A module declares ``RESOURCES = Resources(name=spec, ...)``; a spec has ``async create()``
and ``async close(resource)``. Nothing connects until a node of the run first uses a
resource; the run closes what it created, also on failure and cancellation. Live
resources passed in by the caller are used as they are and never closed here.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any, Protocol


class ResourceSpec(Protocol):
    async def create(self) -> Any: ...

    async def close(self, resource: Any) -> None: ...


class Resources:
    """The resources a workflow declares, by name."""

    def __init__(self, **specs: ResourceSpec) -> None:
        self.specs = specs

    def __repr__(self) -> str:
        return f"Resources({', '.join(self.specs)})"


class RunResources:
    """The resources of one run: creates each declared one on first use."""

    def __init__(self, declared: Resources | None, given: Mapping[str, Any] | Resources | None) -> None:
        if isinstance(given, Resources):
            declared, given = given, None
        self._specs: Mapping[str, ResourceSpec] = declared.specs if declared else {}
        self._live: dict[str, Any] = dict(given or {})
        self._created: list[tuple[str, Any]] = []
        self._pending: dict[str, asyncio.Future[Any]] = {}

    async def get(self, name: str) -> Any:
        if name in self._live:
            return self._live[name]
        pending = self._pending.get(name)
        if pending is not None:
            return await asyncio.shield(pending)
        spec = self._specs.get(name)
        if spec is None:
            known = sorted({*self._specs, *self._live})
            raise LookupError(f"no resource named {name!r} (declared: {', '.join(known) or 'none'})")
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending[name] = future
        try:
            resource = await spec.create()
        except BaseException as exc:
            del self._pending[name]
            future.set_exception(exc)
            future.exception()  # waiters re-raise it; the future itself is not left unretrieved
            raise
        self._live[name] = resource
        self._created.append((name, resource))
        future.set_result(resource)
        return resource

    async def aclose(self) -> None:
        """Close what this run created, newest first; a failing close does not stop the others."""
        created, self._created = self._created, []
        for name, resource in reversed(created):
            self._live.pop(name, None)
            try:
                await self._specs[name].close(resource)
            except Exception:  # closing must go on for the rest
                pass
