"""ResourceFactory: the base class of custom resources (also ``kailash.resources.ResourceFactory``)."""

from __future__ import annotations

import inspect
from typing import Any


class ResourceFactory:
    """Subclass it and implement ``async create()``; override ``cleanup`` and ``health_check`` if needed.

    The arguments a factory is constructed with are recorded (``init_args``,
    ``init_kwargs``) so that a compiled module can construct it again.
    """

    init_args: tuple[Any, ...]
    init_kwargs: dict[str, Any]

    def __new__(cls, *args: Any, **kwargs: Any) -> ResourceFactory:
        instance = super().__new__(cls)
        instance.init_args = args
        instance.init_kwargs = dict(kwargs)
        return instance

    async def create(self) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must implement async create()")

    async def cleanup(self, resource: Any) -> None:
        """Close the resource: awaits its ``aclose()`` or ``close()`` when it has one."""
        await close_object(resource)

    async def health_check(self, resource: Any) -> bool:
        """Called once after ``create()``; returning False fails the resource's first use."""
        return True


async def close_object(resource: Any) -> None:
    """``await resource.aclose()`` or ``resource.close()`` (awaited when it returns an awaitable)."""
    close = getattr(resource, "aclose", None) or getattr(resource, "close", None)
    if close is None:
        return
    outcome = close()
    if inspect.isawaitable(outcome):
        await outcome
