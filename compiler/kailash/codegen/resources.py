"""The module's resource block: ``RESOURCES = rt.Resources(...)`` and what it needs."""

from __future__ import annotations

from dataclasses import dataclass

from ..ir import ResourceIR


@dataclass(frozen=True)
class ResourceBlock:
    source: str
    imports: tuple[str, ...] = ()
    env_vars: tuple[str, ...] = ()
    summary: tuple[str, ...] = ()


def resource_block(resources: tuple[ResourceIR, ...], workflow_name: str) -> ResourceBlock:
    """Declared resources are listed by name only until their connection code lands."""
    return ResourceBlock(source="", summary=tuple(f"{r.name} ({r.kind})" for r in resources))
