"""The kailash-compile command line: finding workflows, --check, --diff, --stdout, stable output."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from kailash._files import write_atomically, write_output

from .conftest import EXAMPLES, ROOT, run_cli

TWO_WORKFLOWS = """
from kailash.workflow import AsyncWorkflowBuilder

first = AsyncWorkflowBuilder("first_flow")
first.add_async_code("a", "result = {'n': 1}")

second = AsyncWorkflowBuilder("second-flow")
second.add_async_code("a", "result = {'n': 2}")
second.add_async_code("b", "result = n * 10")
second.add_connection("a", "n", "b", "n")
second_built = second.build()  # the same workflow as `second`: compiled once

NOT_A_WORKFLOW = 3


def make_one():
    builder = AsyncWorkflowBuilder("made_one")
    builder.add_async_code("x", "result = 1")
    return builder


def make_many():
    made = []
    for index in range(2):
        builder = AsyncWorkflowBuilder(f"made_{index}")
        builder.add_async_code("x", f"result = {index}")
        made.append(builder.build())
    return made
"""


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"))
    return path


def names(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir()) if directory.exists() else []


def test_file_compiles_every_module_level_workflow_once(tmp_path: Path) -> None:
    source = write(tmp_path / "flows.py", TWO_WORKFLOWS)
    out = tmp_path / "out"
    result = run_cli(str(source), "-o", str(out))
    assert result.returncode == 0, result.stderr
    # `second` and `second_built` are one workflow; functions returning workflows are not called.
    assert names(out) == ["first_flow.py", "second_flow.py"]
    assert "2 written, 0 unchanged" in result.stderr


def test_file_attribute(tmp_path: Path) -> None:
    source = write(tmp_path / "flows.py", TWO_WORKFLOWS)
    out = tmp_path / "out"
    assert run_cli(f"{source}:second_built", "-o", str(out)).returncode == 0
    assert names(out) == ["second_flow.py"]


def test_attribute_may_be_a_function_returning_one_or_a_list(tmp_path: Path) -> None:
    source = write(tmp_path / "flows.py", TWO_WORKFLOWS)
    out = tmp_path / "out"
    one = run_cli(f"{source}:make_one", "-o", str(out))
    assert one.returncode == 0, one.stderr
    assert names(out) == ["made_one.py"]
    many = run_cli(f"{source}:make_many", "-o", str(out))
    assert many.returncode == 0, many.stderr
    assert names(out) == ["made_0.py", "made_1.py", "made_one.py"]


def test_package_module_attribute(tmp_path: Path) -> None:
    write(tmp_path / "mypkg" / "__init__.py", "")
    write(tmp_path / "mypkg" / "flows.py", TWO_WORKFLOWS)
    out = tmp_path / "out"
    result = run_cli("mypkg.flows:first", "-o", str(out), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert names(out) == ["first_flow.py"]
    # Without an attribute, a dotted module name works like a file.
    result = run_cli("mypkg.flows", "--stdout", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("async def run(") == 2


def test_stdout_prints_exactly_what_would_be_written(tmp_path: Path) -> None:
    source = write(tmp_path / "flows.py", TWO_WORKFLOWS)
    out = tmp_path / "out"
    printed = run_cli(f"{source}:first", "--stdout")
    assert printed.returncode == 0, printed.stderr
    assert run_cli(f"{source}:first", "-o", str(out)).returncode == 0
    assert printed.stdout == (out / "first_flow.py").read_text()


def test_check_lists_missing_and_stale_and_writes_nothing(tmp_path: Path) -> None:
    source = write(tmp_path / "flows.py", TWO_WORKFLOWS)
    out = tmp_path / "out"
    missing = run_cli(str(source), "-o", str(out), "--check")
    assert missing.returncode == 1
    assert f"missing: {out / 'first_flow.py'}" in missing.stderr
    assert f"missing: {out / 'second_flow.py'}" in missing.stderr
    assert not out.exists()

    assert run_cli(str(source), "-o", str(out)).returncode == 0
    fresh = run_cli(str(source), "-o", str(out), "--check")
    assert fresh.returncode == 0, fresh.stderr
    assert "missing" not in fresh.stderr and "stale" not in fresh.stderr

    stale_path = out / "second_flow.py"
    edited = stale_path.read_text().replace("result = n * 10", "result = n * 11")
    stale_path.write_text(edited)
    stale = run_cli(str(source), "-o", str(out), "--check")
    assert stale.returncode == 1
    assert f"stale: {stale_path}" in stale.stderr
    assert "first_flow" not in stale.stderr
    assert stale_path.read_text() == edited  # not repaired by --check


def test_diff_shows_what_would_change_and_writes_nothing(tmp_path: Path) -> None:
    source = write(tmp_path / "flows.py", TWO_WORKFLOWS)
    out = tmp_path / "out"
    assert run_cli(str(source), "-o", str(out)).returncode == 0
    path = out / "second_flow.py"
    original = path.read_text()
    path.write_text(original.replace("result = n * 10", "result = n * 11"))
    result = run_cli(str(source), "-o", str(out), "--diff")
    assert result.returncode == 0, result.stderr
    assert f"--- {path}" in result.stdout and f"+++ {path}" in result.stdout
    assert "-    result = n * 11\n" in result.stdout
    assert "+    result = n * 10\n" in result.stdout
    assert "first_flow" not in result.stdout  # unchanged files have no diff
    assert "result = n * 11" in path.read_text()


def test_unchanged_files_are_not_rewritten(tmp_path: Path) -> None:
    source = write(tmp_path / "flows.py", TWO_WORKFLOWS)
    out = tmp_path / "out"
    assert run_cli(str(source), "-o", str(out)).returncode == 0
    old = 1_000_000_000
    for path in out.iterdir():
        os.utime(path, (old, old))
    source.write_text(source.read_text().replace("result = {'n': 1}", "result = {'n': 100}"))
    again = run_cli(str(source), "-o", str(out))
    assert again.returncode == 0, again.stderr
    assert "1 written, 1 unchanged" in again.stderr
    assert (out / "second_flow.py").stat().st_mtime == old
    assert (out / "first_flow.py").stat().st_mtime != old
    assert names(out) == ["first_flow.py", "second_flow.py"]  # no temporary files left behind


def _compile_in_process(sources: list[str], out: Path, hashseed: str) -> None:
    env = {**os.environ, "PYTHONHASHSEED": hashseed}
    result = subprocess.run(
        [sys.executable, "-m", "kailash.cli", *sources, "-o", str(out)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr


MANY_NAMES = """
from kailash.workflow import AsyncWorkflowBuilder, ErrorHandler, RetryPolicy

