"""The README's sections "Compiling from Python" and "Project configuration" run as written,
so their examples cannot rot: the code blocks are read from README.md itself."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import yaml

from .conftest import EXAMPLES, GOLDEN, ROOT

BIN = Path(sys.executable).parent  # kailash-compile and python of this environment come first on the PATH


def readme_blocks(heading: str, language: str) -> list[str]:
    """The fenced blocks of ``language`` in the README section under ``heading``."""
    text = (ROOT / "README.md").read_text()
    assert f"\n## {heading}\n" in text, f"README.md has no section {heading!r}"
    section = text.split(f"\n## {heading}\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(rf"```{language}\n(.*?)```", section, re.S)


def run(command: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"}
    return subprocess.run(command, cwd=cwd, env=environment, capture_output=True, text=True, check=False)


def test_compiling_from_python_as_written(tmp_path: Path) -> None:
    (code,) = readme_blocks("Compiling from Python", "python")
    (printed,) = readme_blocks("Compiling from Python", "text")
    shutil.copytree(EXAMPLES, tmp_path / "examples")  # "run from the root of this checkout"
    (tmp_path / "compile_greeting.py").write_text(code)
    first = run([sys.executable, "compile_greeting.py"], tmp_path)
    assert first.returncode == 0, first.stderr
    assert first.stdout == printed
    assert (tmp_path / "out" / "order_totals.py").read_text() == (GOLDEN / "order_totals.py").read_text()
    greeting = (tmp_path / "out" / "greeting.py").read_text()
    assert "\nSource: compile_greeting.py\n" in greeting
    assert "async def hello(" in greeting
    # "a second run finds out/order_totals.py unchanged and leaves it untouched"
    before = (tmp_path / "out" / "order_totals.py").stat()
    second = run([sys.executable, "compile_greeting.py"], tmp_path)
    assert second.stdout == printed.replace("order_totals.py written", "order_totals.py unchanged")
    after = (tmp_path / "out" / "order_totals.py").stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)


def test_project_configuration_as_written(tmp_path: Path) -> None:
    (config,) = readme_blocks("Project configuration", "toml")
    (shell,) = readme_blocks("Project configuration", "sh")
    (tmp_path / "pyproject.toml").write_text(config)
    (tmp_path / "flows").mkdir()
    shutil.copy(EXAMPLES / "fan_out_fan_in.py", tmp_path / "flows")
    done = run(["bash", "-e", "-c", shell], tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stderr == "compiled 1 workflow(s) to ../generated: 1 written, 0 unchanged\n"
    module = (tmp_path / "generated" / "service_health_report.py").read_text()
    golden = (GOLDEN / "service_health_report.py").read_text()
    assert module == golden.replace("examples/fan_out_fan_in.py", "flows/fan_out_fan_in.py")
    # The table's keys are the ones the configuration takes, each with the type it states.
    table = "\n".join(line for line in (ROOT / "README.md").read_text().splitlines() if line.startswith("| `"))
    documented = dict(re.findall(r"^\| `([a-z-]+)` \| ([a-z ]+) \|", table, re.M))
    from kailash.config import SETTINGS

    kinds = {"sources": "list of strings", "path": "string", "str": "string", "bool": "boolean"}
    assert documented == {key: kinds[setting.kind] for key, setting in SETTINGS.items()}
    assert set(tomllib.loads(config)["tool"]["kailash-compile"]) <= set(SETTINGS)


def test_the_readmes_pre_commit_configuration_names_the_hook() -> None:
    (config,) = readme_blocks("Project configuration", "yaml")
    (repository,) = yaml.safe_load(config)["repos"]
    hooks = {hook["id"] for hook in yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())}
    assert [hook["id"] for hook in repository["hooks"]] == ["kailash-compile-check"]
    assert {"kailash-compile-check"} == hooks
