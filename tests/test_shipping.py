"""Shipping a compiled workflow, as a user does it: kailash-rt installed alone in a fresh virtual
environment, or vendored beside the modules (``--vendor-runtime``) and run on a bare Python."""

from __future__ import annotations

import importlib.metadata
import json
import os
import re
import subprocess
import sys
import tomllib
import venv
import zipfile
from pathlib import Path

import kailash
import kailash_rt
import pytest

from .conftest import GOLDEN, ROOT, run_cli

VERSION = kailash_rt.__version__
ORDER_INPUTS = json.dumps({"order": {"lines": [{"sku": "gizmo", "qty": 2}]}, "tax_rate": 0.1})
ORDER_TOTAL = {"total": 15.95, "tax": 1.45, "currency": "EUR"}

AIOHTTP_RETRY = """
from kailash.workflow import AsyncWorkflowBuilder, RetryPolicy

builder = AsyncWorkflowBuilder("aiohttp_retry")
builder.add_async_code(
    "fetch", "result = {'ok': True}", retry_policy=RetryPolicy(max_retries=2, retry_on=["aiohttp.ClientError"])
)
"""
HTTP_RESOURCE = """
from kailash.workflow import AsyncWorkflowBuilder

builder = AsyncWorkflowBuilder("http_status")
builder.with_http_client("api", base_url="http://127.0.0.1:9")
builder.add_async_code("status", "result = await api.get('/status')")
"""


def _run(*command: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(part) for part in command], capture_output=True, text=True, check=False, cwd=cwd)


