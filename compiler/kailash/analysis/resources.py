"""The module's resource declarations, as facts a target writes out.

Every declared setting is a plain value, except secrets: the IR holds each as an ``EnvRef``
(see ``kailash.ir``), which a target reads from its environment variable when the resource
is first used. The block lists those variables, and those of secret resource-node
parameters, for the module docstring; two secrets that would share one variable are an error.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from kailash_rt._secrets import is_secret_name
from kailash_rt._settings import env_name

from ..errors import WorkflowError
from ..ir import EnvRef, NodeIR, ResourceIR, env_refs
from ..literal_values import first_unwritable
from .names import top_level_bindings
from .resource_kinds import node_secret_variables

KINDS = ("postgres", "http", "cache", "factory")
_MEMORY_IGNORED = ("host", "port", "db")


@dataclass(frozen=True)
class ResourceDeclaration:
    """One declared resource: its kind and settings (plain values and ``EnvRef`` secrets); a
    factory also has its class name and positional arguments."""

    name: str
    kind: str
    settings: tuple[tuple[str, Any], ...]
    class_name: str | None = None
    args: tuple[Any, ...] = ()


@dataclass(frozen=True)
class ResourceBlock:
    declarations: tuple[ResourceDeclaration, ...] = ()
    classes: tuple[str, ...] = ()  # source of the factory classes the workflow file defines
    imports: tuple[str, ...] = ()  # what those classes need
    env_vars: tuple[str, ...] = ()
    summary: tuple[str, ...] = ()
    override_example: str = ""  # a variable that overrides a plain setting, to show the rule

    @property
    def bindings(self) -> list[str]:
        """The names the declarations bind at module level: imports, classes, ``RESOURCES``."""
        if not self.declarations:
            return []
        return [*top_level_bindings("\n".join([*self.imports, *self.classes])), "RESOURCES"]


def resource_block(
    resources: tuple[ResourceIR, ...], workflow_name: str, nodes: Iterable[NodeIR] = ()
) -> ResourceBlock:
    """The declarations of ``resources``, their imports, secret variables and one-line summary.

    ``nodes``: the workflow's nodes, whose secret resource-node parameters are listed too.
    """
    env_vars = _secret_variables(resources, nodes)
    if not resources:
        return ResourceBlock(env_vars=tuple(sorted(env_vars)))
    imports: set[str] = set()
    classes: dict[str, str] = {}  # class name -> its source, or "" when imported
    declarations: list[ResourceDeclaration] = []
    for resource in resources:
        if resource.kind not in KINDS:
            raise WorkflowError(
                f"resource {resource.name!r}: kind {resource.kind!r} cannot be compiled", location=resource.location
            )
        _check_writable(resource)
        if resource.kind == "factory":
            declarations.append(_factory(resource, classes, imports))
            continue
        settings = dict(resource.settings)
        if resource.kind == "cache" and settings.get("backend") == "memory":
            for key in _MEMORY_IGNORED:
                settings.pop(key, None)
        declarations.append(ResourceDeclaration(resource.name, resource.kind, tuple(settings.items())))
    return ResourceBlock(
        declarations=tuple(declarations),
        classes=tuple(source for source in classes.values() if source),
        imports=tuple(sorted(imports)),
        env_vars=tuple(sorted(env_vars)),
        summary=tuple(_summary(r) for r in resources),
        override_example=_override_example(resources),
    )


def _check_writable(resource: ResourceIR) -> None:
    settings = resource.settings
    values = (
        settings.items()
        if resource.kind != "factory"
        else [
            *((f"arg{i}", a) for i, a in enumerate(settings["args"])),
            *settings["kwargs"].items(),
        ]
    )
    for key, value in values:
        found = first_unwritable(value, (str(key),))
        if found is not None:
            raise WorkflowError(
                f"resource {resource.name!r}: setting {'.'.join(found.path)!r} {found.reason},"
                " which cannot be written into a compiled module",
                location=resource.location,
                hint="pass plain values: str, int, float, bool, None, and lists and dicts of them",
            )


def _factory(resource: ResourceIR, classes: dict[str, str], imports: set[str]) -> ResourceDeclaration:
    settings = resource.settings
    class_name: str = settings["class_name"]
    source: str = settings["source"] or ""
    known = classes.get(class_name)
    if known is not None and known != source:
        raise WorkflowError(
            f"resource {resource.name!r}: another factory class is also named {class_name!r}",
            location=resource.location,
            hint="give the two factory classes different names",
        )
    classes[class_name] = source
    imports.update(settings["imports"])
    return ResourceDeclaration(
        resource.name, "factory", tuple(settings["kwargs"].items()), class_name, tuple(settings["args"])
    )


def _secret_variables(resources: Iterable[ResourceIR], nodes: Iterable[NodeIR]) -> set[str]:
    """The variables of every secret; two different secrets may not share one."""
    owners: dict[str, tuple[str, Any]] = {}
    found = [
        *(
            (f"setting {'.'.join(path)!r} of resource {r.name!r}", r.location, ref)
            for r in resources
            for path, ref in env_refs(r.settings)
        ),
        *(
            (f"parameter {'.'.join(path)!r} of node {n.node_id!r}", n.location, ref)
            for n, path, ref in node_secret_variables(nodes)
        ),
    ]
    for what, location, ref in found:
        first = owners.setdefault(ref.variable, (what, location))
        if first[0] != what:
            raise WorkflowError(
                f"the secrets {first[0]} (declared at {first[1]}) and {what} would both be read from"
                f" environment variable {ref.variable}",
                location=location,
                hint="rename the resource, node or key of one of them so that their variable names differ",
            )
    return set(owners)


def _override_example(resources: tuple[ResourceIR, ...]) -> str:
    """A variable that overrides a plain (not secret) setting, to show the naming rule."""
    for resource in resources:
        settings = resource.settings["kwargs"] if resource.kind == "factory" else resource.settings
        for key, value in settings.items():
            if is_secret_name(key) or isinstance(value, (EnvRef, dict, list, tuple)):
                continue
            return env_name(resource.name, key)
    return env_name(resources[0].name, "setting")


def _summary(resource: ResourceIR) -> str:
    describe: dict[str, Callable[[ResourceIR], str]] = {
        "cache": lambda r: f"{r.settings.get('backend', 'redis')} cache",
        "factory": lambda r: str(r.settings["class_name"]),
    }
    kind = describe[resource.kind](resource) if resource.kind in describe else resource.kind
    return f"{resource.name} ({kind})"
