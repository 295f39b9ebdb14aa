"""What a compiled workflow does when it runs: the results/errors contract, data flow, inputs, policies.

The workflows run through AsyncLocalRuntime, which runs exactly the module kailash-compile
writes; the last tests run a written module as a script.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
import traceback
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import kailash.runtime.async_local as async_local
import pytest
from kailash.errors import WorkflowWarning
from kailash.runtime import AsyncLocalRuntime
from kailash.workflow import AsyncRetryPolicy, AsyncWorkflowBuilder, ErrorHandler, RetryPolicy, Workflow
from kailash_rt._run import InputError

from .conftest import run_cli, run_generated


def execute(workflow: Workflow, inputs: dict[str, Any] | None = None) -> dict[str, Any]:
    return asyncio.run(AsyncLocalRuntime().execute_workflow_async(workflow, inputs or {}))


def unique(name: str) -> str:
    """A fresh workflow name, so no test sees another test's compiled module."""
    return f"{name}_{uuid.uuid4().hex[:8]}"


def assert_contract(result: dict[str, Any], workflow: Workflow) -> None:
    """Every node is in exactly one of results and errors."""
    assert set(result) == {"results", "errors"}
    results, errors = set(result["results"]), set(result["errors"])
    assert not results & errors
    assert results | errors == set(workflow.nodes)


# -- results and errors ------------------------------------------------------------------


def test_failure_skips_downstream_and_independent_branches_complete() -> None:
    b = AsyncWorkflowBuilder(unique("contract"))
    b.add_async_code("source", "result = {'value': 2}")
    b.add_async_code("broken", "raise ValueError(f'cannot use {value}')")
    b.add_async_code("after_broken", "result = {'never': x}")
    b.add_async_code("further", "result = y")
    b.add_async_code("side", "await asyncio.sleep(0.02)\nresult = {'ok': value * 10}")
    b.add_async_code("side_after", "result = ok + 1")
    b.add_connection("source", "value", "broken", "value")
    b.add_connection("broken", "x", "after_broken", "x")
    b.add_connection("after_broken", "never", "further", "y")
    b.add_connection("source", "value", "side", "value")
    b.add_connection("side", "ok", "side_after", "ok")
    workflow = b.build()
    result = execute(workflow)
    assert_contract(result, workflow)
    assert result["results"] == {"source": {"value": 2}, "side": {"ok": 20}, "side_after": 21}
    assert result["errors"]["broken"] == "ValueError: cannot use 2"
    assert "'broken'" in result["errors"]["after_broken"]
    assert "'broken'" in result["errors"]["further"]  # transitively skipped, naming the failed node


def test_missing_output_key_is_an_error_of_the_consumer_listing_keys() -> None:
    b = AsyncWorkflowBuilder(unique("missing_key"))
    b.add_async_code("a", "result = {'users': [1]}")
    b.add_async_code("b", "result = len(items)")
    b.add_connection("a", "usres", "b", "items")
    workflow = b.build()
    result = execute(workflow)
    assert_contract(result, workflow)
    assert result["results"] == {"a": {"users": [1]}}
    assert "'usres'" in result["errors"]["b"] and "'users'" in result["errors"]["b"]


def test_node_without_result_outputs_none() -> None:
    b = AsyncWorkflowBuilder(unique("no_result"))
    b.add_async_code("quiet", "x = 1")
    with pytest.warns(WorkflowWarning, match="node 'quiet': the code block never assigns `result`"):
        assert execute(b.build()) == {"results": {"quiet": None}, "errors": {}}


# -- data flow ----------------------------------------------------------------------------


def test_dotted_output_paths_walk_nested_keys() -> None:
    b = AsyncWorkflowBuilder(unique("dotted"))
    b.add_async_code("a", "result = {'data': {'items': [1, 2, 3], 'meta': {'page': 7}}}")
    b.add_async_code("b", "result = {'total': sum(items), 'page': page}")
    b.add_connection("a", "data.items", "b", "items")
    b.add_connection("a", "data.meta.page", "b", "page")
    result = execute(b.build())
    assert result["results"]["b"] == {"total": 6, "page": 7}