wide = AsyncWorkflowBuilder("wide", description="sets, dicts and imports in every order")
wide.add_async_code("root", "result = {'k': [1, 2, 3]}")
for index, module in enumerate(["json", "time", "random", "math", "re", "uuid", "hashlib", "itertools"]):
    wide.add_async_code(
        f"leaf_{index}",
        f"value = {module}.__name__\\nresult = {{'m': value, 'k': k, 'x': extra_{index % 3}}}",
        timeout=1.5,
        retry_policy=RetryPolicy(max_retries=1, retry_on=[ConnectionError, "TimeoutError"]),
        error_handler=ErrorHandler("fallback", {"b": {1, 2}.__class__.__name__, "a": [None]}),
    )
    wide.add_connection("root", "k", f"leaf_{index}", "k")
"""


def test_output_is_identical_across_runs_and_hash_seeds(tmp_path: Path) -> None:
    source = write(tmp_path / "many.py", MANY_NAMES)
    sources = [str(source), *(str(p) for p in sorted(EXAMPLES.glob("*.py")))]
    first, second = tmp_path / "first", tmp_path / "second"
    _compile_in_process(sources, first, "1")
    _compile_in_process(sources, second, "4242")
    assert names(first) == names(second) and len(names(first)) >= 4
    for name in names(first):
        text = (first / name).read_bytes()
        assert text == (second / name).read_bytes(), name
        assert str(tmp_path).encode() not in text and str(ROOT).encode() not in text  # no absolute paths


def test_help_and_missing_output_dir(tmp_path: Path) -> None:
    assert run_cli("--help").returncode == 0
    result = run_cli(str(EXAMPLES / "order_totals.py"), cwd=tmp_path)  # no configuration gives an output either
    assert result.returncode == 2
    assert "-o DIR" in result.stderr
    nothing = run_cli(cwd=tmp_path)
    assert nothing.returncode == 2
    assert "give SOURCE" in nothing.stderr


# -- output files: modes, symbolic links, paths that cannot be written ---------------------------

ONE_WORKFLOW = """
from kailash.workflow import AsyncWorkflowBuilder

