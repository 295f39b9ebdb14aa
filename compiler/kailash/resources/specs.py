"""Resource specs with real values, for running a workflow in process.

A compiled module reads secrets from the environment. In process there is no need: the
builder recorded the real values (in the IR's ``EnvRef``s), so the runtime hands the
generated ``run()`` specs that carry them (``run_resources``), or a registry's shared live
resources, and gives secret resource-node parameters their values (``run_secrets``). A
secret without a value (an IR read from JSON) is read from the environment, as the
compiled module does.

The specs are made once per workflow content and kept while the workflow is one of the
most recently run, as a compiled module's ``RESOURCES`` is: the data of a memory cache
lasts from one run to the next.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import kailash_rt as rt

from .._lru import LRU, WORKFLOWS_KEPT
from ..ir import EnvRef, ResourceIR, WorkflowIR

if TYPE_CHECKING:
    from ..workflow import Workflow
    from . import ResourceRegistry

_KINDS = {"postgres": rt.postgres, "http": rt.http_client, "cache": rt.cache}
_ENV_TYPES = {"str": str, "int": int, "float": float}

# Per workflow content and secret values: the named specs of its declared resources.
_DECLARED: LRU[tuple[str, tuple[tuple[str, Any], ...]], dict[str, Any]] = LRU(WORKFLOWS_KEPT)


def real_value(value: Any) -> Any:
    """A setting with each ``EnvRef`` replaced by its real value, or by ``rt.env`` when it has none."""
    if isinstance(value, EnvRef):
        return value.value if value.value is not None else rt.env(value.variable, _ENV_TYPES[value.kind])
    if isinstance(value, dict):
        return {key: real_value(item) for key, item in value.items()}
    if isinstance(value, list):
        return [real_value(item) for item in value]
    if isinstance(value, tuple):
        return tuple(real_value(item) for item in value)
    return value


def spec_for(resource: ResourceIR, live_factory: Any = None) -> Any:
    """The ``kailash_rt`` spec of one declared resource, with its real setting values."""
    make = _KINDS.get(resource.kind)
    if make is not None:
        return make(**real_value(resource.settings))
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

    The specs of ``with_*`` declarations are made once per workflow content and secret
    values, so state they hold (the data of a memory cache) lasts from run to run, as with the
    compiled module, while the workflow is one of the ``WORKFLOWS_KEPT`` most recently run.
    A factory resource uses the builder's live factory object of this workflow.
    """
    ir = workflow if isinstance(workflow, WorkflowIR) else workflow.ir
    shared = registry.shared() if registry is not None else None
    if not ir.resources:
        return shared
    key = key if key is not None else ir.content_hash()
    secrets = ir.resource_secret_values()
    declared = _DECLARED.get((key, secrets))
    if declared is None:
        made = {r.name: spec_for(r) for r in ir.resources if r.kind != "factory"}
        declared = _DECLARED[(key, secrets)] = rt.Resources(**made).specs
    builder_registry = None if isinstance(workflow, WorkflowIR) else workflow.builder.get_resource_registry()
    live: dict[str, Any] = {}
    for resource in ir.resources:
        factory = builder_registry.get_factory(resource.name) if builder_registry is not None else None
        if resource.kind == "factory" and factory is not None:
            live[resource.name] = spec_for(resource, factory)
    resources = rt.Resources(**live)
    resources.specs = {**declared, **resources.specs}
    return resources.sharing(shared) if shared is not None else resources


def run_secrets(workflow: Workflow | WorkflowIR) -> dict[str, Any]:
    """The real values of the workflow's secrets, by variable name.

    The generated module reads a secret resource-node parameter with ``rt.env(NAME).read()``;
    the in-process runtime passes these values with ``kailash_rt._settings.given_secrets``
    instead of the environment.
    """
    ir = workflow if isinstance(workflow, WorkflowIR) else workflow.ir
    return ir.secret_values()


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
