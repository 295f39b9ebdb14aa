"""The Temporal modules of the examples, as golden files (tests/golden/temporal), and the
compile-time side of the Temporal target (no server needed).

``python -m tests.update_golden`` rewrites the golden modules (``UPDATE_GOLDEN=1``).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import kailash_rt
import pytest

from .conftest import EXAMPLES, GOLDEN, ROOT, run_cli
from .test_golden import assert_golden

TEMPORAL_GOLDEN = GOLDEN / "temporal"
EXAMPLE_SOURCES = sorted(p.relative_to(ROOT).as_posix() for p in EXAMPLES.glob("*.py"))


@pytest.mark.parametrize("example", EXAMPLE_SOURCES)
def test_temporal_modules_match_golden_files(example: str, tmp_path: Path) -> None:
    done = run_cli(example, "-o", str(tmp_path), "--target", "temporal")
    assert done.returncode == 0, done.stderr
    modules = sorted(tmp_path.glob("*.py"))
    assert modules
    for path in modules:
        assert_golden(path.read_text(), TEMPORAL_GOLDEN / path.name)


def test_every_example_has_its_golden_temporal_module_and_no_other() -> None:
    names = {path.name for path in TEMPORAL_GOLDEN.glob("*.py")}
    assert names == {path.name for path in GOLDEN.glob("*.py") if _from_example(path)}


def _from_example(path: Path) -> bool:
    return "Source: examples/" in path.read_text()


def test_golden_temporal_modules_pass_ruff() -> None:
    paths = sorted(str(path) for path in TEMPORAL_GOLDEN.glob("*.py"))
    assert paths
    command = [sys.executable, "-m", "ruff", "check", "--isolated", "--no-cache", *paths]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


def test_import_kailash_rt_does_not_import_temporalio() -> None:
    code = "import sys, kailash_rt; assert 'temporalio' not in sys.modules and 'kailash_rt.temporal' not in sys.modules"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr


def test_a_changed_graph_gets_another_task_queue(tmp_path: Path) -> None:
    source = (ROOT / "examples" / "order_totals.py").read_text()
    (tmp_path / "before.py").write_text(source)
    (tmp_path / "after.py").write_text(source.replace('"currency": "EUR"', '"currency": "USD"'))
    queues = []
    for name in ("before", "after"):
        done = run_cli(f"{name}.py", "--stdout", "--target", "temporal", cwd=tmp_path)
        assert done.returncode == 0, done.stderr
        queues.append(next(line for line in done.stdout.splitlines() if line.startswith("TASK_QUEUE = ")))
    assert queues[0] != queues[1]
    assert all(queue.startswith('TASK_QUEUE = "order_totals-') for queue in queues)


def test_templates_do_not_combine_with_the_temporal_target(tmp_path: Path) -> None:
    options = ["--target", "temporal", "--templates", str(tmp_path)]
    done = run_cli("examples/order_totals.py", "-o", str(tmp_path), *options)
    assert done.returncode == 2
    assert "--templates" in done.stderr and "--target temporal" in done.stderr
    assert not list(tmp_path.glob("*.py"))


def test_a_node_named_like_a_temporal_module_name_is_refused(tmp_path: Path) -> None:
    (tmp_path / "clash.py").write_text(
        "from kailash.workflow import AsyncWorkflowBuilder\n"
        "flow = AsyncWorkflowBuilder('clash')\n"
        "flow.add_async_code('NODES', 'result = 1')\n"
    )
    done = run_cli("clash.py", "-o", str(tmp_path / "out"), "--target", "temporal", cwd=tmp_path)
    assert done.returncode == 2
    assert "clash.py:3: node 'NODES':" in done.stderr and "Temporal module" in done.stderr
    assert not (tmp_path / "out").exists()


def test_every_kind_workflow_compiles_to_a_temporal_module_that_passes_ruff(tmp_path: Path) -> None:
    sources = sorted((ROOT / "tests" / "workflows" / "kinds").glob("*.py"))
    assert sources
    for source in sources:
        done = run_cli(source.relative_to(ROOT).as_posix(), "-o", str(tmp_path), "--target", "temporal")
        assert done.returncode == 0, f"{source.name}: {done.stderr}"
    modules = sorted(str(path) for path in tmp_path.glob("*.py"))
    assert len(modules) >= len(sources)
    command = [sys.executable, "-m", "ruff", "check", "--isolated", "--no-cache", *modules]
    checked = subprocess.run(command, capture_output=True, text=True, check=False)
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_a_retry_backoff_temporal_cannot_have_is_refused_naming_node_and_pattern(tmp_path: Path) -> None:
    (tmp_path / "shrinking.py").write_text(
        "from kailash.workflow import AsyncWorkflowBuilder, RetryPolicy\n"
        "flow = AsyncWorkflowBuilder('shrinking')\n"
        "flow.add_async_code('poll', 'result = 1', retry_policy=RetryPolicy(backoff_factor=0.5))\n"
    )
    done = run_cli("shrinking.py", "-o", str(tmp_path / "out"), "--target", "temporal", cwd=tmp_path)
    assert done.returncode == 2
    assert "shrinking.py:3: node 'poll': the retry policy has backoff=0.5" in done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "out").exists()
    assert run_cli("shrinking.py", "-o", str(tmp_path / "asyncio"), cwd=tmp_path).returncode == 0


def test_a_temporal_module_states_what_it_needs_as_an_asyncio_module_does(tmp_path: Path) -> None:
    done = run_cli("examples/order_totals.py", "--stdout", "--target", "temporal")
    assert done.returncode == 0, done.stderr
    version = kailash_rt.__version__
    assert f"Requires: kailash-rt {version} or newer, temporalio\n" in done.stdout
    assert f'    pip install "kailash-rt>={version}" temporalio\n' in done.stdout
    assert f'\nrt.require_version("{version}", __name__)\n' in done.stdout
    assert (
        "with rt.client_libraries(__name__):\n    import kailash_rt.temporal as rtt\n    import temporalio.workflow\n"
        in done.stdout
    )


def test_a_vendored_temporal_module_imports_its_own_runtime_and_still_needs_temporalio(tmp_path: Path) -> None:
    out = tmp_path / "out"
    done = run_cli("examples/order_totals.py", "-o", str(out), "--target", "temporal", "--vendor-runtime")
    assert done.returncode == 0, done.stderr
    package = Path(kailash_rt.__file__).parent
    for path in sorted((package / "temporal").glob("*.py")):
        assert (out / "kailash_rt" / "temporal" / path.name).read_bytes() == path.read_bytes()
    module = out / "order_totals.py"
    # With temporalio installed, the module runs on the runtime beside it.
    where = "import kailash_rt, temporalio; print(kailash_rt.__file__)"
    ran = subprocess.run(
        [sys.executable, "-c", f"import order_totals; {where}"], capture_output=True, text=True, cwd=out, check=False
    )
    assert ran.returncode == 0, ran.stderr
    assert Path(ran.stdout.strip()) == out / "kailash_rt" / "__init__.py"
    helped = subprocess.run([sys.executable, module, "worker", "--help"], capture_output=True, text=True, check=False)
    assert helped.returncode == 0 and "--task-queue" in helped.stdout, helped.stderr
    # On a bare Python, the vendored runtime says in one line that temporalio is missing.
    bare = subprocess.run(
        [sys.executable, "-S", "-E", "-s", module, "worker"], capture_output=True, text=True, cwd=tmp_path, check=False
    )
    assert bare.returncode == 2
    assert bare.stderr == (
        f"error: {module} needs the library 'temporalio', which is not installed here"
        " (No module named 'temporalio'): pip install temporalio (its docstring lists what to install)\n"
    )


def test_a_project_configured_for_temporal_compiles_temporal_modules(tmp_path: Path) -> None:
    from .test_config import CONFIG, command, project

    root = project(tmp_path, CONFIG + 'target = "temporal"\n', flows=("order_totals",))
    done = command(cwd=root)
    assert done.returncode == 0, done.stderr
    source = (root / "generated" / "order_totals.py").read_text()
    assert source.startswith('"""order_totals: compiled Temporal workflow.')
    assert '\n@rtt.activity("apply_tax")\nasync def apply_tax(' in source


def test_the_python_api_compiles_to_the_temporal_target() -> None:
    from kailash.compile_api import compile_source

    (module,) = compile_source("examples/order_totals.py", target="temporal")
    assert module.source == (TEMPORAL_GOLDEN / "order_totals.py").read_text()
