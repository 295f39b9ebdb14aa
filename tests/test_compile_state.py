"""What the last compile of a module left (kailash.compile_state) makes the next compile of it
cheap, and is used only when this user's key authenticates it and the compiler and templates
that made it are the ones compiling now: otherwise the compile is the one a cold cache gives."""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import marshal
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from kailash import compile_state
from kailash.analysis import analyse
from kailash.codegen import compile_ir, formatting
from kailash.ir import EnvRef
from kailash.targets.asyncio import chunk_facts, render
from kailash.workflow import AsyncWorkflowBuilder, Workflow


def chain(edited: int = -1, nodes: int = 30) -> Workflow:
    builder = AsyncWorkflowBuilder("state_chain")
    for index in range(nodes):
        note = "  # edited" if index == edited else ""
        builder.add_async_code(f"step_{index}", f"value = {index}{note}\nresult = {{'value': value}}", timeout=5)
        if index:
            builder.add_connection(f"step_{index - 1}", "value", f"step_{index}", "before")
    return builder.build()


@pytest.fixture
def cache(state_cache: Path) -> Path:
    return state_cache


@pytest.fixture
def black_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The texts formatted from now on (those not in the format cache)."""
    calls: list[str] = []
    original = formatting._format_many

    def recording(chunks: list[str], jobs: int) -> list[str]:
        calls.extend(chunks)
        return original(chunks, jobs)

    monkeypatch.setattr(formatting, "_format_many", recording)
    return calls


def new_process_compile(workflow: Workflow) -> str:
    """A compile with nothing in memory, as a new process has it: only the disk is warm."""
    formatting._memory.clear()
    chunk_facts.forget()
    render.packages_imported_in.cache_clear()
    return compile_ir(workflow.ir).source


def cold_compile(workflow: Workflow, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("KAILASH_COMPILE_CACHE", str(tmp_path / "cold-cache"))
    try:
        return new_process_compile(workflow)
    finally:
        shutil.rmtree(tmp_path / "cold-cache", ignore_errors=True)


def state_files(cache: Path) -> list[Path]:
    return sorted((cache / "states").iterdir())


def test_recompile_after_an_edit_formats_only_the_edited_node_and_equals_a_cold_compile(
    cache: Path, black_calls: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    new_process_compile(chain())
    for entry in cache.glob("[0-9a-f][0-9a-f]/*"):
        entry.unlink()  # only the module's state remains to be warm
    black_calls.clear()
    edited = new_process_compile(chain(edited=7))
    assert len(black_calls) == 1 and "# edited" in black_calls[0]
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "another-home"))
    assert cold_compile(chain(edited=7), tmp_path, monkeypatch) == edited


def test_unchanged_recompile_formats_nothing(cache: Path, black_calls: list[str]) -> None:
    first = new_process_compile(chain())
    black_calls.clear()
    assert new_process_compile(chain()) == first
    assert black_calls == []


def replaced(value: Any, old: str, new: str) -> Any:
    """``value`` (what a state holds) with ``old`` replaced by ``new`` in every string."""
    if isinstance(value, str):
        return value.replace(old, new)
    if isinstance(value, dict):
        return {key: replaced(item, old, new) for key, item in value.items()}
    if isinstance(value, list):
        return [replaced(item, old, new) for item in value]
    return value


def forged_body(state: Path, old: str, new: str) -> bytes:
    """The state's content, well formed, with ``old`` replaced by ``new`` everywhere."""
    body = state.read_bytes().partition(b"\n")[2]
    assert old.encode() in body
    return marshal.dumps(replaced(marshal.loads(body), old, new))


def forge(state: Path, old: str, new: str) -> None:
    mac = state.read_bytes().partition(b"\n")[0]
    state.write_bytes(mac + b"\n" + forged_body(state, old, new))


def test_forged_state_is_ignored(cache: Path, black_calls: list[str]) -> None:
    first = new_process_compile(chain())
    [state] = state_files(cache)
    forge(state, "value = 7", "value = 666")
    black_calls.clear()
    assert new_process_compile(chain()) == first


def test_state_made_with_another_key_is_ignored(
    cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, black_calls: list[str]
) -> None:
    """A state copied from elsewhere (a restored CI cache, another user) is authenticated by
    another key: even a well-formed one is not used."""
    new_process_compile(chain())
    [state] = state_files(cache)
    body = forged_body(state, "value = 7", "value = 666")
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "elsewhere"))
    key = os.urandom(32)
    state.write_bytes(hmac.new(key, body, hashlib.sha256).hexdigest().encode() + b"\n" + body)
    assert compile_state.load(cache, "state_chain", "anything.py", []).found == {}
    source = new_process_compile(chain())
    assert "value = 666" not in source and "value = 7" in source