@pytest.mark.parametrize(
    ("output", "received"),
    [
        ("{'x': 1, 'y': 2}", {"x": 1, "y": 2}),  # the whole output
        ("[1, 2, 3]", [1, 2, 3]),  # not a dict: the whole output
        ("{'result': 5, 'other': 1}", 5),  # the output's own result key wins
    ],
)
def test_result_means_the_whole_output_unless_it_has_a_result_key(output: str, received: Any) -> None:
    b = AsyncWorkflowBuilder(unique("whole"))
    b.add_async_code("a", f"result = {output}")
    b.add_async_code("b", "result = {'got': value}")
    b.add_connection("a", "result", "b", "value")
    assert execute(b.build())["results"]["b"] == {"got": received}


# -- inputs ---------------------------------------------------------------------------------


def _inputs_workflow() -> Workflow:
    b = AsyncWorkflowBuilder(unique("inputs"))
    b.add_async_code("scale", "result = {'scaled': base * factor}")
    b.add_async_code("shift", "result = scaled + factor")
    b.add_connection("scale", "scaled", "shift", "scaled")
    return b.build()


def test_workflow_level_inputs() -> None:
    result = execute(_inputs_workflow(), {"base": 5, "factor": 3})
    assert result["results"] == {"scale": {"scaled": 15}, "shift": 18}


def test_per_node_inputs_take_precedence_over_workflow_level_ones() -> None:
    result = execute(_inputs_workflow(), {"scale": {"base": 5, "factor": 2}, "factor": 100})
    assert result["results"] == {"scale": {"scaled": 10}, "shift": 110}


def test_unknown_input_key_lists_the_valid_ones() -> None:
    with pytest.raises(InputError) as caught:
        execute(_inputs_workflow(), {"base": 1, "factor": 2, "facter": 3})
    message = str(caught.value)
    assert "'facter'" in message
    assert "'base'" in message and "'factor'" in message


def test_unknown_per_node_input_lists_that_nodes_inputs() -> None:
    with pytest.raises(InputError) as caught:
        execute(_inputs_workflow(), {"base": 1, "factor": 2, "shift": {"offset": 1}})
    message = str(caught.value)
    assert "'shift'" in message and "'offset'" in message and "'factor'" in message


def test_missing_input_is_an_error_before_any_node_runs() -> None:
    b = AsyncWorkflowBuilder(unique("missing_input"))
    b.add_async_code("first", "log.append('first ran')\nresult = 1")
    b.add_async_code("second", "result = x + threshold")
    b.add_connection("first", "result", "second", "x")
    log: list[str] = []
    with pytest.raises(InputError) as caught:
        execute(b.build(), {"log": log})
    assert "'threshold'" in str(caught.value) and "'second'" in str(caught.value)
    assert log == []  # not a NameError half-way through the run


# -- policies ---------------------------------------------------------------------------------


def test_timeout() -> None:
    b = AsyncWorkflowBuilder(unique("timeout"))
    b.add_async_code("slow", "await asyncio.sleep(5)\nresult = 1", timeout=0.1)
    b.add_async_code("after", "result = x", timeout=1)
    b.add_connection("slow", "result", "after", "x")
    workflow = b.build()
    start = time.perf_counter()
    result = execute(workflow)
    assert time.perf_counter() - start < 2
    assert_contract(result, workflow)
    assert result["errors"]["slow"].startswith("TimeoutError")
    assert "0.1" in result["errors"]["slow"]
    assert "'slow'" in result["errors"]["after"]


def test_max_concurrent_tasks_holds_across_concurrent_runs() -> None:
    b = AsyncWorkflowBuilder(unique("limit"))
    b.add_async_code(
        "limited",
        """
        state["now"] += 1
        state["peak"] = max(state["peak"], state["now"])
        await asyncio.sleep(0.03)
        state["now"] -= 1
        result = state["peak"]
        """,
        max_concurrent_tasks=2,
    )
    workflow = b.build()
    state = {"now": 0, "peak": 0}

    async def many() -> list[dict[str, Any]]:
        runtime = AsyncLocalRuntime()
        return await asyncio.gather(*(runtime.execute_workflow_async(workflow, {"state": state}) for _ in range(6)))

    results = asyncio.run(many())
    assert all(not r["errors"] for r in results)
    assert state["peak"] == 2
    assert state["now"] == 0


