"""The in-process runtime as a user holds it: ``async with`` closes the registry's resources,
``raise_on_error`` raises a node's exception, and ``result.exceptions`` holds each one."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap

import kailash_rt as rt
import pytest
from kailash.runtime import AsyncLocalRuntime, LocalRuntime
from kailash.workflow import AsyncWorkflowBuilder

# The guide's execution-monitoring example against a real aiohttp server: a workflow whose
# HTTP client lives in the builder's registry, run with or without ``async with``.
GUIDE_RUN = textwrap.dedent(
    """
    import asyncio, gc, sys

    from aiohttp import web
    from kailash.runtime import AsyncLocalRuntime
    from kailash.workflow import AsyncWorkflowBuilder


    async def pong(request):
        return web.json_response({"pong": True})


    async def main(closing):
        app = web.Application()
        app.router.add_get("/ping", pong)
        runner = web.AppRunner(app)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        host, port = runner.addresses[0][:2]
        builder = AsyncWorkflowBuilder("ping")
        builder.with_http_client("api", base_url=f"http://{host}:{port}")
        builder.add_async_code(
            "ping", "async with api.get('/ping') as response:\\n    result = await response.json()"
        )
        workflow = builder.build()
        if closing:
            async with AsyncLocalRuntime(resource_registry=builder.get_resource_registry()) as runtime:
                result = await runtime.execute_workflow_async(workflow)
        else:
            runtime = AsyncLocalRuntime(resource_registry=builder.get_resource_registry())
            result = await runtime.execute_workflow_async(workflow)
        print(result)
        await runner.cleanup()


    asyncio.run(main(sys.argv[1] == "closing"))
    gc.collect()
    """
)


def _guide_run(mode: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-W", "always::ResourceWarning", "-c", GUIDE_RUN, mode],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def test_async_with_closes_the_registrys_http_session() -> None:
    closing = _guide_run("closing")
    assert closing.returncode == 0, closing.stderr
    assert closing.stdout == "{'results': {'ping': {'pong': True}}, 'errors': {}}\n"
    assert "Unclosed" not in closing.stderr, closing.stderr
    # The same run without ``async with`` leaks the session: what the check above would see.
    leaking = _guide_run("leaking")
    assert leaking.returncode == 0, leaking.stderr
    assert "Unclosed client session" in leaking.stderr


def _failing() -> AsyncWorkflowBuilder:
    builder = AsyncWorkflowBuilder("failing")
    first = builder.add_async_code("first", "raise ValueError(f'bad order {order_id}')")
    after = builder.add_async_code("after", "result = value")
    builder.add_connection(first, "result", after, "value")
    builder.add_async_code("independent", "result = 'done'")
    return builder


def test_errors_keep_their_exceptions() -> None:
    result = asyncio.run(AsyncLocalRuntime().execute_workflow_async(_failing().build(), {"order_id": 7}))
    assert result == {
        "results": {"independent": "done"},
        "errors": {
            "first": "ValueError: bad order 7",
            "after": "UpstreamFailed: skipped because upstream node 'first' failed",
        },
    }
    assert isinstance(result, rt.RunResult)
    assert type(result.exceptions["first"]) is ValueError and result.exceptions["first"].args == ("bad order 7",)
    assert isinstance(result.exceptions["after"], rt.UpstreamFailed)
    assert set(result.exceptions) == set(result["errors"])


def test_raise_on_error_raises_the_failed_nodes_exception() -> None:
    runtime = AsyncLocalRuntime(raise_on_error=True)
    with pytest.raises(ValueError) as raised:
        asyncio.run(runtime.execute_workflow_async(_failing().build(), {"order_id": 7}))
    assert str(raised.value) == "bad order 7"
    line = _failing.__code__.co_firstlineno + 2  # the line of the code block in this file
    assert raised.value.__notes__ == [
        f"File \"tests/test_runtime_lifecycle.py\", line {line}, in node 'first' (code line 1)\n"
        '    raise ValueError(f"bad order {order_id}")',
        "raised by node 'first' of workflow 'failing' (AsyncLocalRuntime(raise_on_error=True))",
    ]
    assert any(frame.name == "first" for frame in raised.traceback)  # the node's own frame
    with pytest.raises(ValueError, match="bad order 8"):
        LocalRuntime(raise_on_error=True).execute(_failing().build(), {"order_id": 8})


def test_raise_on_error_returns_a_run_without_errors() -> None:
    builder = AsyncWorkflowBuilder("fine")
    builder.add_async_code("fine", "result = 1")
    result = asyncio.run(AsyncLocalRuntime(raise_on_error=True).execute_workflow_async(builder.build()))
    assert result == {"results": {"fine": 1}, "errors": {}}