def _pip(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return _run(sys.executable, "-m", "pip", "--disable-pip-version-check", "-q", *args)


def _wheel(source: Path, directory: Path) -> zipfile.ZipFile:
    built = _pip("wheel", "--no-deps", "-w", directory, source)
    assert built.returncode == 0, built.stderr
    (wheel,) = directory.glob("*.whl")
    return zipfile.ZipFile(wheel)


def _metadata(wheel: zipfile.ZipFile) -> list[str]:
    (name,) = [n for n in wheel.namelist() if n.endswith(".dist-info/METADATA")]
    return wheel.read(name).decode().splitlines()


def _compile(tmp_path: Path, workflow: str, *options: str) -> Path:
    """Compile ``workflow`` (the text of a workflow file) into tmp_path/out."""
    source = tmp_path / "workflow.py"
    source.write_text(workflow)
    done = run_cli(str(source), "-o", str(tmp_path / "out"), *options, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    return tmp_path / "out"


@pytest.fixture(scope="module")
def runtime_only(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The python of a fresh virtual environment where only ./runtime_stub is installed (a copy,
    not an editable install: nothing of the checkout is on its path)."""
    environment = tmp_path_factory.mktemp("runtime-only") / "venv"
    venv.create(environment, with_pip=False)
    python = environment / "bin" / "python"
    installed = _pip("--python", python, "install", "--no-deps", ROOT / "runtime_stub")
    assert installed.returncode == 0, installed.stderr
    listed = _run(python, "-c", "import importlib.metadata as m; print(sorted(d.name for d in m.distributions()))")
    assert listed.stdout == "['kailash-rt']\n", listed.stdout
    return python


# -- the distributions ---------------------------------------------------------------------------
def test_one_version_for_both_distributions() -> None:
    compiler = tomllib.loads((ROOT / "pyproject.toml").read_text())
    runtime = tomllib.loads((ROOT / "runtime_stub" / "pyproject.toml").read_text())
    for project, version_file in (
        (compiler, "runtime_stub/kailash_rt/_version.py"),
        (runtime, "kailash_rt/_version.py"),
    ):
        assert "version" not in project["project"] and project["project"]["dynamic"] == ["version"]
        assert project["tool"]["hatch"]["version"]["path"] == version_file
    assert f"kailash-rt=={VERSION}" in compiler["project"]["dependencies"]
    assert kailash.__version__ == VERSION
    assert importlib.metadata.version("kailash-rt") == importlib.metadata.version("kailash-compile") == VERSION


def test_the_runtime_wheel_has_no_dependencies_and_the_compiler_wheel_no_runtime(tmp_path: Path) -> None:
    runtime = _wheel(ROOT / "runtime_stub", tmp_path / "runtime")
    assert f"Version: {VERSION}" in _metadata(runtime)
    assert not [line for line in _metadata(runtime) if line.startswith("Requires-Dist:")]
    assert {n.split("/")[0] for n in runtime.namelist()} == {"kailash_rt", f"kailash_rt-{VERSION}.dist-info"}
    compiler = _wheel(ROOT, tmp_path / "compiler")
    assert f"Requires-Dist: kailash-rt=={VERSION}" in _metadata(compiler)
    assert not [n for n in compiler.namelist() if n.startswith("kailash_rt/")]


def test_ci_runs_exactly_the_readme_test_command() -> None:
    readme = (ROOT / "README.md").read_text()
    (command,) = re.findall(r"^(python3 -m venv \.venv && .* -m pytest)$", readme, re.MULTILINE)
    assert "-e ./runtime_stub -e '.[dev]'" in command
    assert command in (ROOT / ".ci" / "run").read_text().splitlines()


# -- kailash-rt alone ----------------------------------------------------------------------------
def test_a_module_runs_where_only_kailash_rt_is_installed(tmp_path: Path, runtime_only: Path) -> None:
    assert _run(runtime_only, "-c", "import kailash").returncode == 1  # the compiler is not there
    out = tmp_path / "out"
    assert run_cli("examples/order_totals.py", "-o", str(out)).returncode == 0
    ran = _run(runtime_only, out / "order_totals.py", "--inputs", ORDER_INPUTS)
    assert ran.returncode == 0, ran.stderr
    assert json.loads(ran.stdout)["results"]["apply_tax"] == ORDER_TOTAL


def test_a_library_missing_at_import_is_one_line(tmp_path: Path, runtime_only: Path) -> None:
    out = _compile(tmp_path, AIOHTTP_RETRY)
    source = (out / "aiohttp_retry.py").read_text()
    assert f"Requires: kailash-rt {VERSION} or newer, aiohttp\n" in source
    assert f'    pip install "kailash-rt>={VERSION}" aiohttp\n' in source
    ran = _run(runtime_only, out / "aiohttp_retry.py")
    assert ran.returncode == 2
    assert ran.stderr == (
        f"error: {out / 'aiohttp_retry.py'} needs the library 'aiohttp', which is not installed here"
        " (No module named 'aiohttp'): pip install aiohttp (its docstring lists what to install)\n"
    )
    # Imported by a program, the same line is an ImportError it can catch.
    imported = _run(runtime_only, "-c", "import aiohttp_retry", cwd=out)
    assert imported.stderr.splitlines()[-1].startswith(
        f"kailash_rt.MissingRequirement: {out / 'aiohttp_retry.py'} needs the library 'aiohttp'"
    ), imported.stderr


def test_a_library_missing_at_run_time_is_one_line(tmp_path: Path, runtime_only: Path) -> None:
    out = _compile(tmp_path, HTTP_RESOURCE)
    assert f'    pip install "kailash-rt>={VERSION}" aiohttp\n' in (out / "http_status.py").read_text()
    ran = _run(runtime_only, out / "http_status.py")
    assert ran.returncode == 1 and "Traceback" not in ran.stderr
    assert json.loads(ran.stdout)["errors"] == {
        "status": "ResourceError: resource 'api' (http) needs the aiohttp package: pip install aiohttp"
    }


def test_the_docstring_lists_the_client_library_of_each_resource(tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert run_cli("examples/data_enrichment.py", "-o", str(out)).returncode == 0
    source = (out / "data_enrichment_pipeline.py").read_text()
    assert f"Requires: kailash-rt {VERSION} or newer, aiohttp, asyncpg, redis\n" in source
    assert f'    pip install "kailash-rt>={VERSION}" aiohttp asyncpg redis\n' in source


FACTORY_AND_CODE_IMPORTS = """
from kailash.resources import ResourceFactory
from kailash.workflow import AsyncWorkflowBuilder


class CustomServiceFactory(ResourceFactory):
    def __init__(self, base_url: str):
        self.base_url = base_url

    async def create(self):
        import aiohttp

        return aiohttp.ClientSession(base_url=self.base_url)


builder = AsyncWorkflowBuilder("custom_service")
builder.require_resource("service", CustomServiceFactory("http://127.0.0.1:9"))
builder.add_async_code("parse", "import yaml\\nresult = yaml.safe_load('a: 1')")
builder.add_async_code("when", "import datetime\\nresult = str(datetime.date(2024, 1, 2))")
"""


def test_the_docstring_lists_what_factories_and_code_blocks_import(tmp_path: Path) -> None:
    out = _compile(tmp_path, FACTORY_AND_CODE_IMPORTS)
    source = (out / "custom_service.py").read_text()
    assert f"Requires: kailash-rt {VERSION} or newer, aiohttp, yaml\n" in source
    assert f'    pip install "kailash-rt>={VERSION}" aiohttp PyYAML\n' in source


def test_an_older_runtime_stops_the_module_with_one_line(tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert run_cli("examples/order_totals.py", "-o", str(out), "--vendor-runtime").returncode == 0
    version_file = out / "kailash_rt" / "_version.py"
    version_file.write_text(version_file.read_text().replace(f'"{VERSION}"', '"0.0.1"'))
    ran = _run(sys.executable, "-S", "-E", "-s", out / "order_totals.py", "--inputs", ORDER_INPUTS)
    assert ran.returncode == 2 and ran.stdout == ""
    assert ran.stderr == (
        f"error: {out / 'order_totals.py'} needs kailash-rt {VERSION} or newer, and kailash-rt 0.0.1 is what it"
        f" imports ({out / 'kailash_rt'}): install kailash-rt>={VERSION} (from a kailash-compile checkout:"
        " pip install ./runtime_stub)\n"
    )


def test_version_numbers_compare_as_numbers() -> None:
    from kailash_rt._requirements import version_tuple

    assert version_tuple("0.10.0") > version_tuple("0.9.3")
    assert version_tuple("1.2.0rc1") == version_tuple("1.2.0.dev4") == (1, 2, 0)


# -- --vendor-runtime ----------------------------------------------------------------------------
def _installed_runtime() -> dict[str, bytes]:
    package = Path(kailash_rt.__file__).parent
    return {
        f"kailash_rt/{p.relative_to(package).as_posix()}": p.read_bytes()
        for p in package.rglob("*.py")
        if "__pycache__" not in p.parts
    }


def _vendored(out: Path) -> dict[str, bytes]:
    return {
        p.relative_to(out).as_posix(): p.read_bytes()
        for p in (out / "kailash_rt").rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    }


def test_a_vendored_output_runs_on_a_bare_python(tmp_path: Path) -> None:
    out = tmp_path / "out"
    done = run_cli("examples/order_totals.py", "-o", str(out), "--vendor-runtime")
    assert done.returncode == 0, done.stderr
    assert _vendored(out) == _installed_runtime()
    ran = _run(sys.executable, "-S", "-E", "-s", out / "order_totals.py", "--inputs", ORDER_INPUTS, cwd=tmp_path)
    assert ran.returncode == 0, ran.stderr
    assert json.loads(ran.stdout)["results"]["apply_tax"] == ORDER_TOTAL


def test_vendoring_is_deterministic_and_checked(tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert run_cli("examples/order_totals.py", "-o", str(out), "--vendor-runtime").returncode == 0
    before = {path: os.stat(out / path).st_mtime_ns for path in _vendored(out)}
    again = run_cli("examples/order_totals.py", "-o", str(out), "--vendor-runtime")
    assert "0 written" in again.stderr
    assert {path: os.stat(out / path).st_mtime_ns for path in _vendored(out)} == before
    assert run_cli("examples/order_totals.py", "-o", str(out), "--vendor-runtime", "--check").returncode == 0

    edited = out / "kailash_rt" / "_run.py"
    edited.write_text(edited.read_text() + "# edited\n")
    (out / "kailash_rt" / "_node.py").unlink()
    check = run_cli("examples/order_totals.py", "-o", str(out), "--vendor-runtime", "--check")
    assert check.returncode == 1
    assert check.stderr.splitlines() == [f"missing: {out / 'kailash_rt' / '_node.py'}", f"stale: {edited}"]
    diff = run_cli("examples/order_totals.py", "-o", str(out), "--vendor-runtime", "--diff")
    assert (
        diff.returncode == 0
        and "-# edited\n" in diff.stdout
        and f"+++ {out / 'kailash_rt' / '_node.py'}" in diff.stdout
    )
    # Without --vendor-runtime the runtime's files are none of the compile's business.
    assert run_cli("examples/order_totals.py", "-o", str(out), "--check").returncode == 0
    assert run_cli("examples/order_totals.py", "-o", str(out), "--vendor-runtime").returncode == 0
    assert _vendored(out) == _installed_runtime()


def test_vendoring_does_not_combine_with_stdout() -> None:
    done = run_cli("examples/order_totals.py", "--stdout", "--vendor-runtime")
    assert done.returncode == 2 and "does not combine with" in done.stderr and "--vendor-runtime" in done.stderr


def test_stdout_names_each_of_several_modules(tmp_path: Path) -> None:
    both = run_cli("examples/order_totals.py", "tests/workflows/kinds/code_node.py", "--stdout")
    assert both.returncode == 0, both.stderr
    first, second = (GOLDEN / "order_totals.py").read_text(), (GOLDEN / "kinds" / "code_node.py").read_text()
    assert both.stdout == f"# ==> order_totals.py <==\n{first}\n# ==> code_node.py <==\n{second}"
    one = run_cli("examples/order_totals.py", "--stdout")
    assert one.stdout == first  # one module is printed exactly as its file


# -- the README's examples -----------------------------------------------------------------------
def _readme_block(after: str, language: str) -> str:
    """The first fenced ``language`` block of the README after the text ``after``."""
    text = (ROOT / "README.md").read_text().split(after, 1)[1]
    return text.split(f"```{language}\n", 1)[1].split("```\n", 1)[0]


def test_the_readme_in_process_example_prints_what_it_says(tmp_path: Path) -> None:
    code = _readme_block("In process, `await AsyncLocalRuntime()", "python")
    ran = _run(sys.executable, "-c", code, cwd=tmp_path)
    assert ran.returncode == 0, ran.stderr
    expected = [line.split("  # ", 1)[1] for line in code.splitlines() if line.startswith("    print(")]
    assert ran.stdout.splitlines()[0] == expected[0]
    assert ran.stdout.splitlines()[1] == expected[1].split(", traceback")[0]


def test_the_readme_vendoring_example_runs(tmp_path: Path) -> None:
    compile_line, run_line = _readme_block("`--vendor-runtime` also writes", "sh").splitlines()
    (tmp_path / "examples").mkdir()
    (tmp_path / "examples" / "order_totals.py").write_text((ROOT / "examples" / "order_totals.py").read_text())
    compile_args = compile_line.split()
    assert compile_args[0] == "kailash-compile"
    assert run_cli(*compile_args[1:], cwd=tmp_path).returncode == 0
    assert run_line.startswith("python -S -E -s out/order_totals.py --inputs '")
    inputs = run_line.split("--inputs '", 1)[1].rstrip("'")
    ran = _run(sys.executable, "-S", "-E", "-s", "out/order_totals.py", "--inputs", inputs, cwd=tmp_path)
    assert ran.returncode == 0, ran.stderr
    assert json.loads(ran.stdout)["results"]["apply_tax"] == ORDER_TOTAL


def test_the_readme_shows_the_requires_lines_a_module_has(tmp_path: Path) -> None:
    shown = _readme_block("A module states what it needs in its docstring", "text")
    out = tmp_path / "out"
    assert run_cli("examples/data_enrichment.py", "-o", str(out)).returncode == 0
    assert shown in (out / "data_enrichment_pipeline.py").read_text()


# A header template written before modules checked what they need: it imports everything itself.
OLD_HEADER = '''"""{{ name | docstring }}: compiled workflow."""

{% for line in stdlib_imports %}
{{ line }}
{% endfor %}

{% for line in third_party_imports %}
{{ line }}
{% endfor %}
{% if resources_source %}

{{ resources_source }}
{% endif %}
'''


def test_a_header_template_of_ones_own_from_before_still_works(tmp_path: Path) -> None:
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "header.py.j2").write_text(OLD_HEADER)
    out = _compile(tmp_path, AIOHTTP_RETRY, "--templates", str(tmp_path / "templates"))
    source = (out / "aiohttp_retry.py").read_text()
    assert "\nimport aiohttp\nimport kailash_rt as rt\n" in source and "require_version" not in source
    ran = _run(sys.executable, out / "aiohttp_retry.py")
    assert ran.returncode == 0, ran.stderr
    assert json.loads(ran.stdout) == {"results": {"fetch": {"ok": True}}, "errors": {}}