def test_key_is_kept_outside_the_cache_and_private(cache: Path) -> None:
    new_process_compile(chain())
    key = compile_state.key_path()
    assert key is not None and key.is_file() and cache not in key.parents
    assert key.stat().st_mode & 0o077 == 0


def test_state_of_another_compiler_or_templates_is_not_used(cache: Path, tmp_path: Path) -> None:
    plan = analyse(chain().ir)
    new_process_compile(chain())
    shipped = render.template_dirs()
    assert compile_state.load(cache, plan.module_name, plan.ir.location.file, shipped).found
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "run_call.py.j2").write_text((shipped[0] / "run_call.py.j2").read_text())
    assert not compile_state.load(cache, plan.module_name, plan.ir.location.file, [*shipped, templates]).found


def test_edited_user_template_is_rendered_anew(cache: Path, tmp_path: Path) -> None:
    templates = tmp_path / "templates"
    templates.mkdir()
    shipped = render.template_dirs()[0] / "node_code.py.j2"
    (templates / "node_code.py.j2").write_text(shipped.read_text())
    first = compile_ir(chain().ir, templates=templates).source
    (templates / "node_code.py.j2").write_text("# reviewed\n" + shipped.read_text())
    stat = (templates / "node_code.py.j2").stat()
    os.utime(templates / "node_code.py.j2", ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    formatting._memory.clear()
    second = compile_ir(chain().ir, templates=templates).source
    assert "# reviewed" not in first and second.count("# reviewed") == 30


def test_fingerprint_tells_plans_apart_and_refuses_what_it_cannot_see() -> None:
    plan = analyse(chain().ir)
    first, second = plan.nodes[1], plan.nodes[2]
    assert compile_state.fingerprint(first) == compile_state.fingerprint(first)
    assert compile_state.fingerprint(first) != compile_state.fingerprint(second)
    for field in dataclasses.fields(first.node):
        value = getattr(first.node, field.name)
        if isinstance(value, str):
            changed = dataclasses.replace(first, node=dataclasses.replace(first.node, **{field.name: value + "x"}))
            assert compile_state.fingerprint(changed) != compile_state.fingerprint(first), field.name
    assert compile_state.fingerprint((1, "1")) != compile_state.fingerprint(("1", 1))
    assert compile_state.fingerprint((1, True)) != compile_state.fingerprint((1, 1))
    assert compile_state.fingerprint(((1,), 2)) != compile_state.fingerprint(((1, 2),))
    assert compile_state.fingerprint({"a": 1}) != compile_state.fingerprint({"a": 2})
    for opaque in (ValueError, EnvRef("TOKEN", "str", "secret"), object(), 1 + 2j, b"bytes"):
        assert compile_state.fingerprint(opaque) is None
        assert compile_state.fingerprint(dataclasses.replace(first, signature=(opaque,))) is None  # type: ignore[arg-type]


def test_damaged_state_is_ignored(cache: Path) -> None:
    first = new_process_compile(chain())
    [state] = state_files(cache)
    for damage in (b"", b"\xff\xfe", b"0" * 64 + b"\nnot marshal", state.read_bytes()[:100]):
        state.write_bytes(damage)
        assert new_process_compile(chain()) == first


def test_state_keeps_only_the_entries_of_the_last_compile(cache: Path) -> None:
    new_process_compile(chain(nodes=30))
    new_process_compile(chain(nodes=3))
    [state] = state_files(cache)
    entries = marshal.loads(state.read_bytes().partition(b"\n")[2])["entries"]
    assert len(entries[compile_state.FORMATTED]) == 3 + 2  # the nodes, the header and run()


def test_fingerprint_keeps_values_apart() -> None:
    assert compile_state.fingerprint((1, 23)) != compile_state.fingerprint((12, 3))
    assert compile_state.fingerprint(("a,", "b")) != compile_state.fingerprint(("a", ",b"))
    assert compile_state.fingerprint([1]) != compile_state.fingerprint((1,))
    assert compile_state.fingerprint(1.0) != compile_state.fingerprint(1)
    nested: list[object] = []
    for _ in range(100_000):
        nested = [nested]
    assert compile_state.fingerprint(nested) is None  # too deep to describe: not kept
    assert compile_state.fingerprint(10**5000) is None  # more digits than Python writes in decimal


def test_recompile_reads_the_facts_of_unchanged_chunks_from_the_state(
    cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    new_process_compile(chain())
    for entry in cache.glob("[0-9a-f][0-9a-f]/*"):
        entry.unlink()  # only the module's state remains to be warm
    read: list[str] = []
    original = chunk_facts._read_many

    def recording(texts: list[str], jobs: int) -> list[object]:
        read.extend(texts)
        return original(texts, jobs)  # type: ignore[return-value]

    monkeypatch.setattr(chunk_facts, "_read_many", recording)
    new_process_compile(chain(edited=7))
    assert len(read) == 1 and "# edited" in read[0]


def test_an_edit_that_keeps_the_size_and_the_second_of_the_file_is_compiled(tmp_path: Path) -> None:
    """Python's bytecode cache would take the file for unchanged (same size, same whole second):
    the workflow file is read from its text every time."""
    source = tmp_path / "same_size.py"
    text = 'from kailash.workflow import AsyncWorkflowBuilder\nworkflow = AsyncWorkflowBuilder("same_size")\n'
    source.write_text(text + 'workflow.add_async_code("n", "result = {\'v\': 1}")\n')
    stamp = source.stat().st_mtime_ns
    env = {**os.environ, "KAILASH_COMPILE_CACHE": str(tmp_path / "cache")}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    command = [sys.executable, "-m", "kailash.cli", str(source), "--stdout"]
    first = subprocess.run(command, env=env, capture_output=True, text=True, check=True).stdout
    source.write_text(text + 'workflow.add_async_code("n", "result = {\'v\': 2}")\n')
    os.utime(source, ns=(stamp, stamp))
    second = subprocess.run(command, env=env, capture_output=True, text=True, check=True).stdout
    assert "'v': 1" in first.replace('"', "'") and "'v': 2" in second.replace('"', "'")
    assert not (tmp_path / "__pycache__").exists()


def test_compiled_templates_are_kept_authenticated(cache: Path, tmp_path: Path) -> None:
    """A compiled template is read back only when this user's key authenticates it: a forged
    one (code the compiler would run) is compiled anew, not run."""
    from kailash.targets.template_cache import bytecode_cache

    shipped = render.template_dirs()

    def environment() -> object:
        import jinja2

        loader = jinja2.FileSystemLoader([str(path) for path in shipped])
        return jinja2.Environment(loader=loader, bytecode_cache=bytecode_cache(cache))

    first = environment().get_template("run_call.py.j2")  # type: ignore[attr-defined]
    [kept] = list((cache / "templates").iterdir())
    assert first.render(call={"handle": None, "node_id": '"a"', "ident": "a", "args": []}, exploded=False)
    mac, _, body = kept.read_bytes().partition(b"\n")
    kept.write_bytes(mac + b"\n" + body.replace(b"a", b"b", 1))
    again = environment().get_template("run_call.py.j2")  # type: ignore[attr-defined]
    assert again.render(call={"handle": None, "node_id": '"a"', "ident": "a", "args": []}, exploded=False)
    assert compile_state.read_authenticated(kept) is not None  # compiled anew and written again


def test_the_command_prints_all_it_has_before_it_exits(tmp_path: Path) -> None:
    """The command ends without freeing what it made (os._exit): what it printed is flushed first,
    to a pipe too, and its exit status is kept."""
    source = tmp_path / "wide.py"
    source.write_text(
        "from kailash.workflow import AsyncWorkflowBuilder\n"
        'workflow = AsyncWorkflowBuilder("wide")\n'
        "for index in range(300):\n"
        '    workflow.add_async_code(f"n{index}", f"result = {index}")\n'
    )
    env = {**os.environ, "KAILASH_COMPILE_CACHE": str(tmp_path / "cache")}
    command = [sys.executable, "-m", "kailash.cli", str(source), "--stdout"]
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    assert done.returncode == 0 and done.stdout.rstrip().endswith("rt.main(run)")
    assert done.stdout.count('r.node(\n            "n') + done.stdout.count('r.node("n') == 300
    missing = subprocess.run([*command[:3], str(tmp_path / "missing.py")], env=env, capture_output=True, check=False)
    assert missing.returncode == 2 and b"missing.py" in missing.stderr
