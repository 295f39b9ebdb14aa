"""LocalRuntime: the synchronous runtime of the guide's migration section."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

from ..resources import ResourceRegistry
from ..workflow import Workflow
from .async_local import AsyncLocalRuntime


class LocalRuntime:
    """Runs a workflow to completion from synchronous code (not from inside an event loop)."""

    def __init__(self, resource_registry: ResourceRegistry | None = None, *, raise_on_error: bool = False) -> None:
        self._runtime = AsyncLocalRuntime(resource_registry=resource_registry, raise_on_error=raise_on_error)

    def execute(self, workflow: Workflow, parameters: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """``{"status": "success" | "failed", "results": {...}, "errors": {...}}``."""
        result = asyncio.run(self._runtime.execute_workflow_async(workflow, parameters))
        return {"status": "failed" if result["errors"] else "success", **result}
