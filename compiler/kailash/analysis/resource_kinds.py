"""Planner of the ``resource`` node kind: one call of a method on a declared resource.

``add_resource_node("q", "main_db", "fetch", {"query": "SELECT ..."})`` becomes::

    async def q(main_db: Any) -> Any:
        value = main_db.fetch(query="SELECT ...")
        return await rt.resource_output("main_db", "fetch", value)

Inputs connected to the node are passed as keyword arguments too (over ``params``).

A secret parameter (``kailash_rt._secrets`` decides; the IR holds it as an ``EnvRef``) is
not written: the node reads it when it runs,
``headers={"Authorization": rt.env("Q_PARAMS_HEADERS_AUTHORIZATION").read()}``, from the
environment variable ``<NODE>_PARAMS_<PATH>``; the in-process runtime gives it the real
value (``WorkflowIR.secret_values``).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from ..errors import WorkflowError
from ..ir import EnvRef, NodeIR, env_refs
from ..python_names import is_keyword_argument
from ..targets.asyncio.literals import env_call, py_literal, py_string
from .plan import NodePlan, NodeScope, Param


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
    arguments = [
        (key, py_literal(value, secret=_read_when_run)) for key, value in params.items() if key not in connected
    ]
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


def _read_when_run(ref: EnvRef) -> str:
    return f"{env_call(ref)}.read()"


def node_secret_variables(nodes: Iterable[NodeIR]) -> Iterator[tuple[NodeIR, tuple[str, ...], EnvRef]]:
    """The secret parameters of resource nodes: node, parameter path, and its ``EnvRef``."""
    for node in nodes:
        if node.kind == "resource":
            for path, ref in env_refs(node.settings["params"]):
                yield node, path, ref
