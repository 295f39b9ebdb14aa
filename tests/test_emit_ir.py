"""The IR is visible: ``--emit-ir`` writes ``<module>.ir.json`` beside each module, and an IR file
is a SOURCE that compiles to the very module its workflow compiles to."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from kailash.codegen import compile_ir
from kailash.ir_files import IRFileError, read_ir_file

from .conftest import GOLDEN, ROOT, run_cli
from .test_cli import assert_refused, names, write
from .test_golden import CASES

SECRET_WORKFLOW = """
from kailash.workflow import AsyncWorkflowBuilder

builder = AsyncWorkflowBuilder("vault")
builder.with_database("main_db", host="db.internal", password="pw-7e7e-secret")
builder.with_http_client("api", base_url="https://api.example", headers={"Authorization": "Bearer tok-5a5a"})
builder.add_resource_node("count", "main_db", "fetchval", {"query": "SELECT 1", "api_token": "tt-9d9d"})
builder.add_async_code("show", "result = {'n': n}")
builder.add_connection("count", "result", "show", "n")
"""
SECRET_VALUES = ["pw-7e7e-secret", "tok-5a5a", "tt-9d9d"]

SMALL_WORKFLOW = """
from kailash.workflow import AsyncWorkflowBuilder

builder = AsyncWorkflowBuilder("small")
builder.add_async_code("a", "result = {'n': 1}")
builder.add_async_code("b", "result = n * 10")
builder.add_connection("a", "n", "b", "n")
"""

# The examples and tests/workflows: their golden modules are in tests/golden itself.
EXAMPLE_FILES = [case.workflow for case in CASES if case.golden == GOLDEN]


def emit(source: str | Path, out: Path, *extra: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    result = run_cli(str(source), "-o", str(out), "--emit-ir", *extra, cwd=cwd)
    assert result.returncode == 0, result.stderr
    return result


@pytest.mark.parametrize("example", EXAMPLE_FILES)
def test_an_ir_file_compiles_to_the_same_module_bytes(example: str, tmp_path: Path) -> None:
    emit(example, tmp_path / "first")
    modules = sorted(path.name for path in (tmp_path / "first").glob("*.py"))
    assert modules and names(tmp_path / "first") == sorted([*modules, *(m[:-3] + ".ir.json" for m in modules)])
    for module in modules:
        ir_file = tmp_path / "first" / (module[:-3] + ".ir.json")
        # From anywhere: the module names the workflow file the IR records, not the IR file.
        emit(ir_file, tmp_path / "again", cwd=tmp_path)
        compiled = (tmp_path / "again" / module).read_bytes()
        assert compiled == (tmp_path / "first" / module).read_bytes() == (GOLDEN / module).read_bytes()
        # Writing the IR of an IR file gives the file back: the round trip is exact.
        assert (tmp_path / "again" / ir_file.name).read_bytes() == ir_file.read_bytes()


def test_the_ir_file_is_the_workflows_ir_indented_and_deterministic(tmp_path: Path) -> None:
    source = write(tmp_path / "small.py", SMALL_WORKFLOW)
    outputs = []
    for seed in ("1", "2"):
        out = tmp_path / f"out{seed}"
        subprocess.run(
            [sys.executable, "-m", "kailash.cli", str(source), "-o", str(out), "--emit-ir"],
            cwd=tmp_path,
            env={**os.environ, "PYTHONHASHSEED": seed},
            check=True,
            capture_output=True,
        )
        outputs.append({path.name: path.read_bytes() for path in out.iterdir()})
    assert outputs[0] == outputs[1]
    text = outputs[0]["small.ir.json"].decode()
    data = json.loads(text)
    assert data["ir_version"] == 3 and data["name"] == "small"
    assert [node["node_id"] for node in data["nodes"]] == ["a", "b"]
    assert data["location"] == {"file": "small.py", "line": 3}
    assert text.startswith('{\n  "ir_version": 3,\n') and text.endswith("}\n")  # one field a line, for review


def test_no_secret_value_reaches_the_ir_file(tmp_path: Path) -> None:
    source = write(tmp_path / "vault.py", SECRET_WORKFLOW)
    emit(source, tmp_path / "out", cwd=tmp_path)
    for path in (tmp_path / "out").iterdir():
        for secret in SECRET_VALUES:
            assert secret not in path.read_text(), f"{secret} written to {path.name}"
    # The secrets are there as the environment variables the module reads them from.
    data = json.loads((tmp_path / "out" / "vault.ir.json").read_text())
    assert sorted(env_references(data)) == ["API_HEADERS_AUTHORIZATION", "COUNT_PARAMS_API_TOKEN", "MAIN_DB_PASSWORD"]
    emit(tmp_path / "out" / "vault.ir.json", tmp_path / "again", cwd=tmp_path)
    assert (tmp_path / "again" / "vault.py").read_bytes() == (tmp_path / "out" / "vault.py").read_bytes()


def env_references(value: Any) -> list[str]:
    """The variables of every ``{"$env": [variable, kind]}`` in a JSON value."""
    if isinstance(value, dict):
        if set(value) == {"$env"}:
            return [value["$env"][0]]
        return [name for item in value.values() for name in env_references(item)]
    if isinstance(value, list):
        return [name for item in value for name in env_references(item)]
    return []


def test_an_ir_of_version_1_is_compiled_with_its_secrets_made_references(tmp_path: Path) -> None:
    source = write(tmp_path / "vault.py", SECRET_WORKFLOW)
    emit(source, tmp_path / "out", cwd=tmp_path)
    data = json.loads((tmp_path / "out" / "vault.ir.json").read_text())
    data["ir_version"] = 1  # version 1 held secrets as plain values
    data["resources"][0]["settings"]["password"] = "old-pw-0f0f"
    old = write(tmp_path / "old.ir.json", json.dumps(data))
    emit(old, tmp_path / "again", cwd=tmp_path)
    for path in (tmp_path / "again").iterdir():
        assert "old-pw-0f0f" not in path.read_text()
    assert json.loads((tmp_path / "again" / "vault.ir.json").read_text())["ir_version"] == 3
    assert (tmp_path / "again" / "vault.py").read_bytes() == (tmp_path / "out" / "vault.py").read_bytes()


def test_check_and_diff_cover_the_ir_files(tmp_path: Path) -> None:
    source = write(tmp_path / "small.py", SMALL_WORKFLOW)
    out = tmp_path / "out"
    missing = run_cli(str(source), "-o", str(out), "--emit-ir", "--check", cwd=tmp_path)
    assert missing.returncode == 1
    assert f"missing: {out / 'small.py'}" in missing.stderr and f"missing: {out / 'small.ir.json'}" in missing.stderr
    emit(source, out, cwd=tmp_path)
    assert run_cli(str(source), "-o", str(out), "--emit-ir", "--check", cwd=tmp_path).returncode == 0

    ir_file = out / "small.ir.json"
    changed = ir_file.read_text().replace('"result = n * 10\\n"', '"result = n * 11\\n"')
    ir_file.write_text(changed)
    stale = run_cli(str(source), "-o", str(out), "--emit-ir", "--check", cwd=tmp_path)
    assert stale.returncode == 1 and stale.stderr.strip() == f"stale: {ir_file}"
    diff = run_cli(str(source), "-o", str(out), "--emit-ir", "--diff", cwd=tmp_path)
    assert diff.returncode == 0
    assert '-      "code": "result = n * 11\\n",' in diff.stdout
    assert '+      "code": "result = n * 10\\n",' in diff.stdout
    assert ir_file.read_text() == changed  # --diff writes nothing
    # Without --emit-ir the IR files are none of the compile's business.
    assert run_cli(str(source), "-o", str(out), "--check", cwd=tmp_path).returncode == 0

    again = emit(source, out, cwd=tmp_path)
    assert "1 written, 1 unchanged" in again.stderr
    assert run_cli(str(source), "-o", str(out), "--emit-ir", "--check", cwd=tmp_path).returncode == 0


def test_an_ir_file_name_too_long_for_the_file_system_writes_nothing(tmp_path: Path) -> None:
    limit = os.pathconf(tmp_path, "PC_NAME_MAX")
    name = "w" * (limit - len(".py"))  # the module's name fits; its IR file's does not
    source = write(
        tmp_path / "long.py",
        f"""
        from kailash.workflow import AsyncWorkflowBuilder

        builder = AsyncWorkflowBuilder({name!r})
        builder.add_async_code("a", "result = 1")
        """,
    )
    assert run_cli(str(source), "-o", str(tmp_path / "plain"), cwd=tmp_path).returncode == 0
    result = run_cli(str(source), "-o", str(tmp_path / "out"), "--emit-ir", cwd=tmp_path)
    assert_refused(result, f"file name of {limit + len('.ir.json') - len('.py')} bytes")
    assert not (tmp_path / "out").exists()


def test_stdout_does_not_combine_with_emit_ir(tmp_path: Path) -> None:
    source = write(tmp_path / "small.py", SMALL_WORKFLOW)
    result = run_cli(str(source), "--stdout", "--emit-ir", cwd=tmp_path)
    assert result.returncode == 2 and "--emit-ir" in result.stderr


# -- IR files that cannot be compiled ----------------------------------------------------------


@pytest.fixture(scope="module")
def small_ir(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    directory = tmp_path_factory.mktemp("small")
    source = write(directory / "small.py", SMALL_WORKFLOW)
    emit(source, directory / "out", cwd=directory)
    data: dict[str, Any] = json.loads((directory / "out" / "small.ir.json").read_text())
    return data


def edited(data: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """A deep copy of ``data`` with the value at ``path`` (``nodes.0.location``) replaced, or
    removed when ``value`` is ``DELETE``."""
    copy = json.loads(json.dumps(data))
    *parents, last = path.split(".")
    target: Any = copy
    for key in parents:
        target = target[int(key)] if isinstance(target, list) else target[key]
    if value is DELETE:
        del target[last]
    else:
        target[last] = value
    return copy


DELETE = object()


def refused(path: Path, tmp_path: Path, *needles: str) -> None:
    result = run_cli(str(path), "-o", str(tmp_path / "out"), cwd=tmp_path)
    assert_refused(result, str(path), *needles)
    assert "\nhint: " in result.stderr
    assert not (tmp_path / "out").exists()


def test_an_ir_file_that_is_not_json_is_refused(tmp_path: Path) -> None:
    bad = write(tmp_path / "flow.ir.json", '{\n  "ir_version": 2,\n  "name": ,\n}\n')
    refused(bad, tmp_path, f"{bad.as_posix()}:3:11: not valid JSON: Expecting value", "--emit-ir")
    binary = tmp_path / "binary.ir.json"
    binary.write_bytes(b"\xff\xfe{}")
    refused(binary, tmp_path, "not UTF-8 text")


def test_a_json_file_that_is_not_an_ir_is_refused(tmp_path: Path, small_ir: dict[str, Any]) -> None:
    package = write(tmp_path / "package.json", '{"name": "left-pad", "version": "1.3.0"}')
    refused(package, tmp_path, "not a workflow IR: it holds a JSON object without ir_version", "--emit-ir")
    mistyped = write(tmp_path / "flow.ir.json", json.dumps(edited(small_ir, "nodes.1.location.line", "7")))
    refused(mistyped, tmp_path, "not a workflow IR: nodes[1].location.line: expected an integer, found a string")


def test_an_ir_of_a_version_this_compiler_does_not_read_is_refused(tmp_path: Path, small_ir: dict[str, Any]) -> None:
    newer = write(tmp_path / "newer.ir.json", json.dumps(edited(small_ir, "ir_version", 99)))
    refused(newer, tmp_path, "IR version 99 is not one this compiler reads (it reads 1, 2 and 3)", "upgrade")
    unknown = write(tmp_path / "unknown.ir.json", json.dumps(edited(small_ir, "ir_version", "2")))
    refused(unknown, tmp_path, "IR version '2' is not one this compiler reads", "--emit-ir")


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        ("nodes", {}, "nodes: expected an array, found an object"),
        ("nodes.0.kind", DELETE, "nodes[0]: missing field 'kind'"),
        ("nodes.0.color", "red", "nodes[0]: unknown field 'color'"),
        ("nodes.0.retry", {"attempts": 3}, "nodes[0].retry: missing field 'delay'"),
        ("nodes.0.timeout", True, "nodes[0].timeout: expected a number, found true or false"),
        ("nodes.0.settings", {"token": {"$env": ["TOKEN", "bytes"]}}, "nodes[0].settings.token: a secret reference"),
        ("nodes.0.settings", {"big": {"$int": "xyz"}}, "nodes[0].settings.big: expected a hexadecimal integer"),
        ("description", 3, "description: expected a string, found a number"),
        ("connections.0.to_node", None, "connections[0].to_node: expected a string, found null"),
    ],
)
def test_an_ir_of_the_wrong_shape_names_the_field(
    path: str, value: Any, message: str, small_ir: dict[str, Any], tmp_path: Path
) -> None:
    ir_file = write(tmp_path / "flow.ir.json", json.dumps(edited(small_ir, path, value)))
    with pytest.raises(IRFileError, match="not a workflow IR") as raised:
        read_ir_file(ir_file)
    assert message in str(raised.value)


def test_a_well_formed_ir_file_compiles_in_process_as_through_the_command_line(tmp_path: Path) -> None:
    emit("examples/order_totals.py", tmp_path)
    ir = read_ir_file(tmp_path / "order_totals.ir.json")
    assert compile_ir(ir).source == (GOLDEN / "order_totals.py").read_text()


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        ("nodes.1.node_id", "a", "node 'a': duplicate node id"),
        ("nodes.0.kind", "teleport", "node 'a': unknown node kind 'teleport'"),
        ("nodes.0.code", "result = (", "node 'a': syntax error in the code block"),
        ("connections.0.from_node", "ghost", "names unknown node 'ghost'"),
        ("nodes.0.kind", "parallel_map", "this IR cannot be compiled"),  # a kind without its settings
    ],
)
def test_an_ir_the_builder_would_refuse_is_refused(
    path: str, value: Any, message: str, small_ir: dict[str, Any], tmp_path: Path
) -> None:
    bad = write(tmp_path / "flow.ir.json", json.dumps(edited(small_ir, path, value)))
    # The message names the IR file and the place the IR records.
    refused(bad, tmp_path, f"{bad}: ", message)


def test_an_ir_file_holds_one_workflow_and_no_attribute(tmp_path: Path, small_ir: dict[str, Any]) -> None:
    ir_file = write(tmp_path / "small.ir.json", json.dumps(small_ir))
    result = run_cli(f"{ir_file}:builder", "-o", str(tmp_path / "out"), cwd=tmp_path)
    assert_refused(result, "an IR file holds one workflow")
    assert run_cli(str(ir_file), "-o", str(tmp_path / "out"), cwd=tmp_path).returncode == 0
    assert names(tmp_path / "out") == ["small.py"]


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"max_workers": 0}, "max_workers must be"),
        ({"max_workers": "x"}, "max_workers must be"),
        ({"workers": 3}, "the settings of a 'parallel_map' node do not fit it"),
    ],
)
def test_node_settings_of_an_ir_file_are_checked_as_the_builder_checks_them(
    settings: dict[str, Any], message: str, small_ir: dict[str, Any], tmp_path: Path
) -> None:
    data = edited(edited(small_ir, "nodes.0.kind", "parallel_map"), "nodes.0.settings", settings)
    bad = write(tmp_path / "flow.ir.json", json.dumps(data))
    result = run_cli(str(bad), "-o", str(tmp_path / "out"), cwd=tmp_path)
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
    assert f"{bad}: " in result.stderr and message in result.stderr
    assert not (tmp_path / "out").exists()
