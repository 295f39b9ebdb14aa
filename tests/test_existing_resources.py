"""The guide's "Using with Existing Resources": a registry shared between builders, and
``get_resource("...")`` checked against what is declared."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

from kailash.codegen import compile_ir
from kailash.resources import ResourceRegistry
from kailash.runtime import AsyncLocalRuntime
from kailash.workflow import AsyncWorkflowBuilder


def get_existing_registry() -> ResourceRegistry:
    registry = ResourceRegistry()
    (AsyncWorkflowBuilder("setup", resource_registry=registry).with_cache("shared_cache", backend="memory"))
    return registry


def test_a_resource_of_an_existing_registry_is_usable_by_name() -> None:
    existing_registry = get_existing_registry()
    builder = AsyncWorkflowBuilder(resource_registry=existing_registry)
    builder.with_cache("new_cache", host="cache2.prod.com")
    builder.add_async_code(
        "remember",
        """
await shared_cache.set("greeting", "hello")
result = {"value": (await shared_cache.get("greeting")).decode()}
""",
    )
    workflow = builder.build()
    assert [r.name for r in workflow.ir.resources] == ["new_cache", "shared_cache"]
    result = asyncio.run(AsyncLocalRuntime(resource_registry=existing_registry).execute_workflow_async(workflow, {}))
    assert result == {"results": {"remember": {"value": "hello"}}, "errors": {}}


def test_registry_resources_no_node_uses_stay_out_of_the_module() -> None:
    builder = AsyncWorkflowBuilder("plain", resource_registry=get_existing_registry())
    builder.add_async_code("only", "result = 1")
    assert builder.build().ir.resources == ()


def test_get_resource_of_an_undeclared_name_is_a_compile_error(tmp_path: Path) -> None:
    source = tmp_path / "wf.py"
    source.write_text(
        "from kailash.workflow import AsyncWorkflowBuilder\n"
        "b = AsyncWorkflowBuilder('lookup').with_cache('cache', backend='memory')\n"
        "b.add_async_code('read', 'x = 1\\nstore = await get_resource(\"cahce\")\\nresult = x')\n"
    )
    done = subprocess.run(
        [sys.executable, "-m", "kailash.cli", str(source), "-o", str(tmp_path / "out")],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=False,
    )
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        "error: wf.py:3: node 'read': get_resource('cahce'): no resource of that name is declared",
        '    code line 2 | store = await get_resource("cahce")',
        " " * len("    code line 2 | store = await ") + "^",
        "hint: declare it with with_database/with_http_client/with_cache/require_resource (declared: cache)",
    ]
    assert not (tmp_path / "out").exists()


def test_get_resource_of_a_declared_name_compiles() -> None:
    builder = AsyncWorkflowBuilder("ok").with_cache("cache", backend="memory")
    builder.add_async_code("read", 'store = await get_resource("cache")\nresult = await store.get("k")')
    assert "r.get_resource" in compile_ir(builder.build().ir).source
