"""Running a workflow file again checks only the code blocks its last run did not check
(kailash.block_record): the others' facts come from a record of that run, used only when this
user's key authenticates it and this compiler made it. A block that warns is never recorded."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import subprocess
import sys
import warnings
from collections.abc import Callable
from pathlib import Path

import pytest
from kailash import block_record, codeblock, compile_state
from kailash.codegen import compile_ir
from kailash.errors import WorkflowError
from kailash.sources import load_workflows

from .conftest import ROOT, run_cli

NODES = 12
# CPython's warning for `x is "literal"`: '"is" with a literal' up to 3.11, '"is" with 'str' literal' after.
IS_LITERAL = re.compile(r"\"is\" with (?:a|'\w+') literal")

WORKFLOW = '''
from kailash.workflow import AsyncWorkflowBuilder

workflow = AsyncWorkflowBuilder("recorded_chain")
for index in range({nodes}):
    note = "  # edited {edit}" if index == {edited} else ""
    workflow.add_async_code(
        f"step_{{index}}",
        f"""
        values = [before, {{index}}] if {{index}} else [{{index}}]{{note}}
        result = {{{{"value": sum(v for v in values if isinstance(v, int))}}}}
        """,
    )
    if index:
        workflow.add_connection(f"step_{{index - 1}}", "value", f"step_{{index}}", "before")
'''


def write_workflow(path: Path, edited: int = -1, edit: int = 0, extra: str = "") -> Path:
    path.write_text(WORKFLOW.format(nodes=NODES, edited=edited, edit=edit) + extra)
    return path


@pytest.fixture
def cache(state_cache: Path) -> Path:
    return state_cache


@pytest.fixture
def checks(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The blocks checked from now on (parsed, walked: not taken from a record or from memory)."""
    checked: list[str] = []
    original = codeblock._checked_function

    def counting(code: str) -> object:
        checked.append(code)
        return original(code)

    monkeypatch.setattr(codeblock, "_checked_function", counting)
    return checked


def forget_blocks() -> None:
    """What a new process knows of code blocks: nothing."""
    for cache in (codeblock._checked, codeblock._facts, codeblock._quiet):
        cache.clear()


def load_fresh(path: Path) -> str:
    """The module the workflow file gives, compiled as a new process would compile it."""
    forget_blocks()
    (found,) = load_workflows(str(path))
    return compile_ir(found.workflow.ir).source


def record_file(cache: Path, workflow_file: Path) -> Path:
    return compile_state.state_path(cache, block_record._KIND, str(workflow_file.resolve()))


def read_record(path: Path) -> tuple[str, dict[str, object]]:
    mac, _, body = path.read_text().partition("\n")
    return mac, json.loads(body)


def sign(body: str, key: bytes) -> str:
    return f"{hmac.new(key, body.encode(), hashlib.sha256).hexdigest()}\n{body}"


def test_a_second_run_checks_only_the_edited_block_and_compiles_the_same_module(
    cache: Path, checks: list[str], tmp_path: Path
) -> None:
    source = write_workflow(tmp_path / "flow.py")
    load_fresh(source)
    assert len(checks) == NODES
    write_workflow(source, edited=5, edit=1)
    checks.clear()
    edited = load_fresh(source)
    assert len(checks) == 1 and "# edited 1" in checks[0]
    _, saved = read_record(record_file(cache, source))
    assert isinstance(saved["blocks"], dict) and len(saved["blocks"]) == NODES  # the old block's entry is gone
    assert compile_state.key_of(checks[0]) in saved["blocks"]

    cold = tmp_path / "cold"
    cold.mkdir()
    assert load_fresh(write_workflow(cold / "flow.py", edited=5, edit=1)) == edited


def test_the_command_line_checks_only_the_edited_block_on_a_recompile(tmp_path: Path) -> None:
    """Two processes: the second reads the record the first wrote, and writes the same module."""
    source = write_workflow(tmp_path / "flow.py")
    env = {"KAILASH_COMPILE_CACHE": str(tmp_path / "cache"), "XDG_STATE_HOME": str(tmp_path / "state-home")}
    counting = (
        "import sys, runpy; from kailash import codeblock; original = codeblock._checked_function\n"
        "def counting(code):\n    print('checked', file=sys.stderr); return original(code)\n"
        "codeblock._checked_function = counting\n"
        "sys.argv = ['kailash-compile', *sys.argv[1:]]; runpy.run_module('kailash.cli', run_name='__main__')\n"
    )

    def compile_to(out: Path) -> int:
        result = subprocess.run(
            [sys.executable, "-c", counting, str(source), "-o", str(out)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
            env={**os.environ, **env},
            timeout=300,
        )
        assert result.returncode == 0, result.stderr
        return result.stderr.count("checked\n")

    assert compile_to(tmp_path / "first") == NODES
    write_workflow(source, edited=3, edit=1)
    assert compile_to(tmp_path / "second") == 1
    env["KAILASH_COMPILE_CACHE"] = str(tmp_path / "cold-cache")
    assert compile_to(tmp_path / "cold") == NODES
    module = (tmp_path / "second" / "recorded_chain.py").read_text()
    assert module == (tmp_path / "cold" / "recorded_chain.py").read_text()


def test_a_record_signed_with_another_key_is_ignored(
    cache: Path, checks: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = write_workflow(tmp_path / "flow.py")
    load_fresh(source)
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "another-state-home"))
    checks.clear()
    load_fresh(source)
    assert len(checks) == NODES


INVALID = "result = (1"  # never passes the check


