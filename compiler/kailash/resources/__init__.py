"""Resource descriptions: ResourceFactory (user-defined resources) and ResourceRegistry.

These describe resources; nothing here connects to anything. The generated module (via
``kailash_rt``) creates resources lazily when a node first uses them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..ir import ResourceIR


class ResourceFactory:
    """Base class of custom resources: subclass it and implement ``async create()``.

    The arguments a factory was constructed with are recorded (``init_args``,
    ``init_kwargs``) so that a generated module can construct it again.
    """

    init_args: tuple[Any, ...]
    init_kwargs: dict[str, Any]

    def __new__(cls, *args: Any, **kwargs: Any) -> ResourceFactory:
        instance = super().__new__(cls)
        instance.init_args = args
        instance.init_kwargs = kwargs
        return instance

    async def create(self) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must implement async create()")

    async def cleanup(self, resource: Any) -> None:
        """Close the resource; by default awaits its ``close()`` when it has one."""
        close = getattr(resource, "close", None)
        if close is not None:
            outcome = close()
            if hasattr(outcome, "__await__"):
                await outcome

    async def health_check(self, resource: Any) -> bool:
        return True


class ResourceRegistry:
    """What resources exist, by name: declarations from ``with_*`` and registered factories."""

    def __init__(self) -> None:
        self._factories: dict[str, Any] = {}
        self._declarations: dict[str, ResourceIR] = {}

    def register_factory(self, name: str, factory: Any) -> None:
        self._factories[name] = factory

    def register_declaration(self, resource: ResourceIR) -> None:
        self._declarations[resource.name] = resource

    def has_factory(self, name: str) -> bool:
        return name in self._factories or name in self._declarations

    def get_factory(self, name: str) -> Any:
        return self._factories.get(name)

    def list_resources(self) -> list[str]:
        return sorted({*self._factories, *self._declarations})


__all__ = ["ResourceFactory", "ResourceRegistry"]
