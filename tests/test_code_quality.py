"""The project's own code passes ruff (lint and format) and mypy --strict, as configured in pyproject.toml."""

from __future__ import annotations

import subprocess
import sys
import tomllib

import pytest

from .conftest import ROOT


def check(*command: str) -> None:
    done = subprocess.run([sys.executable, "-m", *command], cwd=ROOT, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


def test_ruff_lint() -> None:
    check("ruff", "check", ".")


def test_ruff_format() -> None:
    check("ruff", "format", "--check", ".")


def test_mypy() -> None:
    check("mypy")


def test_mypy_is_strict() -> None:
    """Plain ``mypy`` (the command above, and what contributors run) checks with --strict."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["mypy"]
    assert config.get("strict") is True, "[tool.mypy] must set strict = true"
    assert set(config["files"]) == {"compiler/kailash", "runtime_stub/kailash_rt"}


# What users and the stages import first: each must import on its own, in a fresh interpreter
# (an import cycle hides when another module happens to be imported before it).
ENTRY_MODULES = [
    "kailash.workflow",
    "kailash.resources",
    "kailash.runtime",
    "kailash.sources",
    "kailash.analysis",
    "kailash.targets.asyncio",
    "kailash.targets.asyncio.render",
    "kailash.settings",
    "kailash.codegen",
    "kailash.cli",
    "kailash_rt",
]


@pytest.mark.parametrize("module", ENTRY_MODULES)
def test_module_imports_first_in_a_fresh_interpreter(module: str) -> None:
    done = subprocess.run(
        [sys.executable, "-c", f"import {module}"], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
