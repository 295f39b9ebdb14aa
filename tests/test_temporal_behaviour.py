"""How a Temporal module behaves where Temporal does the work: retries, timeouts, the
non-retryable path, fallbacks, the payload limit, two workers sharing a parallel map, and a
worker killed with SIGKILL mid-activity whose run a new worker finishes.

Nodes count their runs in files, never in memory: a count survives the process that made it.
"""

from __future__ import annotations

import asyncio
import json
import signal
import sys
import uuid
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from .temporal_support import (
    DevServer,
    compile_module,
    connect,
    dev_server,
    import_module,
    printed_result,
    run_module,
    wait_for,
    worker,
)
from .test_example_results import masked

WORKFLOWS = "tests/workflows/temporal"


@pytest.fixture
def server() -> DevServer:
    return dev_server()


def counts_of(directory: Path) -> dict[str, int]:
    return {path.name: len(path.read_text().splitlines()) for path in sorted(directory.iterdir())}


def test_retries_timeouts_fallbacks_and_failures_behave_as_on_asyncio(tmp_path: Path, server: DevServer) -> None:
    [plain] = compile_module(f"{WORKFLOWS}/behaviours.py", tmp_path / "asyncio", target="asyncio")
    [durable] = compile_module(f"{WORKFLOWS}/behaviours.py", tmp_path / "temporal")
    on_asyncio, on_temporal = tmp_path / "counts-asyncio", tmp_path / "counts-temporal"
    on_asyncio.mkdir()
    on_temporal.mkdir()
    expected = run_module(plain, server.address, "--inputs", json.dumps({"counts": str(on_asyncio)}))
    with worker(durable, server.address):
        done = run_module(durable, server.address, "run", "--inputs", json.dumps({"counts": str(on_temporal)}))
    assert done.returncode == expected.returncode == 1, done.stderr
    result, reference = printed_result(done), printed_result(expected)

    # Each node ran as often on Temporal as on asyncio: retried exceptions until success or
    # the last attempt, anything else (a timeout, an exception not retried) once.
    runs = {"flaky": 3, "not_retried": 1, "slow": 1, "guarded": 1, "exhausted": 2, "too_big": 1}
    runs |= {"primary_down": 1, "fallback_down": 1, "quick": 1, "stuck": 1, "broken": 1}
    assert counts_of(on_temporal) == counts_of(on_asyncio) == runs

    assert result["errors"]["too_big"].startswith("PayloadTooLarge: the output of node 'too_big' is ")
    assert "over Temporal's payload limit" in result["errors"]["too_big"]
    del result["errors"]["too_big"], reference["results"]["too_big"]
    assert masked(result) == masked(reference)
    assert result["errors"] == {
        "not_retried": "ValueError: bad record",
        "after_not_retried": "UpstreamFailed: skipped because upstream node 'not_retried' failed",
        "slow": "TimeoutError: timed out after 0.5s",
        "exhausted": "RetriesExhausted: failed after 2 attempts: ConnectionError: still down",
        "primary_down": "TimeoutError: timed out after 0.3s",
        "fallback_down": "LookupError: no cached copy",
        "after_fallback_down": "UpstreamFailed: skipped because upstream node 'fallback_down' failed",
    }
    assert result["results"]["fetch_all"]["successful"] == {"quick": {"ok": True}}
    assert result["results"]["fetch_all"]["failed"] == {
        "stuck": "TimeoutError: timed out after 0.5s",
        "broken": "RuntimeError: no route",
    }
    assert result["results"]["flaky"] == {"attempt": 3}
    assert result["results"]["guarded"] == {"theme": "light"}


def test_two_workers_share_one_parallel_map(tmp_path: Path, server: DevServer) -> None:
    [module] = compile_module(f"{WORKFLOWS}/shared_map.py", tmp_path)
    seen = tmp_path / "seen"
    seen.mkdir()
    inputs = {"count": 6, "seen": str(seen), "together": 2}
    one_at_a_time = ("--max-concurrent-activities", "1")
    with (
        worker(module, server.address, *one_at_a_time) as first,
        worker(module, server.address, *one_at_a_time) as second,
    ):
        done = run_module(module, server.address, "run", "--inputs", json.dumps(inputs))
        pids = {first.pid, second.pid}
    assert done.returncode == 0, done.stderr
    output = printed_result(done)["results"]["run_items"]
    assert output["results"] == [{"item": i, "square": i * i} for i in range(6)]
    assert output["statistics"]["successful"] == 6
    ran_on = {int(path.read_text()) for path in seen.iterdir()}
    assert ran_on == pids  # both workers ran items of the one map


