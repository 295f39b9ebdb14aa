"""The same compiler and runtime on every supported Python (3.11 to 3.13).

CI runs the whole suite on each version; the golden files then show that every version
compiles to the same bytes. These tests pin down what differs between versions.
"""

from __future__ import annotations

import ast
import builtins
import json
import keyword
import subprocess
import sys
from pathlib import Path

import pytest
from kailash.codegen import compile_ir
from kailash.python_names import BUILTIN_NAMES, KEYWORDS, SOFT_KEYWORDS, STDLIB_MODULES
from kailash.syntax_version import required_version
from kailash.workflow import AsyncWorkflowBuilder

from .conftest import ROOT, run_cli, run_generated


def test_the_fixed_name_tables_cover_the_running_python() -> None:
    """A new Python that adds a builtin, module or keyword must be added to python_names.py."""
    assert set(dir(builtins)) <= BUILTIN_NAMES
    assert set(sys.stdlib_module_names) <= STDLIB_MODULES
    assert set(keyword.kwlist) <= KEYWORDS
    assert set(keyword.softkwlist) <= SOFT_KEYWORDS


def test_the_version_workflow_runs_to_the_same_result_on_this_python(tmp_path: Path) -> None:
    result = run_cli("tests/workflows/python_versions.py", "-o", str(tmp_path))
    assert result.returncode == 0, result.stderr
    inputs = {"scores": {"ann": 9, "bo": 4, "cyd": 7}, "threshold": 5, "words": ["apple", "avocado", "bean"]}
    ran = run_generated(tmp_path / "python_versions.py", "--inputs", json.dumps(inputs))
    assert ran.returncode == 0, ran.stderr
    assert json.loads(ran.stdout) == {
        "results": {
            "report": {"text": "Report\n  2 of 3 passed\n    ann=9, cyd=7\nend", "names": ["ann", "cyd"]},
            "type": {"kind": "many", "first": "ann", "rest": 1},
            "match": {"seen": ["many"], "totals": {"a": ["apple", "avocado"], "b": ["bean"]}, "last": "b"},
        },
        "errors": {},
    }


def test_lines_inside_a_multi_line_f_string_are_never_reindented() -> None:
    builder = AsyncWorkflowBuilder("fstrings")
    builder.add_async_code("n", "x = 2\nresult = f\"\"\"a\n  {x +\n 1}\n\tb {f'''c\n d'''}\"\"\"")
    source = compile_ir(builder.build().ir).source
    assert "result = f\"\"\"a\n  {x +\n 1}\n\tb {f'''c\n d'''}\"\"\"\n" in source


# (source, the version it needs); a case the running Python cannot parse is skipped.
SYNTAX_CASES = [
    ('x = f"{a}"', (3, 11)),
    ("x = f\"{d['k']}\"", (3, 11)),
    ('x = f"a\\n{b!r:>{w}}"', (3, 11)),
    ("x = f'''{a\n}'''", (3, 11)),
    ("x = f'''{f\"{x['a']}\"}'''", (3, 11)),
    ('x = f"""a\n{b}\nc""" f"{2}"', (3, 11)),
    ('x = "f\'" + rf"{a}\\d"', (3, 11)),
    ('x = f"{d["k"]}"', (3, 12)),
    ("x = f'''{a # a comment\n}'''", (3, 12)),
    ("x = f'{a\n}'", (3, 12)),
    ("x = f\"{'\\n'.join(a)}\"", (3, 12)),
    ("x = f'''{f\"{x[\"a\"]}\"}'''", (3, 12)),
    ("type Pair = tuple[int, int]", (3, 12)),
    ("def first[T](items: list[T]) -> T: return items[0]", (3, 12)),
    ("def first[T = int](items: list[T]) -> T: return items[0]", (3, 13)),
]


@pytest.mark.parametrize(("source", "needed"), SYNTAX_CASES)
def test_the_python_a_piece_of_code_needs(source: str, needed: tuple[int, int]) -> None:
    try:
        ast.parse(source)
    except SyntaxError:
        pytest.skip(f"Python {sys.version_info.major}.{sys.version_info.minor} cannot parse this")
    assert required_version(source) == needed


@pytest.mark.skipif(sys.version_info < (3, 12), reason="Python 3.11 refuses this f-string syntax")
def test_a_module_whose_code_needs_a_newer_python_says_so() -> None:
    builder = AsyncWorkflowBuilder("newer")
    builder.add_async_code("n", 'd = {"k": 1}\nresult = f"{d["k"]}"')
    source = compile_ir(builder.build().ir).source
    assert "Python: 3.12 or newer" in ast.get_docstring(ast.parse(source), clean=False)
    plain = AsyncWorkflowBuilder("older")
    plain.add_async_code("n", "result = 1")
    assert "Python:" not in compile_ir(plain.build().ir).source


BRANCHES = """
import asyncio
import kailash_rt as rt

async def quick():
    return 1

async def slower():
    for _ in range(3):
        await asyncio.sleep(0)
    return 2

async def main():
    async with rt.Run("branches") as r:
        r.node("quick", quick)
        r.node("slower", slower)
    return r.result

print(asyncio.run(main())["results"])
"""


def test_a_branch_that_finishes_after_the_last_inline_node_does_not_hang() -> None:
    """The run's clean-up must not wait for done-callbacks: since 3.12 ``gather`` of finished
    tasks completes without yielding to the loop that would run them, and the loop spins.
    In a subprocess, because a spinning loop cannot be timed out from inside."""
    try:
        ran = subprocess.run([sys.executable, "-c", BRANCHES], capture_output=True, text=True, timeout=120)
    except subprocess.TimeoutExpired:
        pytest.fail("a run with two branches never finished")
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.strip() == "{'quick': 1, 'slower': 2}"


def test_the_tested_versions_are_declared() -> None:
    text = (ROOT / "pyproject.toml").read_text()
    for minor in (11, 12, 13):
        assert f'"Programming Language :: Python :: 3.{minor}"' in text
