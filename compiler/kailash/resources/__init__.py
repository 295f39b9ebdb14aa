"""Resource descriptions: ResourceFactory (user-defined resources) and ResourceRegistry.

These describe resources; nothing here connects until a run first uses one. A compiled
module creates its resources through ``kailash_rt``; a registry handed to
``AsyncLocalRuntime(resource_registry=...)`` shares live resources across runs, and the
caller closes them with ``await registry.aclose()``.

Every setting of a ``with_*`` declaration is written into the generated module as a
literal, so a value that cannot be (an ``ssl.SSLContext``, a client object) is refused at
the ``with_*`` call (``check_writable``) rather than working in process only; so is a
setting the client library does not take or a value of the wrong type (``checks``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kailash_rt._settings import env_name

from .._location import caller_location
from ..errors import WorkflowError
from ..literal_values import first_unwritable
from ..python_names import normal_form
from .checks import check_setting_names, check_setting_values

if TYPE_CHECKING:
    from kailash_rt import ResourceFactory, SharedResources

    from ..ir import Location, ResourceIR


def __getattr__(name: str) -> Any:
    # kailash_rt's resources import asyncio (a fifth of the compiler's start-up): only a run needs them.
    if name == "ResourceFactory":
        from kailash_rt import ResourceFactory

        return ResourceFactory
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class ResourceRegistry:
    """What resources exist, by name: declarations from ``with_*`` and registered factories."""

    def __init__(self) -> None:
        self._factories: dict[str, Any] = {}
        self._factory_locations: dict[str, Location] = {}
        self._declarations: dict[str, ResourceIR] = {}
        self._shared: SharedResources | None = None

    def __repr__(self) -> str:
        return f"ResourceRegistry({', '.join(self.list_resources()) or 'empty'})"

    def register_factory(self, name: str, factory: Any) -> None:
        name = _normal(name)
        self._factories[name] = factory
        self._factory_locations[name] = caller_location()

    def declared_resources(self) -> list[ResourceIR]:
        """Everything this registry knows as IR: ``with_*`` declarations, then registered factories."""
        from ..ir import ResourceIR
        from .factories import describe_factory

        found = dict(self._declarations)
        for name, factory in self._factories.items():
            if name not in found:
                location = self._factory_locations[name]
                found[name] = ResourceIR(name, "factory", describe_factory(name, factory, location), location)
        return list(found.values())

    def register_declaration(self, resource: ResourceIR) -> None:
        check_setting_names(resource)
        check_writable(resource)
        check_setting_values(resource)
        self._declarations[resource.name] = resource

    def has_factory(self, name: str) -> bool:
        """Is a resource of this name declared or registered?"""
        return _normal(name) in self._factories or _normal(name) in self._declarations

    def get_factory(self, name: str) -> Any:
        return self._factories.get(_normal(name))

    def get_declaration(self, name: str) -> ResourceIR | None:
        return self._declarations.get(_normal(name))

    def list_resources(self) -> list[str]:
        return sorted({*self._factories, *self._declarations})

    # -- live resources shared across runs --------------------------------------------
    def shared(self) -> SharedResources:
        """The live resources of this registry: created on first use by any run, kept until ``aclose()``."""
        if self._shared is None:
            from kailash_rt import SharedResources

            from .specs import registry_specs

            self._shared = SharedResources(registry_specs(self))
        return self._shared

    async def get_resource(self, name: str) -> Any:
        """The live resource ``name``, created on first use."""
        return await self.shared().get(_normal(name))

    async def aclose(self) -> None:
        """Close every live resource this registry created."""
        shared, self._shared = self._shared, None
        if shared is not None:
            await shared.aclose()

    close_all = aclose


def _normal(name: str) -> str:
    """Resources are named as node code reads them: in normal form (see python_names.normal_form)."""
    return normal_form(name) if isinstance(name, str) else name


def check_writable(resource: ResourceIR) -> None:
    """Refuse a setting a compiled module cannot hold as a literal, naming it and the call.

    (A factory's arguments are checked when it is described: ``describe_factory``.)
    """
    if resource.kind == "factory":
        return
    found = next(filter(None, (first_unwritable(v, (k,)) for k, v in resource.settings.items())), None)
    if found is None:
        return
    setting = ".".join(found.path)
    variable = env_name(resource.name, *found.path)
    if resource.kind == "postgres" and found.path == ("ssl",):
        hint = (
            'use ssl="require" (encrypted) or ssl="verify-full" (server certificate checked; CA file from'
            f" PGSSLROOTCERT), which {variable} can override from the environment; for an SSLContext of your own,"
            " create the pool in a ResourceFactory's create() and declare it with require_resource()"
        )
    else:
        hint = (
            "pass plain values (str, int, float, bool, None, and lists and dicts of them), which the environment"
            f" can override ({variable}); build richer objects in a ResourceFactory's create() and declare it"
            " with require_resource()"
        )
    raise WorkflowError(
        f"resource {resource.name!r}: setting {setting!r} {found.reason}, which cannot be written into"
        " a compiled module (and the in-process runtime runs that same module)",
        location=resource.location,
        hint=hint,
    )


__all__ = ["ResourceFactory", "ResourceRegistry", "check_writable"]
