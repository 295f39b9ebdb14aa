"""Resource specs with real values, for running a workflow in process.

A compiled module reads secrets from the environment. In process there is no need: the
builder recorded the real values, so the runtime hands the generated ``run()`` specs that
carry them (``run_resources``), or a registry's shared live resources, and gives secret
resource-node parameters their values (``run_secrets``).

The specs are made once per workflow content and kept for the process, as a compiled
module's ``RESOURCES`` is: the data of a memory cache lasts from one run to the next.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import kailash_rt as rt

from ..codegen.resource_node import node_secrets
from ..ir import ResourceIR, WorkflowIR

if TYPE_CHECKING:
    from ..workflow import Workflow
    from . import ResourceRegistry

_KINDS = {"postgres": rt.postgres, "http": rt.http_client, "cache": rt.cache}

# Per workflow content (its IR hash): the named specs of its declared resources, and the
# values of its secret resource-node parameters.
_DECLARED: dict[str, dict[str, Any]] = {}
_SECRETS: dict[str, dict[str, str]] = {}


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
    workflow: Workflow | WorkflowIR, registry: ResourceRegistry | None = None, *, key: str | None = None
) -> rt.Resources | rt.SharedResources | None:
    """The ``resources=`` argument for the generated ``run()`` when running in process.

    Specs with the real values the builder recorded (secrets included, never via the
    environment), created and closed per run; with a registry, the registry's shared live
    resources take precedence by name (the caller closes them with ``await registry.aclose()``).
    ``key`` is the workflow's content hash, when the caller has it already.

    The specs of ``with_*`` declarations are made once per workflow content, so state they
    hold (the data of a memory cache) lasts for the process, as with the compiled module.
    A factory resource uses the builder's live factory object of this workflow.
    """
    ir = workflow if isinstance(workflow, WorkflowIR) else workflow.ir
    shared = registry.shared() if registry is not None else None
    if not ir.resources:
        return shared
    key = key if key is not None else ir.content_hash()
    declared = _DECLARED.get(key)
    if declared is None:
        made = {r.name: spec_for(r) for r in ir.resources if r.kind != "factory"}
        declared = _DECLARED[key] = rt.Resources(**made).specs
    builder_registry = None if isinstance(workflow, WorkflowIR) else workflow.builder.get_resource_registry()
    live: dict[str, Any] = {}
    for resource in ir.resources:
        factory = builder_registry.get_factory(resource.name) if builder_registry is not None else None
        if resource.kind == "factory" and factory is not None:
            live[resource.name] = spec_for(resource, factory)
    resources = rt.Resources(**live)
    resources.specs = {**declared, **resources.specs}
    return resources.sharing(shared) if shared is not None else resources


def run_secrets(workflow: Workflow | WorkflowIR, *, key: str | None = None) -> dict[str, str]:
    """The real values of the workflow's secret resource-node parameters, by variable name.

    The generated module reads them with ``rt.env(NAME).read()``; the in-process runtime
    passes them with ``kailash_rt._settings.given_secrets`` instead of the environment.
    """
    ir = workflow if isinstance(workflow, WorkflowIR) else workflow.ir
    key = key if key is not None else ir.content_hash()
    found = _SECRETS.get(key)
    if found is None:
        found = _SECRETS[key] = node_secrets(ir.nodes)
    return found


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
