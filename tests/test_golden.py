"""What the compiler makes of the workflows in examples/ and tests/workflows/ is committed under
tests/golden; any difference fails.

- ``tests/golden/<module>.py``: the generated modules of the examples (``examples/``) and of the
  workflows kept for what they test (``tests/workflows/``);
- ``tests/golden/kinds/<module>.py``: one small workflow per node kind, pattern, policy and
  resource declaration (``tests/workflows/kinds/``), so a change to how one kind compiles
  shows in that kind's own file;
- ``<golden folder>/ir/<module>.ir.json``: the IR of each of these workflows, as
  ``WorkflowIR.to_json`` writes it (indented here for review). It holds secrets only as the
  environment variable they are read from, and compiling it gives the golden module.

A difference is a change to review: ``python -m tests.update_golden``, from the project root,
runs the golden tests (this file and test_example_results.py) with ``UPDATE_GOLDEN=1``: they
rewrite every golden file and remove those no workflow makes any more, and the diff of
tests/golden then shows what users of the compiler will see change. ``UPDATE_GOLDEN=1 pytest
tests/test_golden.py`` rewrites this file's golden files only.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from kailash.analysis.kinds import KINDS
from kailash.codegen import compile_ir
from kailash.ir import EnvRef, WorkflowIR, env_refs
from kailash.sources import load_workflows

from .conftest import EXAMPLES, GOLDEN, ROOT, run_cli

KINDS_WORKFLOWS = ROOT / "tests" / "workflows" / "kinds"
KINDS_GOLDEN = GOLDEN / "kinds"


@dataclass(frozen=True)
class Case:
    workflow: str  # the workflow file, relative to the checkout (as the CLI is given it)
    golden: Path  # the folder of its golden modules; their IR is in its ir/ folder

    def __str__(self) -> str:
        return self.workflow


def _cases(folder: Path, golden: Path) -> list[Case]:
    return [Case(path.relative_to(ROOT).as_posix(), golden) for path in sorted(folder.glob("*.py"))]


CASES = [
    *_cases(EXAMPLES, GOLDEN),
    *_cases(ROOT / "tests" / "workflows", GOLDEN),
    *_cases(KINDS_WORKFLOWS, KINDS_GOLDEN),
]
UPDATING = bool(os.environ.get("UPDATE_GOLDEN"))


def assert_golden(text: str, golden: Path) -> None:
    """``text`` is the content of ``golden``; under UPDATE_GOLDEN it becomes so."""
    if UPDATING:
        golden.parent.mkdir(parents=True, exist_ok=True)
        if not golden.exists() or golden.read_text() != text:
            golden.write_text(text)
    assert golden.exists(), f"no golden file {golden.relative_to(ROOT)}; run python -m tests.update_golden"
    assert text == golden.read_text(), f"differs from {golden.relative_to(ROOT)}; run python -m tests.update_golden"


def ir_snapshot(ir: WorkflowIR) -> str:
    """The IR's JSON form, indented: the same keys in the same order, one value a line."""
    return json.dumps(json.loads(ir.to_json()), indent=2, ensure_ascii=False) + "\n"


def ir_golden(case: Case, module_name: str) -> Path:
    return case.golden / "ir" / f"{module_name}.ir.json"


def workflows_of(case: Case) -> list[WorkflowIR]:
    """The IRs of a workflow file, made as the CLI makes them (locations relative to the checkout)."""
    cwd = Path.cwd()
    os.chdir(ROOT)
    try:
        return [found.workflow.ir for found in load_workflows(case.workflow)]
    finally:
        os.chdir(cwd)


@pytest.mark.parametrize("case", CASES, ids=str)
def test_generated_modules_match_golden_files(case: Case, tmp_path: Path) -> None:
    result = run_cli(case.workflow, "-o", str(tmp_path))
    assert result.returncode == 0, result.stderr
    generated = sorted(tmp_path.glob("*.py"))
    assert generated, f"{case.workflow} produced no module"
    for path in generated:
        assert_golden(path.read_text(), case.golden / path.name)


