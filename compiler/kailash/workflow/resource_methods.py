"""The builder's resource methods beyond ``with_*``: custom factories and resource nodes.

``require_resource(name, factory)`` declares a resource made by a ``ResourceFactory``;
``add_resource_node(node_id, resource, operation, params)`` adds a node that calls
``operation(**params)`` on a declared resource.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, cast

from .._location import caller_location, caller_namespace
from ..checks import check_description
from ..errors import WorkflowError
from ..ir import Location, NodeIR, ResourceIR
from ..literal_values import first_unwritable
from ..python_names import python_identifier
from ..resources.factories import describe_factory

if TYPE_CHECKING:
    from ..resources import ResourceRegistry
    from .builder import AsyncWorkflowBuilder
    from .policies import AsyncRetryPolicy, ErrorHandler, RetryPolicy


class ResourceMethods:
    """Mixin of AsyncWorkflowBuilder."""

    _registry: ResourceRegistry

    def require_resource(self, name: str, factory: Any, description: str | None = None) -> AsyncWorkflowBuilder:
        """Declare resource ``name`` made by ``factory`` (a ResourceFactory object); returns the builder."""
        builder = cast("AsyncWorkflowBuilder", self)
        location = caller_location()
        normal = check_resource_name(name, location)
        check_description(description, location)
        settings = describe_factory(normal, factory, location, workflow_namespace=caller_namespace())
        builder.add_resource_ir(ResourceIR(normal, "factory", settings, location, description), spelled=name)
        self._registry.register_factory(normal, factory)
        return builder

    def add_resource_node(
        self,
        node_id: str,
        resource_name: str,
        operation: str,
        params: Mapping[str, Any] | None = None,
        *,
        timeout: float | None = None,
        max_concurrent_tasks: int | None = None,
        retry_policy: RetryPolicy | AsyncRetryPolicy | None = None,
        error_handler: ErrorHandler | None = None,
        description: str | None = None,
    ) -> str:
        """Add a node calling ``resource.operation(**params)``; its output is
        ``{"result": value, "resource": resource_name, "operation": operation}``."""
        builder = cast("AsyncWorkflowBuilder", self)
        location = caller_location()
        node = resource_node(
            builder,
            node_id,
            resource_name,
            operation,
            params,
            location,
            timeout=timeout,
            max_concurrent_tasks=max_concurrent_tasks,
            retry_policy=retry_policy,
            error_handler=error_handler,
            description=description,
        )
        return builder.add_node_ir(node)


def resource_node(
    builder: AsyncWorkflowBuilder,
    node_id: str,
    resource_name: str,
    operation: str,
    params: Mapping[str, Any] | None,
    location: Location,
    **policies: Any,
) -> NodeIR:
    resource_name = check_resource_name(resource_name, location)
    parts = [python_identifier(part) for part in (operation.split(".") if isinstance(operation, str) else [""])]
    if None in parts:
        raise WorkflowError(
            f"operation {operation!r} is not a method name",
            location=location,
            node_id=node_id,
            hint="name a method of the resource, such as 'fetch' for a database or 'get' for a cache",
        )
    operation = ".".join(cast("list[str]", parts))
    params = dict(params or {})
    for key, value in params.items():
        if not isinstance(key, str):
            raise WorkflowError(f"parameter name {key!r} is not a string", location=location, node_id=node_id)
        found = first_unwritable(value, (key,))
        if found is not None:
            raise WorkflowError(
                f"parameter {'.'.join(found.path)!r} {found.reason}, which a compiled module cannot hold",
                location=location,
                node_id=node_id,
                hint="pass plain values: str, int, float, bool, None, and lists and dicts of them",
            )
    settings = {"resource": resource_name, "operation": operation, "params": params}
    return builder.make_node(
        node_id, "resource", "", location, settings=settings, required_resources=[resource_name], **policies
    )


def check_resource_name(name: Any, location: Location) -> str:
    """The resource name in normal form (as node code reads it); a WorkflowError unless it is an identifier."""
    normal = python_identifier(name)
    if normal is None:
        raise WorkflowError(
            f"resource name {name!r} is not a Python identifier",
            location=location,
            hint="node code reads a resource by its name, so the name must be a valid variable name",
        )
    return normal