def test_a_run_survives_its_worker_killed_mid_activity(tmp_path: Path, server: DevServer) -> None:
    [module] = compile_module(f"{WORKFLOWS}/crash.py", tmp_path)
    counts = tmp_path / "counts"
    counts.mkdir()
    inputs = json.dumps({"counts": str(counts), "hold": 3})
    with worker(module, server.address) as doomed:
        started = run_module(module, server.address, "start", "--inputs", inputs)
        assert started.returncode == 0, started.stderr
        workflow_id = started.stdout.strip()
        wait_for(lambda: (counts / "second").exists(), 60, "the second activity to start")
        doomed.send_signal(signal.SIGKILL)
        doomed.wait()
    assert counts_of(counts) == {"first": 1, "second": 1}
    with worker(module, server.address):
        done = run_module(module, server.address, "result", "--id", workflow_id)
    assert done.returncode == 0, done.stderr
    assert printed_result(done) == {"results": {"first": {"value": 21}, "second": {"value": 42}}, "errors": {}}
    assert counts_of(counts) == {"first": 1, "second": 2}  # the first activity ran exactly once


def test_resources_live_in_the_worker_and_are_closed_when_it_stops(tmp_path: Path, server: DevServer) -> None:
    [module] = compile_module(f"{WORKFLOWS}/worker_resources.py", tmp_path)
    ledger = tmp_path / "ledger"
    with worker(module, server.address, LEDGER_FILE=str(ledger)) as process:
        for _ in range(2):
            done = run_module(module, server.address, "run")
            assert done.returncode == 0, done.stderr
            assert printed_result(done) == {"results": {"first": {"step": 1}, "second": {"step": 2}}, "errors": {}}
        assert ledger.read_text().splitlines() == [f"created {process.pid}", "used", "used", "used", "used"]
    assert process.returncode == 0
    assert ledger.read_text().splitlines()[-1] == "closed"  # closed once, when the worker stopped
    assert ledger.read_text().count("closed") == 1


@pytest.mark.parametrize(
    ("fanout_limit", "lenient_activities"),
    [(None, 10), (4, 4), (1, 2)],
    ids=["an-activity-an-item", "slices-of-items", "never-fewer-slices-than-max-workers"],
)
def test_parallel_maps_give_the_asyncio_results(
    fanout_limit: int | None,
    lenient_activities: int,
    tmp_path: Path,
    server: DevServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Batches, continue_on_error and its absence; with a fan-out limit of 4, ten items are
    mapped in slices of three; with a limit of 1, in as many slices as the map's max_workers (2)
    (the limit is kailash_rt's, patched in this process, whose worker runs the workflow)."""
    [plain] = compile_module(f"{WORKFLOWS}/maps.py", tmp_path / "asyncio", target="asyncio")
    [durable] = compile_module(f"{WORKFLOWS}/maps.py", tmp_path / "temporal")
    expected = printed_result(run_module(plain, server.address, "--inputs", '{"failing": 7}'))
    if fanout_limit is not None:
        from kailash_rt.temporal import _workflow

        monkeypatch.setattr(_workflow, "FANOUT_LIMIT", fanout_limit)
    module = import_module(durable)
    try:
        result, scheduled = asyncio.run(run_in_process(server.address, module, {"failing": 7}))
    finally:
        del sys.modules[durable.stem]
    assert scheduled.count("temporal_maps.lenient.items") == lenient_activities
    assert json.dumps(masked(result)) == json.dumps(masked(expected))
    assert result["errors"] == {"strict": "ItemFailed: item 7 of 10 failed: ValueError: bad 7"}
    lenient = result["results"]["lenient"]
    assert [entry["index"] for entry in lenient["errors"]] == [7]
    assert len(lenient["results"]) == 9


async def run_in_process(address: str, module: ModuleType, inputs: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """The run's result (a worker in this process) and the activity types it scheduled."""
    import kailash_rt.temporal as rtt

    client = await connect(address)
    worker_ = rtt.worker_for(client, module, module.Workflow, module.NODES, module.TASK_QUEUE)
    async with worker_:
        handle = await client.start_workflow(
            module.Workflow.run, inputs, id=f"maps-{uuid.uuid4().hex}", task_queue=module.TASK_QUEUE
        )
        result: dict[str, Any] = await handle.result()
    history = await handle.fetch_history()
    scheduled = [
        event.activity_task_scheduled_event_attributes.activity_type.name
        for event in history.events
        if event.HasField("activity_task_scheduled_event_attributes")
    ]
    return result, scheduled


def test_the_command_line_refuses_bad_inputs_and_a_missing_server_with_one_message(
    tmp_path: Path, server: DevServer
) -> None:
    [module] = compile_module("examples/order_totals.py", tmp_path)
    refused = run_module(module, server.address, "run", "--inputs", "[1, 2]")
    assert (refused.returncode, refused.stdout) == (2, "")
    assert refused.stderr == "error: --inputs must be a JSON object, not list\n"
    unreachable = run_module(module, server.address, "run", "--address", "127.0.0.1:1")
    assert unreachable.returncode == 2
    assert unreachable.stderr.startswith("error: cannot connect to the Temporal server at 127.0.0.1:1: ")
    assert "Traceback" not in unreachable.stderr
    with worker(module, server.address):
        missing = run_module(module, server.address, "run", "--inputs", '{"order": {"lines": []}}')
    assert (missing.returncode, missing.stdout) == (2, "")
    assert missing.stderr == (
        "error: workflow 'order_totals': node 'apply_tax' needs input 'tax_rate':"
        " pass {'tax_rate': ...} or {'apply_tax': {'tax_rate': ...}}\n"
    )