def _counting_workflow(policy: RetryPolicy | AsyncRetryPolicy, failures: int, exception: str) -> Workflow:
    b = AsyncWorkflowBuilder(unique("retry"))
    b.add_async_code(
        "flaky",
        f"""
        calls.append(1)
        if len(calls) <= {failures}:
            raise {exception}(f"attempt {{len(calls)}}")
        result = {{"attempts": len(calls)}}
        """,
        retry_policy=policy,
    )
    return b.build()


def test_retry_policy_retries_listed_exceptions() -> None:
    calls: list[int] = []
    policy = RetryPolicy(max_retries=3, base_delay=0.001, retry_on=[ConnectionError])
    result = execute(_counting_workflow(policy, 2, "ConnectionError"), {"calls": calls})
    assert result == {"results": {"flaky": {"attempts": 3}}, "errors": {}}
    assert len(calls) == 3


def test_retry_policy_gives_up_after_max_retries() -> None:
    calls: list[int] = []
    policy = RetryPolicy(max_retries=2, base_delay=0.001, retry_on=["ConnectionError"])
    result = execute(_counting_workflow(policy, 99, "ConnectionError"), {"calls": calls})
    assert len(calls) == 3  # one try and two retries
    assert result["errors"] == {"flaky": "ConnectionError: attempt 3"}


def test_retry_policy_does_not_retry_other_exceptions() -> None:
    calls: list[int] = []
    policy = RetryPolicy(max_retries=3, base_delay=0.001, retry_on=[ConnectionError])
    result = execute(_counting_workflow(policy, 99, "ValueError"), {"calls": calls})
    assert len(calls) == 1
    assert result["errors"] == {"flaky": "ValueError: attempt 1"}


def test_async_retry_policy_counts_attempts_in_all() -> None:
    calls: list[int] = []
    policy = AsyncRetryPolicy(max_attempts=2, initial_delay=0.001, retry_exceptions=[TimeoutError])
    result = execute(_counting_workflow(policy, 5, "TimeoutError"), {"calls": calls})
    assert len(calls) == 2
    assert result["errors"]["flaky"] == "TimeoutError: attempt 2"


def test_error_handler_fallback_is_the_output() -> None:
    b = AsyncWorkflowBuilder(unique("fallback"))
    b.add_async_code(
        "lookup",
        "raise ConnectionError('down')",
        error_handler=ErrorHandler("fallback", {"status": "degraded", "items": []}, "error"),
    )
    b.add_async_code("use", "result = {'seen': status}")
    b.add_connection("lookup", "status", "use", "status")
    workflow = b.build()
    first = execute(workflow)
    assert first == {
        "results": {"lookup": {"status": "degraded", "items": []}, "use": {"seen": "degraded"}},
        "errors": {},
    }
    # The fallback is a fresh copy each time: a run that mutates it does not change the next one.
    first["results"]["lookup"]["items"].append("mutated")
    assert execute(workflow)["results"]["lookup"] == {"status": "degraded", "items": []}


# -- concurrency and the in-process runtime ---------------------------------------------------


def test_independent_nodes_run_concurrently() -> None:
    # Each branch waits until the other one has started: run one after the other, the first
    # would time out (the 30 s only bound that failure; no timing decides the outcome).
    b = AsyncWorkflowBuilder(unique("concurrent"))
    b.add_async_code("left", "await asyncio.wait_for(meet.wait(), 30)\nresult = 'left'")
    b.add_async_code("right", "await asyncio.wait_for(meet.wait(), 30)\nresult = 'right'")
    b.add_async_code("join", "result = [l, r]")
    b.add_connection("left", "result", "join", "l")
    b.add_connection("right", "result", "join", "r")
    result = execute(b.build(), {"meet": asyncio.Barrier(2)})
    assert result["errors"] == {}
    assert result["results"]["join"] == ["left", "right"]