builder = AsyncWorkflowBuilder("greeting")
builder.add_async_code("hello", "result = 1")
"""


def run_cli_with_umask(umask: int, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "kailash.cli", *args], cwd=ROOT, capture_output=True, text=True, check=False, umask=umask
    )


def edit(source: Path, value: int) -> None:
    source.write_text(textwrap.dedent(ONE_WORKFLOW).replace("result = 1", f"result = {value}"))


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_new_files_follow_the_umask_and_existing_files_keep_their_mode(tmp_path: Path) -> None:
    source = write(tmp_path / "flows.py", ONE_WORKFLOW)
    for umask, expected in [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)]:
        out = tmp_path / f"out-{umask:o}"
        assert run_cli_with_umask(umask, str(source), "-o", str(out)).returncode == 0
        assert mode(out / "greeting.py") == expected
    out = tmp_path / "out-22"
    (out / "greeting.py").chmod(0o640)
    edit(source, 2)
    result = run_cli_with_umask(0o022, str(source), "-o", str(out))
    assert result.returncode == 0 and "1 written" in result.stderr
    assert "result = 2" in (out / "greeting.py").read_text()
    assert mode(out / "greeting.py") == 0o640


def test_a_symlinked_module_is_written_through_to_its_target(tmp_path: Path) -> None:
    source = write(tmp_path / "flows.py", ONE_WORKFLOW)
    out, deployed = tmp_path / "out", tmp_path / "deployed"
    out.mkdir()
    deployed.mkdir()
    target = deployed / "greeting.py"
    target.write_text("stale\n")
    target.chmod(0o640)
    (out / "greeting.py").symlink_to("../deployed/greeting.py")
    result = run_cli(str(source), "-o", str(out))
    assert result.returncode == 0, result.stderr
    assert (out / "greeting.py").is_symlink()
    assert "result = 1" in target.read_text()
    assert mode(target) == 0o640
    assert names(out) == ["greeting.py"] and names(deployed) == ["greeting.py"]
    assert run_cli(str(source), "-o", str(out), "--check").returncode == 0  # read through the link too


def test_a_dangling_symlink_creates_its_target(tmp_path: Path) -> None:
    source = write(tmp_path / "flows.py", ONE_WORKFLOW)
    out = tmp_path / "out"
    out.mkdir()
    (out / "greeting.py").symlink_to(tmp_path / "made.py")
    result = run_cli(str(source), "-o", str(out))
    assert result.returncode == 0, result.stderr
    assert "result = 1" in (tmp_path / "made.py").read_text()


def assert_refused(result: subprocess.CompletedProcess[str], *needles: str) -> None:
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith("error: ") and result.stderr.count("error:") == 1, result.stderr
    assert "Traceback" not in result.stderr
    for needle in needles:
        assert needle in result.stderr


def test_output_directory_under_a_file_is_refused(tmp_path: Path) -> None:
    source = write(tmp_path / "flows.py", ONE_WORKFLOW)
    (tmp_path / "afile").write_text("x")
    result = run_cli(str(source), "-o", str(tmp_path / "afile" / "sub"))
    assert_refused(result, f"{tmp_path / 'afile'} is a file")
    assert (tmp_path / "afile").read_text() == "x"


def test_a_directory_where_the_module_goes_is_refused(tmp_path: Path) -> None:
    source = write(tmp_path / "flows.py", ONE_WORKFLOW)
    (tmp_path / "out" / "greeting.py").mkdir(parents=True)
    for extra in [(), ("--check",), ("--diff",)]:
        assert_refused(run_cli(str(source), "-o", str(tmp_path / "out"), *extra), "is a directory")
    assert names(tmp_path / "out") == ["greeting.py"] and names(tmp_path / "out" / "greeting.py") == []


def test_a_module_file_that_is_not_utf8_is_refused_and_kept(tmp_path: Path) -> None:
    source = write(tmp_path / "flows.py", ONE_WORKFLOW)
    existing = tmp_path / "out" / "greeting.py"
    existing.parent.mkdir()
    existing.write_bytes(b"\xff\xfe binary")
    for extra in [(), ("--check",), ("--diff",)]:
        assert_refused(run_cli(str(source), "-o", str(tmp_path / "out"), *extra), "not UTF-8", "hint:")
    assert existing.read_bytes() == b"\xff\xfe binary"
    assert names(tmp_path / "out") == ["greeting.py"]


def test_a_symlink_loop_is_refused(tmp_path: Path) -> None:
    source = write(tmp_path / "flows.py", ONE_WORKFLOW)
    out = tmp_path / "out"
    out.mkdir()
    (out / "greeting.py").symlink_to("loop")
    (out / "loop").symlink_to("greeting.py")
    assert_refused(run_cli(str(source), "-o", str(out)), "symbolic links")
    assert names(out) == ["greeting.py", "loop"]


def test_a_workflow_name_too_long_for_a_file_name_is_refused(tmp_path: Path) -> None:
    source = write(tmp_path / "flows.py", ONE_WORKFLOW.replace('"greeting"', '"g" * 300'))
    out = tmp_path / "out"
    result = run_cli(str(source), "-o", str(out))
    assert_refused(result, "flows.py:3:", "303 bytes", "at most 255", "hint: give the workflow a shorter name")
    assert not out.exists()
    out.mkdir()
    assert_refused(run_cli(str(source), "-o", str(out)), "303 bytes")
    assert names(out) == []  # no temporary file left behind
    printed = run_cli(str(source), "--stdout")
    assert printed.returncode == 0 and "result = 1" in printed.stdout


def test_a_failed_write_leaves_nothing_behind(tmp_path: Path) -> None:
    with pytest.raises(OSError):
        write_output(tmp_path / ("x" * 300 + ".py"), "text\n")
    with pytest.raises(UnicodeEncodeError):
        write_output(tmp_path / "module.py", "lone \udc80 surrogate\n")
    (tmp_path / "module.py").write_text("kept\n")
    with pytest.raises(UnicodeEncodeError):
        write_output(tmp_path / "module.py", "lone \udc80 surrogate\n")
    assert names(tmp_path) == ["module.py"] and (tmp_path / "module.py").read_text() == "kept\n"


def test_cache_files_are_private_and_never_written_through_a_link(tmp_path: Path) -> None:
    victim = tmp_path / "victim"
    victim.write_text("precious\n")
    entry = tmp_path / "cache" / "ab" / "entry"
    entry.parent.mkdir(parents=True)
    entry.symlink_to(victim)
    write_atomically(entry, "cached\n")
    assert victim.read_text() == "precious\n"
    assert not entry.is_symlink() and entry.read_text() == "cached\n"
    assert mode(entry) == 0o600
