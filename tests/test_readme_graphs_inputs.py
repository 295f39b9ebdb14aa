"""The README's examples of the graph command, workflow inputs and copied definitions, run as
a reader would run them: the text the README shows is what the commands print."""

from __future__ import annotations

import json
import re
from pathlib import Path

from .conftest import ROOT, run_cli, run_generated

README = (ROOT / "README.md").read_text(encoding="utf-8")


def block(language: str, first_line: str) -> str:
    """The README's fenced ``language`` block whose first line is ``first_line``."""
    for found in re.finditer(rf"```{language}\n(.*?)```", README, re.DOTALL):
        if found.group(1).startswith(first_line):
            return found.group(1)
    raise AssertionError(f"no ```{language} block starting {first_line!r} in the README")


def test_the_mermaid_picture_is_what_the_graph_command_prints() -> None:
    shown = block("mermaid", "flowchart TD")
    printed = run_cli("graph", "examples/all_patterns.py")
    assert printed.returncode == 0, printed.stderr
    assert printed.stdout == shown
    assert (ROOT / "docs" / "order_patterns.svg").read_text().count('<g id="node') == 17  # 16 nodes and the cache


def test_the_declared_inputs_example_runs_as_shown(tmp_path: Path) -> None:
    source = tmp_path / "convert.py"
    source.write_text(block("python", "# convert.py\n"))
    compiled = run_cli("convert.py", "-o", "out/", "--strict", cwd=tmp_path)
    assert compiled.returncode == 0, compiled.stderr
    module = tmp_path / "out" / "convert.py"
    commands = block("sh", "kailash-compile convert.py")
    expected = re.search(r"--inputs '(.*?)'\s+# (.*)\n", commands)
    assert expected is not None
    done = run_generated(module, "--inputs", expected.group(1))
    assert done.returncode == 0 and json.loads(done.stdout) == json.loads(expected.group(2))
    shown = run_generated(module, "--help").stdout
    assert "    amount (used by convert; required): the amount to convert\n" in shown
    assert '    currency (used by convert; default "EUR")\n' in shown


def test_the_refused_definition_example_prints_what_the_readme_shows(tmp_path: Path) -> None:
    (tmp_path / "flows.py").write_text(block("python", "# flows.py\n"))
    refused = run_cli("flows.py", "-o", "out/", cwd=tmp_path)
    assert refused.returncode == 2 and refused.stderr == block("text", "error: flows.py:13")
    assert not (tmp_path / "out").exists()
