"""The command line of a generated module: refused inputs exit 2 with one message, every
output is printed as valid JSON, and SIGTERM cancels the run and closes its resources as
Ctrl-C does."""

from __future__ import annotations

import asyncio
import json
import math
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
from kailash.codegen import compile_ir
from kailash.workflow import AsyncWorkflowBuilder

from .conftest import run_generated
from .resource_services import PG, require_postgres


def write_module(builder: AsyncWorkflowBuilder, directory: Path) -> Path:
    module = compile_ir(builder.build().ir)
    path = directory / module.filename
    path.write_text(module.source)
    return path


def echo_module(directory: Path) -> Path:
    builder = AsyncWorkflowBuilder("echo")
    builder.add_async_code("echo", "result = {'got': value}")
    return write_module(builder, directory)


def assert_refused(result: subprocess.CompletedProcess[Any], *needles: str) -> None:
    stderr = result.stderr if isinstance(result.stderr, str) else result.stderr.decode()
    assert result.returncode == 2, stderr
    assert "Traceback" not in stderr
    assert stderr.startswith("error: ") and stderr.count("\n") == 1, stderr
    for needle in needles:
        assert needle in stderr, stderr
    assert not result.stdout


# -- --inputs ------------------------------------------------------------------------------------


def test_inputs_from_a_file(tmp_path: Path) -> None:
    module = echo_module(tmp_path)
    (tmp_path / "inputs.json").write_text('{"value": "é"}', encoding="utf-8")
    result = run_generated(module, "--inputs", "@inputs.json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["results"]["echo"] == {"got": "é"}


@pytest.mark.parametrize(
    "make, needles",
    [
        (lambda d: "@missing.json", ["missing.json", "does not exist"]),
        (lambda d: "@" + str(d), ["is a directory"]),
        (lambda d: (d / "latin1.json").write_bytes(b'{"value": "\xe9"}') and "@latin1.json", ["not UTF-8"]),
        (lambda d: (d / "deep.json").write_text("[" * 200_000 + "]" * 200_000) and "@deep.json", ["too deep"]),
        (lambda d: '{"value": ' + "[" * 20_000 + "]" * 20_000 + "}", ["too deep"]),
        (lambda d: '{"value": ' + "1" * 5000 + "}", ["cannot be read", "4300"]),
        (lambda d: '{"value": ', ["not valid JSON"]),
        (lambda d: "[1, 2]", ["must be a JSON object, not list"]),
    ],
    ids=["missing-file", "directory", "file-not-utf8", "file-too-deep", "too-deep", "huge-int", "invalid", "a-list"],
)
def test_refused_inputs_exit_2_with_one_message(tmp_path: Path, make: Any, needles: list[str]) -> None:
    module = echo_module(tmp_path)
    assert_refused(run_generated(module, "--inputs", make(tmp_path)), *needles)


def test_inputs_argument_that_is_not_utf8_is_refused(tmp_path: Path) -> None:
    module = echo_module(tmp_path)
    result = subprocess.run(
        [sys.executable, str(module), "--inputs", b'{"value": "\xe9"}'],
        capture_output=True,
        check=False,
        cwd=tmp_path,
    )
    assert_refused(result, "--inputs is not UTF-8")


# -- printing the result -------------------------------------------------------------------------

AWKWARD_OUTPUT = """
import datetime, decimal, enum, uuid

class Colour(enum.Enum):
    RED = "red"

result = {
    "when": datetime.datetime(2024, 5, 6, 7, 8, 9, tzinfo=datetime.timezone.utc),
    "day": datetime.date(2024, 5, 6),
    "at": datetime.time(7, 8, 9, 500),
    "took": datetime.timedelta(minutes=1, milliseconds=500),
    "price": decimal.Decimal("1.10"),
    "no_price": decimal.Decimal("NaN"),
    "id": uuid.UUID(int=1),
    "raw": b"\\x00\\xffkailash",
    "floats": [float("nan"), float("inf"), -float("inf"), 1.5],
    "keys": {(1, 2): "tuple", 3: "int", None: "none", True: "bool", datetime.date(2024, 1, 2): "date"},
    "pair": (1, "two"),
    "set": {3, 1, 2},
    "colour": Colour.RED,
    "big": 10 ** 5000,
    "other": object.__new__(type("Thing", (), {"__repr__": lambda self: "<thing>"})),
}
"""


def test_outputs_json_cannot_hold_are_converted(tmp_path: Path) -> None:
    builder = AsyncWorkflowBuilder("awkward")
    builder.add_async_code("awkward", AWKWARD_OUTPUT)
    builder.add_async_code("loop", "items = []\nitems.append(items)\nresult = items")
    builder.add_async_code("fine", "result = {'ok': True}")
    builder.add_async_code("fails", "raise ValueError('no')")
    result = run_generated(write_module(builder, tmp_path))
    assert result.returncode == 1, result.stderr  # a node failed; everything else is printed
    printed = json.loads(
        result.stdout,
        parse_int=lambda text: int(text) if len(text) < 100 else text,
        parse_constant=lambda name: pytest.fail(f"{name} is not JSON"),
    )
    assert printed["errors"] == {"fails": "ValueError: no"}
    assert printed["results"]["fine"] == {"ok": True}
    assert printed["results"]["loop"] is None
    assert "warning: the output of node 'loop' contains itself" in result.stderr
    awkward = printed["results"]["awkward"]
    assert awkward.pop("big") == "1" + "0" * 5000  # the int, every digit of it
    assert awkward == {
        "when": "2024-05-06T07:08:09+00:00",
        "day": "2024-05-06",
        "at": "07:08:09.000500",
        "took": 60.5,
        "price": "1.10",
        "no_price": None,
        "id": "00000000-0000-0000-0000-000000000001",
        "raw": "AP9rYWlsYXNo",
        "floats": [None, None, None, 1.5],
        "keys": {"(1, 2)": "tuple", "3": "int", "null": "none", "true": "bool", "2024-01-02": "date"},
        "pair": [1, "two"],
        "set": [1, 2, 3],
        "colour": "red",
        "other": "<thing>",
    }
    assert not any(isinstance(v, float) and not math.isfinite(v) for v in awkward["floats"] if v is not None)


NESTED = """
value = 1
for _ in range(depth):
    value = [value]
result = value
"""


def test_deep_outputs_are_printed_and_too_deep_ones_do_not_lose_the_result(tmp_path: Path) -> None:
    builder = AsyncWorkflowBuilder("deep")
    builder.add_async_code("deep", NESTED.replace("depth", "900"))
    builder.add_async_code("too_deep", NESTED.replace("depth", "100_000"))
    builder.add_async_code("fine", "result = {'ok': True}")
    result = run_generated(write_module(builder, tmp_path))
    assert result.returncode == 0, result.stderr
    printed = json.loads(result.stdout)
    assert printed["results"]["fine"] == {"ok": True}
    assert printed["results"]["too_deep"] is None
    assert "warning: the output of node 'too_deep'" in result.stderr
    deep, depth = printed["results"]["deep"], 0
    while isinstance(deep, list):
        deep, depth = deep[0], depth + 1
    assert (deep, depth) == (1, 900)


def test_a_reader_that_stops_early_ends_the_output_without_a_traceback(tmp_path: Path) -> None:
    builder = AsyncWorkflowBuilder("long_output")
    builder.add_async_code("long", "result = {'lines': ['x' * 100] * 10_000}")  # far more than a pipe holds
    process = subprocess.Popen(
        [sys.executable, str(write_module(builder, tmp_path))],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert process.stdout is not None and process.stderr is not None
    assert process.stdout.read(10).startswith(b"{")
    process.stdout.close()  # as `| head` does
    stderr = process.stderr.read().decode()
    assert process.wait(timeout=120) == 0
    assert stderr == ""


def test_help_documents_the_conversions_and_exit_status(tmp_path: Path) -> None:
    result = run_generated(echo_module(tmp_path), "--help")
    assert result.returncode == 0
    for needle in ["ISO", "base64", "NaN", "SIGTERM", "exit status"]:
        assert needle in result.stdout


# -- SIGTERM and Ctrl-C --------------------------------------------------------------------------


async def _backends(application_name: str) -> list[str]:
    import asyncpg

    conn = await asyncpg.connect(**PG)
    try:
        rows = await conn.fetch("SELECT query FROM pg_stat_activity WHERE application_name = $1", application_name)
        return [row["query"] for row in rows]
    finally:
        await conn.close()


async def _terminate(application_name: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(**PG)
    try:
        await conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1", application_name
        )
    finally:
        await conn.close()


def _wait_for(condition: Any, what: str, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"not within {seconds} s: {what}")
        time.sleep(0.05)


def _default_interrupt() -> None:
    # A test run started in the background (`pytest &`, nohup) passes SIGINT on as ignored, and
    # Python then installs no KeyboardInterrupt handler: the module would rightly keep ignoring it.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.mark.services
@pytest.mark.parametrize("signal_number", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_signal_cancels_the_run_and_closes_its_database_query(tmp_path: Path, signal_number: int) -> None:
    require_postgres()
    app = f"kailash-signal-{uuid.uuid4().hex[:8]}"
    builder = AsyncWorkflowBuilder("sleepy")
    builder.with_database("main_db", **PG, server_settings={"application_name": app})
    builder.add_async_code("sleep", "await main_db.fetchval('SELECT pg_sleep(300)')\nresult = 'woke'")
    module = write_module(builder, tmp_path)
    process = subprocess.Popen(
        [sys.executable, str(module)],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=_default_interrupt,
    )
    try:
        _wait_for(lambda: any("pg_sleep" in q for q in asyncio.run(_backends(app))), "the query started", 60)
        process.send_signal(signal_number)
        stdout, stderr = process.communicate(timeout=60)
        assert process.returncode == -signal_number, stderr
        assert "Traceback" not in stderr
        assert f"error: {signal.Signals(signal_number).name} received; the run was cancelled" in stderr
        assert stdout == ""
        _wait_for(lambda: asyncio.run(_backends(app)) == [], "the query's backend is gone", 30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        asyncio.run(_terminate(app))
