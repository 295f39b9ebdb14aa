"""Planner of the ``resource`` node kind: one call of a method on a declared resource.

``add_resource_node("q", "main_db", "fetch", {"query": "SELECT ..."})`` becomes::

    async def q(main_db: Any) -> Any:
        value = main_db.fetch(query="SELECT ...")
        return await rt.resource_output("main_db", "fetch", value)

Inputs connected to the node are passed as keyword arguments too (over ``params``).

A secret parameter (a value whose name, or the name of a key above it, looks secret, or
a URL carrying a password or an API key) is not written: the node reads it when it runs,
``headers={"Authorization": rt.env("Q_PARAMS_HEADERS_AUTHORIZATION").read()}``, from the
environment variable ``<NODE>_PARAMS_<PATH>``; the in-process runtime gives it the real
value (``node_secrets``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

from kailash_rt._settings import env_name, holds_secret

from ..errors import WorkflowError
from ..ir import NodeIR
from ..python_names import is_keyword_argument
from .analysis import NodePlan, NodeScope, Param, planner
from .literals import py_literal, py_string


@planner("resource")
def plan_resource(scope: NodeScope) -> NodePlan:
    node = scope.node
    resource: str = node.settings["resource"]
    operation: str = node.settings["operation"]
    params: dict[str, object] = node.settings["params"]
    connected = [p.name for p in scope.connected]
    for name in (resource, *connected):
        if name == "rt":
            raise WorkflowError(
                "a resource or input named 'rt' would hide the runtime module the node calls",
                location=node.location,
                node_id=node.node_id,
                hint="rename it",
            )
    if resource in connected:
        raise WorkflowError(
            f"input {resource!r} is connected, but that is the name of the resource the node uses",
            location=node.location,
            node_id=node.node_id,
            hint="connect the value to an input of another name",
        )
    read = _secret_read(node.node_id)
    arguments = [(key, secret_literal((key,), value, read)) for key, value in params.items() if key not in connected]
    arguments += [(name, name) for name in connected]
    plain = [f"{key}={value}" for key, value in arguments if is_keyword_argument(key)]
    other = [f"{py_string(key)}: {value}" for key, value in arguments if not is_keyword_argument(key)]
    if other:
        plain.append("**{" + ", ".join(other) + "}")
    return NodePlan(
        node=node,
        ident=scope.ident,
        params=(*scope.connected, Param(resource, "resource")),
        template="node_resource.py.j2",
        context={
            "call": f"{resource}.{operation}({', '.join(plain)})",
            "resource": resource,
            "operation": operation,
        },
    )


def secret_literal(path: tuple[str, ...], value: Any, secret: Callable[[tuple[str, ...]], str]) -> str:
    """``value`` as source text, each secret string in it replaced by ``secret(path)``."""
    if holds_secret(path, value):
        return secret(path)
    if isinstance(value, dict):
        items = [f"{py_literal(k)}: {secret_literal((*path, str(k)), v, secret)}" for k, v in value.items()]
        return "{" + ", ".join(items) + "}"
    if isinstance(value, (list, tuple)):
        inner = [secret_literal((*path, str(i)), v, secret) for i, v in enumerate(value)]
        if isinstance(value, tuple):
            return f"({inner[0]},)" if len(inner) == 1 else "(" + ", ".join(inner) + ")"
        return "[" + ", ".join(inner) + "]"
    return py_literal(value)


def param_variable(node_id: str, path: tuple[str, ...]) -> str:
    """The environment variable of a secret parameter: ``<NODE>_PARAMS_<PATH>``."""
    return env_name(node_id, "params", *path)


def _secret_read(node_id: str) -> Callable[[tuple[str, ...]], str]:
    return lambda path: f"rt.env({py_string(param_variable(node_id, path))}).read()"


def _secrets(path: tuple[str, ...], value: Any) -> Iterator[tuple[tuple[str, ...], str]]:
    if holds_secret(path, value):
        yield path, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _secrets((*path, str(key)), item)
    elif isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            yield from _secrets((*path, str(i)), item)


def node_secrets(nodes: Iterable[NodeIR]) -> dict[str, str]:
    """The secret parameters of resource nodes, by environment variable: their real values."""
    found: dict[str, str] = {}
    for node in nodes:
        if node.kind != "resource":
            continue
        for key, value in node.settings["params"].items():
            for path, secret in _secrets((key,), value):
                found[param_variable(node.node_id, path)] = secret
    return found
