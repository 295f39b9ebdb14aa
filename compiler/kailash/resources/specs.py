"""Resource specs with real values, for running a workflow in process.

A compiled module reads secrets from the environment. In process there is no need: the
builder recorded the real values, so the runtime hands the generated ``run()`` specs that
carry them (``run_resources``), or a registry's shared live resources.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import kailash_rt as rt

from ..ir import ResourceIR, WorkflowIR

if TYPE_CHECKING:
    from ..workflow import Workflow
    from . import ResourceRegistry

_KINDS = {"postgres": rt.postgres, "http": rt.http_client, "cache": rt.cache}


def spec_for(resource: ResourceIR, live_factory: Any = None) -> Any:
    """The ``kailash_rt`` spec of one declared resource, with its real setting values."""
    make = _KINDS.get(resource.kind)
    if make is not None:
        return make(**resource.settings)
    if resource.kind == "factory":
        if live_factory is not None:
            return rt.factory(live_factory)
        return None  # rebuilt by the module itself, from its class and arguments
    raise ValueError(f"resource {resource.name!r}: unknown kind {resource.kind!r}")


def run_resources(
    workflow: Workflow | WorkflowIR, registry: ResourceRegistry | None = None
) -> rt.Resources | rt.SharedResources | None:
    """The ``resources=`` argument for the generated ``run()`` when running in process.

    Specs with the real values the builder recorded (secrets included, never via the
    environment), created and closed per run; with a registry, the registry's shared live
    resources take precedence by name (the caller closes them with ``await registry.aclose()``).
    """
    ir = workflow if isinstance(workflow, WorkflowIR) else workflow.ir
    shared = registry.shared() if registry is not None else None
    if not ir.resources:
        return shared
    builder_registry = None if isinstance(workflow, WorkflowIR) else workflow.builder.get_resource_registry()
    specs: dict[str, Any] = {}
    for resource in ir.resources:
        live = builder_registry.get_factory(resource.name) if builder_registry is not None else None
        spec = spec_for(resource, live)
        if spec is not None:
            specs[resource.name] = spec
    resources = rt.Resources(**specs)
    return resources.sharing(shared) if shared is not None else resources


def registry_specs(registry: ResourceRegistry) -> dict[str, Any]:
    """Specs of every resource a registry knows: declarations and registered factories."""
    specs: dict[str, Any] = {}
    for name in registry.list_resources():
        factory = registry.get_factory(name)
        declaration = registry.get_declaration(name)
        if factory is not None:
            specs[name] = rt.factory(factory)
        elif declaration is not None:
            specs[name] = spec_for(declaration)
    return specs
