"""The guide's "Migrating from WorkflowBuilder" section: both halves work as written."""

from __future__ import annotations

import pytest
from kailash.errors import WorkflowError
from kailash.runtime.local import LocalRuntime
from kailash.workflow import AsyncWorkflowBuilder
from kailash.workflow.builder import WorkflowBuilder


def test_before_workflow_builder_with_python_code_node_runs_with_local_runtime() -> None:
    builder = WorkflowBuilder()
    builder.add_node("PythonCodeNode", "process", {"code": "result = process_data()"})
    result = LocalRuntime().execute(builder.build(), {"process_data": lambda: {"rows": 3}})
    assert result == {"status": "success", "results": {"process": {"rows": 3}}, "errors": {}}


def test_after_async_builder_runs_the_same_node() -> None:
    async def process_data() -> dict[str, int]:
        return {"rows": 3}

    builder = AsyncWorkflowBuilder()
    builder.add_async_code("process", "result = await process_data()")
    result = LocalRuntime().execute(builder.build(), {"process_data": process_data})
    assert result["status"] == "success"
    assert result["results"] == {"process": {"rows": 3}}


def test_other_node_types_are_a_clear_error() -> None:
    builder = WorkflowBuilder()
    with pytest.raises(WorkflowError) as error:
        builder.add_node("HTTPRequestNode", "fetch", {"url": "https://example.com"})
    message = str(error.value)
    assert "test_migration.py:" in message
    assert "node 'fetch': node type 'HTTPRequestNode' cannot be compiled" in message
    assert "hint: use one of PythonCodeNode, AsyncPythonCodeNode" in message
