"""Seeing a run, as a user does: OpenTelemetry spans (the SDK's in-memory exporter), the Chrome
trace of ``--trace`` and of ``AsyncLocalRuntime(trace=True)``, the note an exception of node
code carries, progress of long maps on a terminal and in the log, and the guide's Debug Mode."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import pty
import re
import runpy
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from kailash.runtime import AsyncLocalRuntime
from kailash.workflow import AsyncPatterns, AsyncWorkflowBuilder

ROOT = Path(__file__).resolve().parents[1]
WORKFLOW = "tests/workflows/observed/observed_run.py"
NODES = {"flaky", "guarded", "broken", "after_broken", "mapped"}


def inputs() -> dict[str, Any]:
    """The run's inputs (new each time: the flaky node pops its failure from the list in process)."""
    return {"failures_left": [1], "values": [4, 0, 5], "missing_key": "b", "delay": 0.0}


@pytest.fixture(autouse=True)
def _from_the_project_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)  # the workflow file is named relative to where it is compiled from


def compiled(tmp_path: Path, workflow: str = WORKFLOW) -> Path:
    done = subprocess.run(
        [sys.executable, "-m", "kailash.cli", workflow, "-o", str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr
    (module,) = tmp_path.glob("*.py")
    return module


def run_module(module: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(module), *args],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        timeout=120,
    )


def observed_builder() -> AsyncWorkflowBuilder:
    builder = runpy.run_path(WORKFLOW)["builder"]
    assert isinstance(builder, AsyncWorkflowBuilder)
    return builder


def line_of(text: str, path: str = WORKFLOW) -> int:
    """The line of the workflow file holding ``text`` (once)."""
    lines = [number for number, line in enumerate(Path(path).read_text().splitlines(), 1) if text in line]
    assert len(lines) == 1, (text, lines)
    return lines[0]


# -- 1. OpenTelemetry -------------------------------------------------------------------------
SPANS_SCRIPT = """
import asyncio, json, runpy, sys
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from kailash.runtime import AsyncLocalRuntime

exporter = InMemorySpanExporter()
provider = TracerProvider()
provider.add_span_processor(SimpleSpanProcessor(exporter))
trace.set_tracer_provider(provider)
builder = runpy.run_path(sys.argv[1])["builder"]
with trace.get_tracer("test").start_as_current_span("caller"):
    result = asyncio.run(AsyncLocalRuntime().execute_workflow_async(builder.build(), json.loads(sys.argv[2])))
spans = [
    {
        "name": span.name,
        "id": span.context.span_id,
        "parent": span.parent.span_id if span.parent else None,
        "attributes": dict(span.attributes),
        "status": span.status.status_code.name,
        "events": [{"name": e.name, "attributes": dict(e.attributes)} for e in span.events],
        "start": span.start_time,
        "end": span.end_time,
    }
    for span in exporter.get_finished_spans()
]
print(json.dumps({"spans": spans, "errors": result["errors"]}))
"""


def spans_of_a_run() -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-c", SPANS_SCRIPT, WORKFLOW, json.dumps(inputs())],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    output: dict[str, Any] = json.loads(done.stdout)
    return output


def test_a_run_is_a_span_and_each_node_a_child_span_with_kailash_attributes() -> None:
    output = spans_of_a_run()
    spans = {span["name"]: span for span in output["spans"]}
    caller, run = spans["caller"], spans["observed_run"]
    assert run["parent"] == caller["id"]  # the run's span goes under the span current when it runs
    assert run["attributes"]["kailash.workflow"] == "observed_run"
    assert run["status"] == "ERROR"
    assert set(spans) == NODES | {"caller", "observed_run"}
    for node_id in NODES:
        span = spans[node_id]
        assert span["parent"] == run["id"], node_id
        assert span["attributes"]["kailash.node_id"] == node_id
        assert span["attributes"]["kailash.run_id"] == run["attributes"]["kailash.run_id"]
        assert run["start"] <= span["start"] <= span["end"] <= run["end"]

    flaky = spans["flaky"]["attributes"]
    assert flaky["kailash.attempts"] == 2
    assert flaky["kailash.outcome"] == "ok"
    assert list(flaky["kailash.patterns"]) == ["retry"]
    (failed_attempt,) = spans["flaky"]["events"]
    assert failed_attempt["name"] == "exception"
    assert failed_attempt["attributes"]["exception.type"] == "ConnectionError"
    assert failed_attempt["attributes"]["kailash.attempt"] == 1

    guarded = spans["guarded"]
    assert guarded["attributes"]["kailash.fallback_used"] is True
    assert guarded["attributes"]["kailash.outcome"] == "ok"
    assert [e["attributes"]["exception.type"] for e in guarded["events"]] == ["json.decoder.JSONDecodeError"]

    broken = spans["broken"]
    assert broken["status"] == "ERROR"
    assert broken["attributes"]["kailash.outcome"] == "failed"
    (event,) = broken["events"]
    assert event["attributes"]["exception.type"] == "KeyError"
    assert "line" in event["attributes"]["exception.stacktrace"]

    after = spans["after_broken"]["attributes"]
    assert after["kailash.outcome"] == "skipped"
    assert "upstream node 'broken' failed" in after["kailash.skipped_because"]

    mapped = spans["mapped"]["attributes"]
    assert mapped["kailash.kind"] == "parallel_map"
    assert (mapped["kailash.items_total"], mapped["kailash.items_done"], mapped["kailash.items_failed"]) == (3, 3, 1)
    assert set(output["errors"]) == {"broken", "after_broken"}


def test_a_breaker_state_is_a_span_attribute_and_node_code_spans_are_children(tmp_path: Path) -> None:
    workflow = tmp_path / "breaker_spans.py"
    workflow.write_text(
        textwrap.dedent(
            """
            from kailash.workflow import AsyncPatterns, AsyncWorkflowBuilder

            builder = AsyncWorkflowBuilder("breaker_spans")
            AsyncPatterns.circuit_breaker(builder, "charge", "raise RuntimeError('declined')", failure_threshold=1)
            builder.add_async_code(
                "traced",
                "from opentelemetry import trace\\n"
                "with trace.get_tracer('user').start_as_current_span('inner'):\\n"
                "    result = 1",
            )
            """
        )
    )
    script = SPANS_SCRIPT.replace('with trace.get_tracer("test").start_as_current_span("caller"):\n    ', "")
    done = subprocess.run(
        [sys.executable, "-c", script, str(workflow), "{}"], capture_output=True, text=True, check=False, timeout=120
    )
    assert done.returncode == 0, done.stderr
    spans = {span["name"]: span for span in json.loads(done.stdout)["spans"]}
    assert spans["inner"]["parent"] == spans["traced"]["id"]  # node code runs with its node's span current
    charge = spans["charge"]
    assert charge["attributes"]["kailash.breaker_state"] == "open"
    assert list(charge["attributes"]["kailash.patterns"]) == ["circuit_breaker"]
    breaker_events = [e["attributes"] for e in charge["events"] if e["name"] == "kailash.breaker"]
    assert breaker_events == [{"from": "closed", "to": "open"}]


def test_without_opentelemetry_in_the_program_a_run_imports_none_of_it(tmp_path: Path) -> None:
    module = compiled(tmp_path)
    script = (
        "import runpy, sys; sys.argv = [sys.argv[1], '--inputs', sys.argv[2]];"
        " exec('try:\\n runpy.run_path(sys.argv[0], run_name=\"__main__\")\\nexcept SystemExit: pass');"
        " print('opentelemetry' in sys.modules, 'kailash_rt._tracing' in sys.modules, file=sys.stderr)"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(module), json.dumps(inputs())],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert done.stderr.strip().splitlines()[-1] == "False False"


# -- 2. the Chrome trace -------------------------------------------------------------------------
def check_trace(trace: dict[str, Any]) -> None:
    """Every node has one complete event inside the run's; retries and items have theirs."""
    events = [event for event in trace["traceEvents"] if event["ph"] == "X"]
    (run,) = [event for event in events if event["cat"] == "run"]
    assert run["name"] == "observed_run"
    nodes = {event["name"]: event for event in events if event["cat"] == "node"}
    assert set(nodes) == NODES
    assert len([event for event in events if event["cat"] == "node"]) == len(NODES)
    for event in nodes.values():
        assert run["ts"] <= event["ts"] and event["ts"] + event["dur"] <= run["ts"] + run["dur"] + 1
    assert nodes["after_broken"]["args"]["kailash.outcome"] == "skipped"
    assert nodes["broken"]["args"]["error"] == "KeyError: 'b'"
    assert nodes["guarded"]["args"]["kailash.fallback_used"] is True
    attempts = [event for event in events if event["cat"] == "attempt"]
    assert [(a["name"], a["args"]["success"]) for a in attempts] == [
        ("flaky attempt 1", False),
        ("flaky attempt 2", True),
    ]
    flaky = nodes["flaky"]
    for attempt in attempts:  # inside its node, on its lane
        assert attempt["tid"] == flaky["tid"]
        assert flaky["ts"] <= attempt["ts"] and attempt["ts"] + attempt["dur"] <= flaky["ts"] + flaky["dur"] + 1
    items = [event for event in events if event["cat"] == "item"]
    assert sorted(item["name"] for item in items) == ["item 0", "item 1", "item 2"]
    assert [item["args"]["success"] for item in sorted(items, key=lambda item: item["name"])] == [True, False, True]
    lanes = {
        event["tid"]: event["args"]["name"]
        for event in trace["traceEvents"]
        if event["ph"] == "M" and event["name"] == "thread_name"
    }
    assert {lanes[item["tid"]] for item in items} <= {"mapped worker 1", "mapped worker 2"}
    json.dumps(trace)  # plain JSON all through


def test_trace_option_writes_chrome_trace_events_for_every_node(tmp_path: Path) -> None:
    module = compiled(tmp_path)
    trace_file = tmp_path / "run.json"
    done = run_module(module, "--inputs", json.dumps(inputs()), "--trace", str(trace_file))
    assert done.returncode == 1, done.stderr  # broken failed
    assert set(json.loads(done.stdout)["errors"]) == {"broken", "after_broken"}
    check_trace(json.loads(trace_file.read_text()))


def test_async_local_runtime_returns_the_same_trace() -> None:
    result = asyncio.run(AsyncLocalRuntime(trace=True).execute_workflow_async(observed_builder().build(), inputs()))
    check_trace(result.trace)  # type: ignore[attr-defined]
    untraced = asyncio.run(AsyncLocalRuntime().execute_workflow_async(observed_builder().build(), inputs()))
    assert untraced.trace is None  # type: ignore[attr-defined]


def test_a_trace_file_that_cannot_be_written_is_a_warning_not_a_lost_result(tmp_path: Path) -> None:
    module = compiled(tmp_path)
    done = run_module(module, "--inputs", json.dumps(inputs()), "--trace", str(tmp_path / "missing" / "run.json"))
    assert done.returncode == 1
    assert "warning: cannot write the trace to" in done.stderr
    assert set(json.loads(done.stdout)["results"]) == {"flaky", "guarded", "mapped"}


# -- 3. the note on an exception of node code --------------------------------------------------
def expected_note() -> str:
    line = line_of('result = {"value": lookup[missing_key]}')
    code = 'result = {"value": lookup[missing_key]}'
    return f"File \"{WORKFLOW}\", line {line}, in node 'broken' (code line 5)\n    {code}"


def test_in_process_the_exception_of_node_code_notes_the_workflow_file_line() -> None:
    result = asyncio.run(AsyncLocalRuntime().execute_workflow_async(observed_builder().build(), inputs()))
    error = result.exceptions["broken"]  # type: ignore[attr-defined]
    assert isinstance(error, KeyError)
    assert error.__notes__ == [expected_note()]
    assert not getattr(result.exceptions["after_broken"], "__notes__", None)  # type: ignore[attr-defined]


def test_standalone_traceback_shows_the_note_and_the_module_s_own_line(tmp_path: Path) -> None:
    module = compiled(tmp_path)
    done = run_module(module, "--inputs", json.dumps(inputs()), "--traceback")
    assert expected_note() in done.stderr
    module_lines = module.read_text().splitlines()
    (frame,) = [line for line in done.stderr.splitlines() if f'File "{module}"' in line and "in broken" in line]
    number = int(frame.split(", line ")[1].split(",")[0])
    assert module_lines[number - 1].strip() == 'result = {"value": lookup[missing_key]}'


def test_the_note_names_the_item_line_of_a_map_and_a_retried_node_s_cause(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    workflow = tmp_path / "noted.py"
    workflow.write_text(
        textwrap.dedent(
            '''
            from kailash.workflow import AsyncWorkflowBuilder, RetryPolicy

            builder = AsyncWorkflowBuilder("noted")
            builder.add_parallel_map(
                "ratios",
                """
            def ratio(x):
                return 10 / x

            async def process_item(item):
                return ratio(item)
            """,
            )
            builder.add_async_code(
                "retried",
                "values = {}\\nresult = values['never']",
                retry_policy=RetryPolicy(max_retries=1, base_delay=0.01),
            )
            '''
        )
    )
    builder = runpy.run_path(str(workflow))["builder"]
    result = asyncio.run(AsyncLocalRuntime().execute_workflow_async(builder.build(), {"items": [1, 0]}))
    item_error = result.exceptions["ratios"].__cause__  # type: ignore[attr-defined]
    source = workflow.read_text().splitlines()
    ratio_line = source.index("    return 10 / x") + 1
    assert item_error.__notes__ == [
        f"File \"noted.py\", line {ratio_line}, in node 'ratios' (code line 2)\n    return 10 / x"
    ]
    retried = result.exceptions["retried"]  # type: ignore[attr-defined]
    assert isinstance(retried, KeyError)
    # code built from an escaped string: its lines are not the file's, so the note gives the code line only
    assert retried.__notes__ == [
        "File \"noted.py\", in node 'retried', code line 2 (its line in the file is not known)\n"
        '    result = values["never"]'
    ]


# -- 4. progress --------------------------------------------------------------------------------
def progress_workflow(tmp_path: Path, print_failures: bool = False) -> Path:
    """A parallel map of slow items, failing every tenth (and saying so on stderr if asked)."""
    workflow = tmp_path / "long_map.py"
    text = textwrap.dedent(
        '''
            from kailash.workflow import AsyncWorkflowBuilder

            builder = AsyncWorkflowBuilder("long_map")
            builder.add_parallel_map(
                "slow_items",
                """
            async def process_item(item):
                await asyncio.sleep(0.02)
                if item % 10 == 9:
                    raise ValueError(item)
                return item
            """,
                max_workers=2,
                continue_on_error=True,
            )
            '''
    )
    if print_failures:
        text = text.replace("async def process_item", "import sys\n\nasync def process_item")
        text = text.replace(
            "    raise ValueError", "    print(f'item {item} failed', file=sys.stderr)\n    raise ValueError"
        )
    workflow.write_text(text)
    out = tmp_path / "out"
    done = subprocess.run(
        [sys.executable, "-m", "kailash.cli", str(workflow), "-o", str(out)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return out / "long_map.py"


def run_on_terminal(module: Path, *args: str) -> tuple[int, str, str]:
    """Run ``module`` with stderr a terminal (a pty): exit status, stdout, what the terminal got."""
    controller, terminal = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, str(module), "--inputs", json.dumps({"items": list(range(20))}), *args],
        stdout=subprocess.PIPE,
        stderr=terminal,
        env={**os.environ, "KAILASH_PROGRESS_INTERVAL": "0.01"},
    )
    os.close(terminal)
    drawn = b""
    while True:
        try:
            chunk = os.read(controller, 4096)
        except OSError:  # the terminal closed: the process is done
            break
        if not chunk:
            break
        drawn += chunk
    stdout, _ = process.communicate(timeout=120)
    os.close(controller)
    return process.returncode, stdout.decode(), drawn.decode()


def test_progress_is_drawn_on_a_terminal_stderr(tmp_path: Path) -> None:
    returncode, stdout, text = run_on_terminal(progress_workflow(tmp_path))
    assert returncode == 0
    assert json.loads(stdout)["results"]["slow_items"]["statistics"]["failed"] == 2
    assert "\r\x1b[Kslow_items: " in text  # redrawn in place
    final = text.rsplit("\r\x1b[K", 1)[1]
    assert final.startswith("slow_items: 20/20 items (100%), ")
    assert final.rstrip().endswith("items/s, 2 errors (done)")


def test_other_output_on_the_terminal_starts_on_a_line_of_its_own_not_after_the_progress(tmp_path: Path) -> None:
    returncode, _, text = run_on_terminal(progress_workflow(tmp_path, print_failures=True))
    assert returncode == 0
    lines = text.replace("\r\n", "\n").split("\n")
    for failed in ("item 9 failed", "item 19 failed"):
        (line,) = [line for line in lines if failed in line]
        assert line.rsplit("\r\x1b[K", 1)[-1] == failed  # a progress line drawn before it was cleared
    assert lines[-2].rsplit("\r\x1b[K", 1)[-1].startswith("slow_items: 20/20 items (100%), ")


def test_with_a_log_level_a_terminal_gets_progress_records_not_a_line_among_them(tmp_path: Path) -> None:
    returncode, _, text = run_on_terminal(progress_workflow(tmp_path), "--log-level", "info")
    assert returncode == 0
    assert "\x1b[K" not in text
    records = [line for line in text.splitlines() if "items/s" in line]
    assert records and all(" INFO kailash_rt: long_map [run " in line for line in records)
    assert records[-1].endswith("2 errors (done)")


def test_progress_is_a_periodic_log_record_when_stderr_is_no_terminal(tmp_path: Path) -> None:
    module = progress_workflow(tmp_path)
    done = run_module(
        module,
        "--inputs",
        json.dumps({"items": list(range(20))}),
        "--log-level",
        "info",
        env={"KAILASH_PROGRESS_INTERVAL": "0.01"},
    )
    assert done.returncode == 0, done.stderr
    records = [line for line in done.stderr.splitlines() if "items/s" in line]
    assert records, done.stderr
    assert all(" INFO kailash_rt: long_map [run " in line for line in records)
    assert re.search(r"node 'slow_items': 20/20 items \(100%\), [0-9.]+ items/s, 2 errors \(done\)$", records[-1])
    assert "\r" not in done.stderr


def test_in_process_progress_of_batches_and_scatter_gather_workers_is_logged_per_node(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KAILASH_PROGRESS_INTERVAL", "0.01")
    caplog.set_level(logging.INFO, logger="kailash.workflow")
    builder = AsyncWorkflowBuilder("item_work")
    AsyncPatterns.batch_processor(builder, "write", "await asyncio.sleep(0.02)\nbatch_results = items", batch_size=2)
    builder.add_scatter_gather(
        "split",
        "worker",
        "join",
        "async def process_item(item):\n    await asyncio.sleep(0.02)\n    return item",
        worker_count=2,
    )
    result = asyncio.run(AsyncLocalRuntime().execute_workflow_async(builder.build(), {"items": list(range(10))}))
    assert result["errors"] == {}
    assert result["results"]["write"]["processed_count"] == 10
    progress = [record for record in caplog.records if "items/s" in record.getMessage()]
    assert {(record.name, record.levelno) for record in progress} == {("kailash.workflow.run", logging.INFO)}
    assert len({record.run_id for record in progress}) == 1  # type: ignore[attr-defined]
    finals = {record.node_id: record.getMessage() for record in progress if record.getMessage().endswith("(done)")}  # type: ignore[attr-defined]
    assert set(finals) == {"write", "worker_0", "worker_1"}, finals
    assert re.search(r"node 'write': 10/10 items \(100%\), [0-9.]+ items/s, 0 errors \(done\)$", finals["write"])
    for worker in ("worker_0", "worker_1"):  # each worker counts its own shard
        assert re.search(rf"node '{worker}': 5/5 items \(100%\), [0-9.]+ items/s, 0 errors \(done\)$", finals[worker])


# -- 5. the guide's Debug Mode ------------------------------------------------------------------
def test_debug_mode_shows_the_run_events_with_node_and_run_ids(caplog: pytest.LogCaptureFixture) -> None:
    logging.getLogger("kailash.workflow").setLevel(logging.DEBUG)  # as the guide says
    try:
        with caplog.at_level(logging.DEBUG, logger="kailash.workflow"):
            builder = observed_builder()
            AsyncPatterns.circuit_breaker(builder, "charge", "raise RuntimeError('declined')", failure_threshold=1)
            AsyncPatterns.rate_limited(builder, "notify", "result = 1", requests_per_second=5, burst_size=1)
            workflow = builder.build()
            runtime = AsyncLocalRuntime()
            asyncio.run(runtime.execute_workflow_async(workflow, inputs()))
            asyncio.run(runtime.execute_workflow_async(workflow, {**inputs(), "failures_left": []}))
    finally:
        logging.getLogger("kailash.workflow").setLevel(logging.NOTSET)
    run_records = [record for record in caplog.records if record.name == "kailash.workflow.run"]
    assert len({record.run_id for record in run_records}) == 2  # type: ignore[attr-defined]
    messages = [record.getMessage() for record in run_records]
    text = "\n".join(messages)
    for node_id in NODES | {"charge", "notify"}:
        if node_id != "after_broken":
            assert f"node {node_id!r}: started" in text
    assert "node 'flaky': finished in " in text
    assert "node 'broken': failed (KeyError: 'b') in " in text
    assert "node 'after_broken': not run (UpstreamFailed: skipped because upstream node 'broken' failed)" in text
    assert "node 'flaky': attempt 1 failed (ConnectionError: the service hung up); attempt 2 follows in " in text
    assert "node 'guarded': failed (JSONDecodeError: " in text and "using its fallback value" in text
    assert "node 'charge': circuit breaker closed -> open" in text
    assert "node 'notify': waits " in text and "s for its rate limit" in text
    for record in run_records:
        assert record.getMessage().startswith(f"observed_run [run {record.run_id}]")  # type: ignore[attr-defined]
        assert record.workflow == "observed_run"  # type: ignore[attr-defined]
    node_records = [record for record in run_records if "node '" in record.getMessage()]
    assert all(record.node_id in record.getMessage() for record in node_records)  # type: ignore[attr-defined]


def test_log_level_option_of_the_module_command_line(tmp_path: Path) -> None:
    module = compiled(tmp_path)
    quiet = run_module(module, "--inputs", json.dumps(inputs()))
    assert "started" not in quiet.stderr
    done = run_module(module, "--inputs", json.dumps(inputs()), "--log-level", "debug")
    assert done.returncode == 1
    lines = [line for line in done.stderr.splitlines() if " kailash_rt: observed_run [run " in line]
    run_ids = {line.split("[run ")[1].split("]")[0] for line in lines}
    assert len(run_ids) == 1
    assert any(line.endswith("node 'mapped': started") for line in lines)
    assert any(" DEBUG " in line and "node 'broken': failed (KeyError: 'b')" in line for line in lines)
    refused = run_module(module, "--log-level", "chatty")
    assert refused.returncode == 2 and "invalid choice: 'CHATTY'" in refused.stderr


def test_importing_the_runtime_loads_nothing_of_seeing_a_run() -> None:
    script = (
        "import sys, kailash_rt; print(sorted(name for name in sys.modules if name.startswith(('opentelemetry',"
        " 'kailash_rt._observer', 'kailash_rt._progress', 'kailash_rt._trace_events', 'kailash_rt._tracing',"
        " 'kailash_rt._source_notes'))))"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


SEEN = ("--log-level", "debug", "--traceback", "--trace")


def test_a_module_with_a_copied_runtime_and_no_site_packages_is_seen_all_the_same(tmp_path: Path) -> None:
    module = compiled(tmp_path)
    shutil.copytree(ROOT / "runtime_stub" / "kailash_rt", tmp_path / "kailash_rt")
    trace_file = tmp_path / "run.json"
    done = subprocess.run(
        [sys.executable, "-S", "-E", "-s", str(module), "--inputs", json.dumps(inputs()), *SEEN, str(trace_file)],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
        timeout=120,
    )
    assert done.returncode == 1, done.stderr
    check_trace(json.loads(trace_file.read_text()))
    assert "node 'flaky': attempt 1 failed (ConnectionError: the service hung up)" in done.stderr
    assert expected_note() in done.stderr


def test_the_retry_pattern_s_attempts_are_events_of_the_trace() -> None:
    builder = AsyncWorkflowBuilder("retried_pattern")
    AsyncPatterns.retry_with_backoff(
        builder,
        "reserve",
        "if failures_left:\n    failures_left.pop()\n    raise ConnectionError('busy')\nresult = {'ok': True}",
        max_retries=3,
        initial_backoff=0.01,
        retry_on=["ConnectionError"],
    )
    result = asyncio.run(
        AsyncLocalRuntime(trace=True).execute_workflow_async(builder.build(), {"failures_left": [1, 2]})
    )
    assert result["results"]["reserve"]["total_attempts"] == 3
    events = [event for event in result.trace["traceEvents"] if event["ph"] == "X"]  # type: ignore[attr-defined]
    attempts = [(e["name"], e["args"]["success"]) for e in events if e["cat"] == "attempt"]
    assert attempts == [("reserve attempt 1", False), ("reserve attempt 2", False), ("reserve attempt 3", True)]
    (node,) = [e for e in events if e["cat"] == "node"]
    assert node["args"]["kailash.attempts"] == 3
    assert node["args"]["kailash.patterns"] == ["retry_with_backoff"]
