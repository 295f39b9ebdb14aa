"""Regenerate every golden file under tests/golden, for review: ``python -m tests.update_golden``.

Runs the tests that compare against golden files with ``UPDATE_GOLDEN=1``: they rewrite the
generated modules, the per-kind modules, the IR snapshots and the examples' results (and
remove golden files no workflow makes any more), then still check them. Extra arguments go
to pytest (``python -m tests.update_golden -k kinds``). Review the change with
``git diff tests/golden`` before committing it.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# The tests that read UPDATE_GOLDEN.
GOLDEN_TESTS = ("tests/test_golden.py", "tests/test_example_results.py", "tests/test_temporal_golden.py")


def main(argv: list[str]) -> int:
    env = {**os.environ, "UPDATE_GOLDEN": "1"}
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", *GOLDEN_TESTS, *argv], cwd=ROOT, env=env, check=False)
    if done.returncode == 0:
        print(changed_golden_files() or "tests/golden is unchanged")
    return done.returncode


def changed_golden_files() -> str:
    """git's list of what changed under tests/golden, if this is a git checkout."""
    command = ["git", "status", "--short", "--untracked-files=all", "--", "tests/golden"]
    try:
        status = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    except OSError:
        return ""
    return status.stdout.rstrip() if status.returncode == 0 else ""


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
