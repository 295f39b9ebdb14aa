"""The guide's "Complete Example", copied verbatim into tests/guide/.

complete_example_first_half.py is the same text without the resilient workflow (the
lines that build and run it with AsyncPatterns, and that import); it is the data
enrichment pipeline through ``execute_workflow_async(workflow, {})`` and its report.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

GUIDE = Path(__file__).resolve().parent / "guide"


def run_example(name: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(GUIDE / name)], capture_output=True, text=True, cwd=cwd, timeout=120, check=False
    )


def test_first_half_of_the_complete_example_reports_the_pipeline_statistics(tmp_path: Path) -> None:
    done = run_example("complete_example_first_half.py", tmp_path)
    assert done.returncode == 0, done.stderr
    assert "✅ Pipeline completed successfully!" in done.stdout
    assert "   - Total users: 5\n" in done.stdout
    assert "   - Active users: 2\n" in done.stdout
    assert "   - Average score: 30.0\n" in done.stdout
    assert list(tmp_path.iterdir()) == [], "running in process must not write into the user's tree"


def test_first_half_is_the_guide_text_minus_the_resilient_workflow() -> None:
    full = (GUIDE / "complete_example.py").read_text().splitlines()
    half = (GUIDE / "complete_example_first_half.py").read_text().splitlines()
    changed = [line for line in half if line not in full]
    assert changed == ["from kailash.workflow import AsyncWorkflowBuilder"]
    assert len(half) < len(full)
