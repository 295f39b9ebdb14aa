"""The module's resource block: ``RESOURCES = rt.Resources(...)`` and what it needs.

Every declared setting is written as a literal, except secrets: the IR holds each as an
``EnvRef`` (see ``kailash.ir``), written as ``rt.env("<RESOURCE>_<SETTING>")`` (with the
declared type when it is not a string: ``rt.env("SVC_PIN", int)``) and read when the
resource is first used. The block lists those variables, and those of secret
resource-node parameters, for the module docstring; two secrets that would share one
variable are an error.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from kailash_rt._secrets import is_secret_name
from kailash_rt._settings import env_name

from ..errors import WorkflowError
from ..ir import EnvRef, NodeIR, ResourceIR, env_refs
from ..python_names import is_keyword_argument
from ..targets.asyncio.literals import env_call, py_literal, py_string
from .resource_kinds import node_secret_variables

_CALLS = {"postgres": "rt.postgres", "http": "rt.http_client", "cache": "rt.cache"}
_MEMORY_IGNORED = ("host", "port", "db")


@dataclass(frozen=True)
class ResourceBlock:
    source: str
    imports: tuple[str, ...] = ()
    env_vars: tuple[str, ...] = ()
    summary: tuple[str, ...] = ()


def resource_block(
    resources: tuple[ResourceIR, ...], workflow_name: str, nodes: Iterable[NodeIR] = ()
) -> ResourceBlock:
    """The statements declaring ``resources``, their imports, secret variables and one-line summary.

    ``nodes``: the workflow's nodes, whose secret resource-node parameters are listed too.
    """
    env_vars = _secret_variables(resources, nodes)
    if not resources:
        return ResourceBlock(source="", env_vars=tuple(sorted(env_vars)))
    imports: set[str] = set()
    classes: dict[str, str] = {}  # class name -> its source, or "" when imported
    entries: list[tuple[str, str]] = []
    for resource in resources:
        renderer = _Renderer(resource)
        if resource.kind == "factory":
            call = renderer.factory(classes, imports)
        elif resource.kind in _CALLS:
            settings = dict(resource.settings)
            if resource.kind == "cache" and settings.get("backend") == "memory":
                for key in _MEMORY_IGNORED:
                    settings.pop(key, None)
            call = f"{_CALLS[resource.kind]}({renderer.keywords(settings)})"
        else:
            raise WorkflowError(
                f"resource {resource.name!r}: kind {resource.kind!r} cannot be compiled", location=resource.location
            )
        entries.append((resource.name, call))
    parts = [source for source in classes.values() if source]
    example = _override_example(resources)
    declaration = (
        f"# Created on first use in a run and closed when the run ends. Every setting can be overridden\n"
        f"# from the environment as <RESOURCE>_<SETTING> (e.g. {example}).\n"
        f"RESOURCES = rt.Resources({_keywords(entries)})\n"
    )
    parts.append(declaration)
    return ResourceBlock(
        source="\n\n".join(part.rstrip("\n") + "\n" for part in parts),
        imports=tuple(sorted(imports)),
        env_vars=tuple(sorted(env_vars)),
        summary=tuple(_summary(r) for r in resources),
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


class _Renderer:
    """Settings of one resource as source text, secrets as ``rt.env(...)``."""

    def __init__(self, resource: ResourceIR) -> None:
        self.resource = resource

    def keywords(self, settings: dict[str, Any]) -> str:
        return _keywords([(key, self.value((key,), value)) for key, value in settings.items()])

    def value(self, path: tuple[str, ...], value: Any) -> str:
        try:
            return py_literal(value, secret=env_call)
        except TypeError:
            raise WorkflowError(
                f"resource {self.resource.name!r}: setting {'.'.join(path)!r} is a {type(value).__name__},"
                " which cannot be written into a compiled module",
                location=self.resource.location,
                hint="pass plain values: str, int, float, bool, None, and lists and dicts of them",
            ) from None

    def factory(self, classes: dict[str, str], imports: set[str]) -> str:
        settings = self.resource.settings
        class_name: str = settings["class_name"]
        source: str = settings["source"] or ""
        known = classes.get(class_name)
        if known is not None and known != source:
            raise WorkflowError(
                f"resource {self.resource.name!r}: another factory class is also named {class_name!r}",
                location=self.resource.location,
                hint="give the two factory classes different names",
            )
        classes[class_name] = source
        imports.update(settings["imports"])
        arguments = [class_name]
        arguments += [self.value((f"arg{i}",), a) for i, a in enumerate(settings["args"])]
        kwargs = self.keywords(settings["kwargs"])
        if kwargs:
            arguments.append(kwargs)
        return f"rt.factory({', '.join(arguments)})"


def _keywords(entries: list[tuple[str, str]]) -> str:
    """``a=1, b=2``; keys that cannot be keyword arguments go through ``**{...}``."""
    plain = [f"{key}={value}" for key, value in entries if is_keyword_argument(key)]
    other = [f"{py_string(key)}: {value}" for key, value in entries if not is_keyword_argument(key)]
    if other:
        plain.append("**{" + ", ".join(other) + "}")
    return ", ".join(plain)


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
