"""The generated modules of the examples are committed under tests/golden; any difference fails.

A difference is a change to review: run ``UPDATE_GOLDEN=1 pytest tests/test_golden.py`` to
accept it, and the diff of tests/golden shows what users of the compiler will see change.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from .conftest import EXAMPLES, GOLDEN, ROOT, run_cli

# The examples, and workflows kept for what they test (tests/workflows).
EXAMPLE_FILES = sorted(
    p.relative_to(ROOT).as_posix() for p in [*EXAMPLES.glob("*.py"), *(ROOT / "tests" / "workflows").glob("*.py")]
)


@pytest.mark.parametrize("example", EXAMPLE_FILES)
def test_generated_modules_match_golden_files(example: str, tmp_path: Path) -> None:
    result = run_cli(example, "-o", str(tmp_path))
    assert result.returncode == 0, result.stderr
    generated = sorted(tmp_path.glob("*.py"))
    assert generated, f"{example} produced no module"
    for path in generated:
        golden = GOLDEN / path.name
        if os.environ.get("UPDATE_GOLDEN"):
            GOLDEN.mkdir(exist_ok=True)
            golden.write_text(path.read_text())
        assert golden.exists(), f"no golden file {golden.name}; run UPDATE_GOLDEN=1 pytest {__file__}"
        assert path.read_text() == golden.read_text(), f"{path.name} differs from tests/golden/{golden.name}"