@pytest.mark.parametrize("case", CASES, ids=str)
def test_ir_snapshots_match_golden_files_and_compile_to_the_golden_modules(case: Case) -> None:
    for ir in workflows_of(case):
        snapshot = ir_snapshot(ir)
        module = compile_ir(WorkflowIR.from_json(snapshot))  # the snapshot is all the compiler needs
        assert_golden(snapshot, ir_golden(case, module.name))
        golden_module = case.golden / module.filename
        assert module.source == golden_module.read_text(), f"{ir_golden(case, module.name).name} compiles to other code"


@pytest.mark.parametrize("case", CASES, ids=str)
def test_ir_snapshots_hold_no_secret_values(case: Case) -> None:
    for ir in workflows_of(case):
        settings = [r.settings for r in ir.resources] + [n.settings for n in ir.nodes if n.kind == "resource"]
        secrets = [ref for setting in settings for _, ref in env_refs(setting)]
        plain = {value for setting in settings for value in _plain_values(setting) if isinstance(value, str)}
        snapshot = ir_golden(case, compile_ir(ir).name).read_text()
        written = list(_json_values(json.loads(snapshot)))
        for ref in secrets:
            assert {"$env": [ref.variable, ref.kind]} in written, f"{ref.variable} is not in the IR snapshot"
            # The same text may be a setting that is no secret (a user "postgres" beside its password).
            if isinstance(ref.value, str) and ref.value not in plain:
                assert ref.value not in snapshot, f"the secret read from {ref.variable} is in the IR snapshot"


def _plain_values(value: Any) -> Iterator[Any]:
    """The values in a setting that are not secrets."""
    if isinstance(value, dict):
        for item in value.values():
            yield from _plain_values(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _plain_values(item)
    elif not isinstance(value, EnvRef):
        yield value


def _json_values(value: Any) -> Iterator[Any]:
    """A decoded JSON value and every value inside it."""
    yield value
    items = value.values() if isinstance(value, dict) else value if isinstance(value, list) else ()
    for item in items:
        yield from _json_values(item)


def test_golden_modules_pass_ruff() -> None:
    """Every kind's code reads as a careful person would write it (tests/golden is outside the project's ruff run)."""
    paths = sorted(str(path) for folder in {case.golden for case in CASES} for path in folder.glob("*.py"))
    assert len(paths) >= len(CASES)
    command = [sys.executable, "-m", "ruff", "check", "--isolated", "--no-cache", *paths]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_kind_workflows_cover_every_node_kind_policy_and_resource_declaration() -> None:
    irs = [ir for case in CASES if case.golden == KINDS_GOLDEN for ir in workflows_of(case)]
    nodes = [node for ir in irs for node in ir.nodes]
    resources = [resource for ir in irs for resource in ir.resources]
    assert set(KINDS) <= {node.kind for node in nodes}, "add a workflow of the new kind to tests/workflows/kinds"
    code_nodes = [node for node in nodes if node.kind == "code"]
    assert any(node.retry is not None for node in code_nodes)
    assert any(node.fallback is not None for node in code_nodes)
    assert any(node.timeout is not None and node.max_concurrent_tasks is not None for node in code_nodes)
    declared = {(r.kind, r.settings.get("backend")) for r in resources}
    assert declared >= {("postgres", None), ("http", None), ("cache", "redis"), ("cache", "memory"), ("factory", None)}


def test_every_golden_file_comes_from_a_workflow() -> None:
    """A golden file no workflow makes any more is stale; UPDATE_GOLDEN removes it."""
    expected: set[Path] = set()
    for case in CASES:
        for ir in workflows_of(case):
            name = compile_ir(ir).name
            expected |= {case.golden / f"{name}.py", ir_golden(case, name)}
    found = {
        path
        for folder in {case.golden for case in CASES}
        for path in [*folder.glob("*.py"), *(folder / "ir").glob("*.ir.json")]
    }
    stale = sorted(path.relative_to(ROOT).as_posix() for path in found - expected)
    if UPDATING:
        for path in stale:
            (ROOT / path).unlink()
        stale = []
    assert not stale, f"no workflow makes {', '.join(stale)}; run python -m tests.update_golden"


def test_the_update_command_runs_every_test_that_rewrites_golden_files() -> None:
    from .update_golden import GOLDEN_TESTS

    rewriting = {path.relative_to(ROOT).as_posix() for path in (ROOT / "tests").glob("test_*.py")}
    rewriting = {name for name in rewriting if "UPDATE_GOLDEN" in (ROOT / name).read_text()}
    assert rewriting == set(GOLDEN_TESTS)
