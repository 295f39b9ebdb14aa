"""Shared fixtures: paths of the checkout, running the CLI and generated modules in subprocesses."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
GOLDEN = Path(__file__).resolve().parent / "golden"

# Runs a script with the `kailash` package unimportable, as on a machine that only has kailash_rt.
BLOCK_KAILASH = (
    "import sys, runpy; sys.modules['kailash'] = None; sys.argv = sys.argv[1:];"
    " runpy.run_path(sys.argv[0], run_name='__main__')"
)


def run_cli(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "kailash.cli", *args], cwd=cwd, capture_output=True, text=True, check=False, timeout=300
    )


def run_generated(path: Path, *args: str, block_kailash: bool = True) -> subprocess.CompletedProcess[str]:
    command = (
        [sys.executable, "-c", BLOCK_KAILASH, str(path), *args] if block_kailash else [sys.executable, str(path), *args]
    )
    return subprocess.run(command, capture_output=True, text=True, check=False, cwd=path.parent)


@pytest.fixture(autouse=True)
def _private_compile_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test session formats into its own cache, so tests never depend on a warm cache."""
    monkeypatch.setenv("KAILASH_COMPILE_CACHE", str(tmp_path_factory.getbasetemp() / "compile-cache"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path_factory.getbasetemp() / "state-home"))  # the cache key
    os.environ.setdefault("PYTHONHASHSEED", "0")


@pytest.fixture
def state_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A compile cache and a key of the test's own (the key authenticates what a compile keeps)."""
    directory = tmp_path / "cache"
    monkeypatch.setenv("KAILASH_COMPILE_CACHE", str(directory))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state-home"))
    return directory