def test_in_process_runtime_compiles_once(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    real: Callable[..., Any] = async_local.compile_ir

    def counting(ir: Any, **kwargs: Any) -> Any:
        calls.append(ir.name)
        return real(ir, **kwargs)

    monkeypatch.setattr(async_local, "compile_ir", counting)
    name = unique("cached")

    def build() -> Workflow:
        b = AsyncWorkflowBuilder(name)
        b.add_async_code("a", "result = n + 1")
        return b.build()

    workflow = build()
    assert execute(workflow, {"n": 1})["results"] == {"a": 2}
    assert execute(workflow, {"n": 2})["results"] == {"a": 3}
    assert execute(build(), {"n": 3})["results"] == {"a": 4}  # same content, built again
    assert calls == [name]


def test_tracebacks_of_node_errors_show_generated_lines() -> None:
    b = AsyncWorkflowBuilder(unique("traceback"))
    b.add_async_code("explode", 'value = 41\nraise KeyError(f"missing {value + 1}")')
    result = asyncio.run(AsyncLocalRuntime().execute_workflow_async(b.build(), {}))
    assert result["errors"] == {"explode": "KeyError: 'missing 42'"}
    exc = result.exceptions["explode"]
    text = "".join(traceback.format_exception(exc))
    assert "/modules/_kailash_generated_" in text  # the module's source, written to the compile cache
    assert re.search(r'line \d+, in explode\n +raise KeyError\(f"missing \{value \+ 1\}"\)\n', text), text


def test_code_with_template_and_quoting_characters_is_kept_exactly() -> None:
    tq = '"' * 3
    code = "\n".join(
        [
            'jinja = "{{ name }} {% if x %}{% endif %} {# note #}"',
            'braces = f"{{{{literal}}}}"',
            f"triple = {tq}first line",
            '  second "quoted" line \\t tab',
            "{{ not_a_template }}" + tq,
            "single = '''it's",
            "'''",
            r'''backslashes = "C:\\new\\table" + '\\' + r"\d+\s*"''',
            r'escaped = "line\nnext\x00end\u00e9"',
            "result = {",
            '    "jinja": jinja, "braces": braces, "triple": triple, "single": single,',
            '    "backslashes": backslashes, "escaped": escaped,',
            "}",
        ]
    )
    expected: dict[str, Any] = {}
    exec(code, {}, expected)
    b = AsyncWorkflowBuilder(unique("quoting"))
    b.add_async_code("quote", code)
    result = execute(b.build())
    assert result == {"results": {"quote": expected["result"]}, "errors": {}}
    assert expected["result"]["jinja"] == "{{ name }} {% if x %}{% endif %} {# note #}"


def test_code_indented_inside_the_builder_call_keeps_string_contents() -> None:
    b = AsyncWorkflowBuilder(unique("dedent"))
    b.add_async_code(
        "text",
        """
            message = '''
        flush left
              indented
        '''
            result = message
        """,
    )
    assert execute(b.build())["results"]["text"] == "\nflush left\n      indented\n"


# -- the written module, run as a script ----------------------------------------------------


SCRIPT_WORKFLOW = """
from kailash.workflow import AsyncWorkflowBuilder

flow = AsyncWorkflowBuilder("script_flow")
flow.add_async_code("double", "result = {'doubled': [x * 2 for x in numbers]}")
flow.add_async_code("total", "result = sum(doubled)")
flow.add_async_code("fail_if", "if fail:\\n    raise RuntimeError('asked to fail')\\nresult = 'fine'")
flow.add_connection("double", "doubled", "total", "doubled")
"""


def test_written_module_runs_as_a_script(tmp_path: Path) -> None:
    source = tmp_path / "flow.py"
    source.write_text(SCRIPT_WORKFLOW)
    out = tmp_path / "out"
    assert run_cli(str(source), "-o", str(out)).returncode == 0
    module = out / "script_flow.py"

    ok = run_generated(module, "--inputs", json.dumps({"numbers": [1, 2, 3], "fail": False}))
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout) == {
        "results": {"double": {"doubled": [2, 4, 6]}, "total": 12, "fail_if": "fine"},
        "errors": {},
    }

    failed = run_generated(module, "--inputs", json.dumps({"numbers": [1], "fail": True}))
    assert failed.returncode == 1
    assert json.loads(failed.stdout)["errors"] == {"fail_if": "RuntimeError: asked to fail"}

    missing = run_generated(module, "--inputs", json.dumps({"numbers": [1]}))
    assert missing.returncode == 2
    assert "'fail'" in missing.stderr and "Traceback" not in missing.stderr
