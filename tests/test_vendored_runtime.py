"""kailash_rt copied next to a generated module works with nothing installed (``python -S``)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from .conftest import ROOT, run_cli


def test_generated_module_runs_with_a_copied_runtime_and_no_site_packages(tmp_path: Path) -> None:
    done = run_cli("examples/order_totals.py", "-o", str(tmp_path))
    assert done.returncode == 0, done.stderr
    shutil.copytree(ROOT / "runtime_stub" / "kailash_rt", tmp_path / "kailash_rt")
    inputs = {"order": {"lines": [{"sku": "gizmo", "qty": 2}]}, "tax_rate": 0.1}
    run = subprocess.run(
        [sys.executable, "-S", "-E", "-s", str(tmp_path / "order_totals.py"), "--inputs", json.dumps(inputs)],
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
    )
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout)
    assert result["errors"] == {}
    assert result["results"]["apply_tax"] == {"total": 15.95, "tax": 1.45, "currency": "EUR"}


def test_missing_input_exits_2_naming_it(tmp_path: Path) -> None:
    done = run_cli("examples/order_totals.py", "-o", str(tmp_path))
    assert done.returncode == 0, done.stderr
    run = subprocess.run(
        [sys.executable, str(tmp_path / "order_totals.py"), "--inputs", '{"order": {"lines": []}}'],
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 2
    assert "node 'apply_tax' needs input 'tax_rate'" in run.stderr
    assert "Traceback" not in run.stderr
