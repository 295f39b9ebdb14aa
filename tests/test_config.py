"""Project configuration, used as a user would: ``[tool.kailash-compile]`` in a project's
pyproject.toml is found from any subdirectory by the command (run in a subprocess), its keys
are checked, and the modules do not depend on where the command runs. Also the pre-commit
hook, run exactly as .pre-commit-hooks.yaml states it."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from kailash.cli import main

from .conftest import EXAMPLES, GOLDEN, ROOT

BIN = Path(sys.executable).parent  # where the environment installed kailash-compile

CONFIG = """\
[project]
name = "shop"

[tool.kailash-compile]
sources = ["flows/*.py"]
output = "generated"
"""


def command(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([BIN / "kailash-compile", *args], cwd=cwd, capture_output=True, text=True, check=False)


def project(tmp_path: Path, config: str = CONFIG, flows: tuple[str, ...] = ("fan_out_fan_in", "order_totals")) -> Path:
    root = tmp_path / "shop"
    (root / "flows").mkdir(parents=True)
    (root / "docs" / "deep").mkdir(parents=True)
    (root / "pyproject.toml").write_text(config)
    for name in flows:
        shutil.copy(EXAMPLES / f"{name}.py", root / "flows" / f"{name}.py")
    return root


def test_a_bare_command_compiles_the_configured_sources_from_any_subdirectory(tmp_path: Path) -> None:
    root = project(tmp_path)
    deep = root / "docs" / "deep"
    missing = command("--check", cwd=deep)
    assert missing.returncode == 1
    assert missing.stderr.splitlines() == [
        "missing: ../../generated/service_health_report.py",
        "missing: ../../generated/order_totals.py",
    ]
    written = command(cwd=deep)
    assert written.returncode == 0, written.stderr
    modules = sorted(path.name for path in (root / "generated").iterdir())
    assert modules == ["order_totals.py", "service_health_report.py"]
    order_totals = (root / "generated" / "order_totals.py").read_text()
    assert "\nSource: flows/order_totals.py\n" in order_totals
    for directory in (root, root / "flows", deep):
        assert command("--check", cwd=directory).returncode == 0
        printed = subprocess.run(
            [sys.executable, "-m", "kailash", "--check"], cwd=directory, capture_output=True, text=True, check=False
        )
        assert printed.returncode == 0, printed.stderr
    # The module is what the golden module is, but for the path of its workflow file.
    golden = (GOLDEN / "order_totals.py").read_text()
    assert order_totals == golden.replace("examples/order_totals.py", "flows/order_totals.py")
    # A change to a workflow makes --check fail wherever it runs.
    flow = root / "flows" / "order_totals.py"
    flow.write_text(flow.read_text().replace('"discount_rate": rate}', '"discount_rate": rate, "edited": True}'))
    stale = command("--check", cwd=root / "flows")
    assert (stale.returncode, stale.stderr) == (1, "stale: ../generated/order_totals.py\n")


def test_modules_name_paths_from_the_project_root_wherever_the_command_runs(tmp_path: Path) -> None:
    root = project(tmp_path)
    from_root = command("flows/order_totals.py", "--stdout", cwd=root)
    from_flows = command("order_totals.py", "--stdout", cwd=root / "flows")
    from_deep = command("../../flows/order_totals.py", "--stdout", cwd=root / "docs" / "deep")
    assert from_root.returncode == 0, from_root.stderr
    assert from_root.stdout == from_flows.stdout == from_deep.stdout
    assert "\nSource: flows/order_totals.py\n" in from_root.stdout
    # Without a configuration the working directory is the root, as it always was.
    (root / "pyproject.toml").unlink()
    plain = command("order_totals.py", "--stdout", cwd=root / "flows")
    assert "\nSource: order_totals.py\n" in plain.stdout


def test_the_command_line_wins_over_the_configuration(tmp_path: Path) -> None:
    root = project(tmp_path, CONFIG + "strict = true\n")
    strict = command(cwd=root)  # order_totals reads the workflow input `order`: an error under strict
    assert strict.returncode == 2
    assert "name 'order' is not bound" in strict.stderr
    relaxed = command("--no-strict", cwd=root)
    assert relaxed.returncode == 0, relaxed.stderr
    other = command("flows/fan_out_fan_in.py", "-o", "elsewhere", cwd=root)
    assert other.returncode == 0, other.stderr
    assert [path.name for path in (root / "elsewhere").iterdir()] == ["service_health_report.py"]
    assert sorted(path.name for path in (root / "generated").iterdir()) == [
        "order_totals.py",
        "service_health_report.py",
    ]


def test_package_sources_and_explicit_config_files(tmp_path: Path) -> None:
    root = project(tmp_path, CONFIG.replace('["flows/*.py"]', '["flows.fan_out_fan_in:health"]'))
    (root / "flows" / "__init__.py").write_text("")
    assert command(cwd=root / "docs").returncode == 0
    assert (root / "generated" / "service_health_report.py").exists()
    # --config names a file: its directory is the root, whatever the current directory is.
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    assert command("--config", str(root / "pyproject.toml"), "--check", cwd=elsewhere).returncode == 0


def test_the_search_stops_at_a_repository_root_and_passes_over_other_pyprojects(tmp_path: Path) -> None:
    root = project(tmp_path)
    (root / "docs" / "pyproject.toml").write_text("[tool.black]\nline-length = 100\n")  # not ours: passed over
    assert command(cwd=root / "docs" / "deep").returncode == 0
    repository = root / "vendor" / "other"
    (repository / ".git").mkdir(parents=True)
    refused = command("--check", cwd=repository)
    assert refused.returncode == 2
    assert "give SOURCE" in refused.stderr
    assert "Traceback" not in refused.stderr


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        ('outptu = "out"', "has an unknown key 'outptu' (did you mean 'output'?); the keys are sources, output,"),
        ('strict = "yes"', 'strict must be true or false, not a string "yes"'),
        ("output = 3", "output must be a string, not an integer 3"),
        ('sources = "flows/a.py"', 'sources must be a list of strings, not a string "flows/a.py"'),
        ('templates = "no-such-dir"', "templates: Directory 'no-such-dir' does not exist."),
        ("[tool.kailash-compile.extra]", "has an unknown key 'extra'"),
        ("this is not toml", "pyproject.toml: not valid TOML: "),
    ],
)
def test_a_bad_configuration_is_one_message_naming_the_file(tmp_path: Path, lines: str, message: str) -> None:
    key = lines.split(" ", 1)[0]
    config = "\n".join(line for line in CONFIG.splitlines() if not line.startswith(f"{key} ")) + "\n"
    root = project(tmp_path, config + lines + "\n")
    for cwd, label in [(root, "pyproject.toml"), (root / "flows", "../pyproject.toml")]:
        result = command("--check", cwd=cwd)
        assert result.returncode == 2
        assert result.stderr.startswith(f"error: {label}: "), result.stderr
        assert message.replace("no-such-dir", os.path.relpath(root / "no-such-dir", cwd)) in result.stderr
        assert "Traceback" not in result.stderr


def test_a_glob_that_matches_nothing_is_refused(tmp_path: Path) -> None:
    root = project(tmp_path, CONFIG.replace("flows/*.py", "flow/*.py"))
    result = command(cwd=root)
    assert result.returncode == 2
    assert "error: pyproject.toml: sources entry 'flow/*.py' matches no file" in result.stderr


def test_vendor_runtime_is_passed_on_and_the_command_line_wins(tmp_path: Path) -> None:
    root = project(tmp_path, CONFIG + "vendor-runtime = true\n", flows=("order_totals",))
    assert command(cwd=root / "flows").returncode == 0
    assert (root / "generated" / "kailash_rt" / "__init__.py").is_file()
    assert command("--check", cwd=root / "docs").returncode == 0
    assert command("-o", "plain", "--no-vendor-runtime", cwd=root).returncode == 0
    assert [path.name for path in (root / "plain").iterdir()] == ["order_totals.py"]
    assert command(cwd=project(tmp_path / "off", CONFIG + "vendor-runtime = false\n")).returncode == 0


def test_a_target_is_checked_against_the_targets_this_version_has(tmp_path: Path) -> None:
    """``"asyncio"`` is always accepted; another target is refused naming the file, whether this
    kailash-compile lacks --target altogether or only that target."""
    assert command(cwd=project(tmp_path / "asyncio", CONFIG + 'target = "asyncio"\n')).returncode == 0
    refused = command(cwd=project(tmp_path / "other", CONFIG + 'target = "no-such-target"\n'))
    assert refused.returncode == 2
    assert refused.stderr.startswith("error: pyproject.toml: [tool.kailash-compile] target"), refused.stderr
    assert "no-such-target" in refused.stderr
    if "target" not in {param.name for param in main.params}:
        assert refused.stderr == (
            'error: pyproject.toml: [tool.kailash-compile] target = "no-such-target" asks for --target,'
            " which this kailash-compile does not have\nhint: upgrade kailash-compile, or remove the key\n"
        )


def test_this_checkouts_configuration_compiles_the_examples_to_their_golden_modules() -> None:
    assert command("--check", cwd=ROOT / "examples").returncode == 0


def test_the_pre_commit_hook_as_the_hook_file_states_it(tmp_path: Path) -> None:
    (hook,) = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    assert hook["id"] == "kailash-compile-check"
    assert hook["language"] == "python"  # pre-commit installs this repository, so the entry is on the PATH
    assert hook["pass_filenames"] is False and hook["always_run"] is True
    # pre-commit installs the clone with these, from the clone's root: kailash-rt is not on the index
    assert hook["additional_dependencies"] == ["./runtime_stub"]
    assert (ROOT / "runtime_stub" / "pyproject.toml").is_file()
    root = project(tmp_path)
    subprocess.run(["git", "init", "-q"], cwd=root, check=True)
    environment = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"}

    def run_hook() -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            shlex.split(hook["entry"]), cwd=root, env=environment, capture_output=True, text=True, check=False
        )

    assert run_hook().returncode == 1  # the modules are missing
    assert command(cwd=root).returncode == 0
    assert run_hook().returncode == 0
    (root / "flows" / "fan_out_fan_in.py").write_text(
        (root / "flows" / "fan_out_fan_in.py").read_text().replace("service_health_report", "health_report")
    )
    failed = run_hook()
    assert (failed.returncode, failed.stderr) == (1, "missing: generated/health_report.py\n")


def test_templates_are_found_relative_to_the_pyproject_from_a_subdirectory(tmp_path: Path) -> None:
    root = project(tmp_path, CONFIG + 'templates = "company-templates"\n', flows=("order_totals",))
    (root / "company-templates").mkdir()
    header = (ROOT / "templates" / "asyncio" / "header.py.j2").read_text()
    (root / "company-templates" / "header.py.j2").write_text("# Example Corp.\n" + header)
    assert command(cwd=root / "docs" / "deep").returncode == 0
    module = (root / "generated" / "order_totals.py").read_text()
    assert module.startswith('# Example Corp.\n"""order_totals: compiled workflow.')
    assert command("--check", cwd=root / "flows").returncode == 0


def test_the_compile_api_names_paths_from_the_project_root_too(tmp_path: Path) -> None:
    root = project(tmp_path, flows=("order_totals",))
    assert command(cwd=root).returncode == 0
    script = (
        "import sys\nfrom kailash import compile_source\n"
        "sys.stdout.write(compile_source('../../flows/order_totals.py')[0].source)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=root / "docs" / "deep", capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == (root / "generated" / "order_totals.py").read_text()
