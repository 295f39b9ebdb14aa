"""Code written for the reference SDK keeps its import lines: its module paths are thin aliases
of the guide's."""

from __future__ import annotations

import importlib
import json
import textwrap
from pathlib import Path

import kailash.errors
import kailash.resources
import kailash.workflow
import kailash_rt as rt
import pytest

from .conftest import run_cli, run_generated

ALIASES = [
    ("kailash.workflow.async_builder", "AsyncWorkflowBuilder", kailash.workflow.AsyncWorkflowBuilder),
    ("kailash.workflow.async_builder", "RetryPolicy", kailash.workflow.RetryPolicy),
    ("kailash.workflow.async_builder", "ErrorHandler", kailash.workflow.ErrorHandler),
    ("kailash.workflow.async_patterns", "AsyncPatterns", kailash.workflow.AsyncPatterns),
    ("kailash.resources.registry", "ResourceRegistry", kailash.resources.ResourceRegistry),
    ("kailash.resources.registry", "ResourceFactory", kailash.resources.ResourceFactory),
    ("kailash.resources.factory", "ResourceFactory", kailash.resources.ResourceFactory),
    ("kailash.sdk_exceptions", "WorkflowValidationError", kailash.errors.WorkflowError),
    ("kailash.sdk_exceptions", "CircuitBreakerOpenError", rt.CircuitOpenError),
]


@pytest.mark.parametrize(("module", "name", "same_as"), ALIASES)
def test_the_reference_path_names_the_guides_object(module: str, name: str, same_as: object) -> None:
    assert getattr(importlib.import_module(module), name) is same_as


def test_an_unknown_reference_name_fails_loudly() -> None:
    assert not hasattr(importlib.import_module("kailash.sdk_exceptions"), "KailashException")


REFERENCE_WORKFLOW = textwrap.dedent(
    """
    from kailash.resources.factory import ResourceFactory
    from kailash.sdk_exceptions import WorkflowValidationError
    from kailash.workflow.async_builder import AsyncWorkflowBuilder, RetryPolicy
    from kailash.workflow.async_patterns import AsyncPatterns


    class Counter(ResourceFactory):
        async def create(self):
            return {"start": 40}


    builder = AsyncWorkflowBuilder("migrated")
    builder.require_resource("counter", Counter())
    builder.add_async_code(
        "count", "result = {'n': counter['start'] + 1}", retry_policy=RetryPolicy(max_retries=1, base_delay=0.01)
    )
    AsyncPatterns.retry_with_backoff(builder, "more", "result = {'n': n + 1}", max_retries=1, initial_backoff=0.01)
    builder.add_connection("count", "n", "more", "n")
    try:
        builder.add_async_code("count", "result = 0")
    except WorkflowValidationError:
        pass
    else:
        raise AssertionError("a duplicate node id was accepted")
    """
)


def test_a_workflow_written_for_the_reference_sdk_compiles_and_runs(tmp_path: Path) -> None:
    (tmp_path / "migrated.py").write_text(REFERENCE_WORKFLOW)
    done = run_cli("migrated.py", "-o", "out", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    ran = run_generated(tmp_path / "out" / "migrated.py")
    assert ran.returncode == 0, ran.stderr
    result = json.loads(ran.stdout)
    assert result["errors"] == {} and result["results"]["count"] == {"n": 41}
    assert result["results"]["more"]["n"] == 42 and result["results"]["more"]["total_attempts"] == 1
