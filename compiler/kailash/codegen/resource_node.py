"""Planner of the ``resource`` node kind: one call of a method on a declared resource.

``add_resource_node("q", "main_db", "fetch", {"query": "SELECT ..."})`` becomes::

    async def q(main_db: Any) -> Any:
        value = main_db.fetch(query="SELECT ...")
        return await rt.resource_output("main_db", "fetch", value)

Inputs connected to the node are passed as keyword arguments too (over ``params``).
"""

from __future__ import annotations

import keyword

from ..errors import WorkflowError
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
    arguments = [(key, py_literal(value)) for key, value in params.items() if key not in connected]
    arguments += [(name, name) for name in connected]
    plain = [f"{key}={value}" for key, value in arguments if key.isidentifier() and not keyword.iskeyword(key)]
    other = [
        f"{py_string(key)}: {value}" for key, value in arguments if not key.isidentifier() or keyword.iskeyword(key)
    ]
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
