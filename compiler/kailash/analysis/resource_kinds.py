"""Planner of the ``resource`` node kind: one call of a method on a declared resource.

``add_resource_node("q", "main_db", "fetch", {"query": "SELECT ..."})`` is planned as the
operation ``fetch`` of resource ``main_db`` with its arguments; inputs connected to the node
are passed as keyword arguments too (over ``params``). A secret parameter
(``kailash_rt._secrets`` decides) is an ``EnvRef`` in the IR: a target reads it from the
environment variable ``<NODE>_PARAMS_<PATH>`` when the node runs, and the in-process runtime
gives it the real value (``WorkflowIR.secret_values``).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from ..errors import WorkflowError
from ..ir import EnvRef, NodeIR, env_refs
from ..settings import ResourceNodeSettings, settings_of
from .plan import NodePlan, NodeScope, Param, PatternCall, Shape


def plan_resource(scope: NodeScope) -> NodePlan:
    node = scope.node
    settings = settings_of(node, ResourceNodeSettings)
    resource, operation, params = settings.resource, settings.operation, settings.params
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
    arguments = tuple((key, value) for key, value in params.items() if key not in connected)
    return NodePlan(
        node=node,
        ident=scope.ident,
        params=(*scope.connected, Param(resource, "resource")),
        shape=Shape.RESOURCE,
        # The operation's arguments: settings (secrets as EnvRef), then the connected inputs by name.
        pattern=PatternCall(operation, arguments, of=resource),
        signature=tuple(connected),
    )


def node_secret_variables(nodes: Iterable[NodeIR]) -> Iterator[tuple[NodeIR, tuple[str, ...], EnvRef]]:
    """The secret parameters of resource nodes: node, parameter path, and its ``EnvRef``."""
    for node in nodes:
        if node.kind == "resource":
            for path, ref in env_refs(settings_of(node, ResourceNodeSettings).params):
                yield node, path, ref