def forged_record(cache: Path, source: Path) -> tuple[Path, str]:
    """The record of ``source`` with an entry saying that the invalid block was checked (a body
    this user's key did not sign); and the key of that block."""
    path = record_file(cache, source)
    _, saved = read_record(path)
    blocks = saved["blocks"]
    assert isinstance(blocks, dict)
    invalid = compile_state.key_of(codeblock.dedent(INVALID))
    blocks[invalid] = next(iter(blocks.values()))
    return path, json.dumps(saved, separators=(",", ":"))


@pytest.mark.parametrize("signed", [False, True])
def test_a_forged_record_is_ignored(cache: Path, tmp_path: Path, signed: bool) -> None:
    """A record this user's key did not sign is ignored: the invalid block is refused. (Signed
    with the key, the same record is trusted, which is what the key is for.)"""
    source = write_workflow(tmp_path / "flow.py")
    load_fresh(source)
    path, body = forged_record(cache, source)
    key = compile_state._key()
    assert key is not None
    path.write_text(sign(body, key if signed else b"\x01" * len(key)))
    write_workflow(source, extra=f"workflow.add_async_code('invalid', {INVALID!r})\n")
    forget_blocks()
    if signed:
        load_workflows(str(source))  # the key vouches for the record
    else:
        with pytest.raises(WorkflowError, match="syntax error in the code block"):
            load_workflows(str(source))


def test_changed_facts_under_the_old_signature_are_ignored(cache: Path, checks: list[str], tmp_path: Path) -> None:
    source = write_workflow(tmp_path / "flow.py")
    expected = load_fresh(source)
    path = record_file(cache, source)
    mac, saved = read_record(path)
    blocks = saved["blocks"]
    assert isinstance(blocks, dict)
    for facts in blocks.values():
        assert isinstance(facts, list)
        facts[0] = ["not_an_input"]  # the names the block reads
    path.write_text(f"{mac}\n{json.dumps(saved, separators=(',', ':'))}")
    checks.clear()
    assert load_fresh(source) == expected
    assert len(checks) == NODES


@pytest.mark.parametrize(
    "damage",
    [
        lambda text: "",
        lambda text: text[: len(text) // 2],
        lambda text: text.replace('"blocks":{', '"blocks":['),
        lambda text: "\n".join(reversed(text.split("\n"))),
        lambda text: text + "\x00",
    ],
    ids=["empty", "truncated", "not json", "lines swapped", "appended"],
)
def test_a_damaged_record_is_ignored_and_replaced(
    cache: Path, checks: list[str], tmp_path: Path, damage: Callable[[str], str]
) -> None:
    source = write_workflow(tmp_path / "flow.py")
    expected = load_fresh(source)
    path = record_file(cache, source)
    path.write_text(damage(path.read_text()))
    checks.clear()
    assert load_fresh(source) == expected
    assert len(checks) == NODES
    checks.clear()
    load_fresh(source)  # the damaged record was replaced by a sound one
    assert checks == []


def test_entries_the_compiler_did_not_write_are_not_trusted(cache: Path, checks: list[str], tmp_path: Path) -> None:
    """Signed with the key but not facts (made by a bug, say): the blocks are checked again."""
    source = write_workflow(tmp_path / "flow.py")
    load_fresh(source)
    path = record_file(cache, source)
    _, saved = read_record(path)
    blocks = saved["blocks"]
    assert isinstance(blocks, dict)
    for key in blocks:
        blocks[key] = [["a"], [["r", "1", 2]], [], []]
    key = compile_state._key()
    assert key is not None
    path.write_text(sign(json.dumps(saved, separators=(",", ":")), key))
    checks.clear()
    load_fresh(source)
    assert len(checks) == NODES


WARNS = 'pattern = "\\d+"\nsame = pattern is "x"\nresult = {"value": 1}'


def test_a_block_that_warns_warns_on_every_run(cache: Path, tmp_path: Path) -> None:
    source = write_workflow(tmp_path / "flow.py", extra=f"workflow.add_async_code('warns', {WARNS!r})\n")
    seen = []
    for _ in range(2):  # only the run of the file: a compile's later stages keep what they did
        forget_blocks()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            load_workflows(str(source))
        seen.append(sorted(f"{warning.filename}:{warning.lineno}: {warning.message}" for warning in caught))
    assert seen[0] == seen[1]
    assert any("invalid escape sequence" in message for message in seen[0])
    assert any(IS_LITERAL.search(message) for message in seen[0])
    _, saved = read_record(record_file(cache, source))
    assert compile_state.key_of(codeblock.dedent(WARNS)) not in saved["blocks"]  # type: ignore[operator]


def test_a_warning_the_user_makes_an_error_stays_an_error(cache: Path, tmp_path: Path) -> None:
    source = write_workflow(tmp_path / "flow.py", extra=f"workflow.add_async_code('warns', {WARNS!r})\n")
    for _ in range(2):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            with pytest.raises(WorkflowError, match="invalid escape sequence"):
                load_fresh(source)
    forget_blocks()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        load_workflows(str(source))
    forget_blocks()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        load_workflows(str(source))  # not recorded when the warnings were ignored either
    assert any(IS_LITERAL.search(str(warning.message)) for warning in caught)


def test_the_command_line_warns_on_every_compile(tmp_path: Path, state_cache: Path) -> None:
    source = write_workflow(tmp_path / "flow.py", extra=f"workflow.add_async_code('warns', {WARNS!r})\n")
    for _ in range(2):
        result = run_cli(str(source), "-o", str(tmp_path / "out"))
        assert result.returncode == 0, result.stderr
        assert re.search(r"<code block>:3: SyntaxWarning: " + IS_LITERAL.pattern, result.stderr)
