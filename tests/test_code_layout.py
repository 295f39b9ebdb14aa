"""A code block means what CPython means by its text: its line breaks, indentation, strings and comments.

CPython is the oracle: the compiled node must return what ``exec`` of the same code returns,
and refuse what CPython refuses. Python ends a line at ``\\n``, ``\\r\\n`` or ``\\r`` only;
``str.splitlines()`` also breaks at the characters below, which once let a comment smuggle a
statement into the compiled module.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from kailash import codeblock
from kailash.errors import WorkflowError
from kailash.runtime import AsyncLocalRuntime
from kailash.workflow import AsyncPatterns, AsyncWorkflowBuilder

from .conftest import run_cli, run_generated

# Line breaks to str.splitlines() that Python's tokenizer reads as ordinary characters.
NOT_PYTHON_LINE_BREAKS = ["\u2028", "\u2029", "\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x85"]


def unique(name: str) -> str:
    return f"{name}_{uuid.uuid4().hex[:8]}"


def cpython_result(code: str) -> Any:
    """What CPython makes of the code: the value ``exec`` binds to ``result``."""
    namespace: dict[str, Any] = {}
    exec(compile(code, "<oracle>", "exec", dont_inherit=True), namespace)
    return namespace["result"]


def node_result(code: str) -> Any:
    """What the compiled node returns, run in process (the module kailash-compile writes)."""
    builder = AsyncWorkflowBuilder(unique("layout"))
    builder.add_async_code("node", code)
    outcome = asyncio.run(AsyncLocalRuntime().execute_workflow_async(builder.build(), {}))
    assert outcome["errors"] == {}
    return outcome["results"]["node"]


def assert_refused_like_cpython(code: str) -> None:
    with pytest.raises(SyntaxError):
        compile(code, "<oracle>", "exec", dont_inherit=True)
    with pytest.raises(WorkflowError) as refused:
        AsyncWorkflowBuilder(unique("layout")).add_async_code("node", code)
    error = refused.value
    assert error.location is not None and error.location.file.endswith("test_code_layout.py")
    assert error.node_id == "node" and error.hint and error.code_line is not None


@pytest.mark.parametrize("brk", NOT_PYTHON_LINE_BREAKS, ids=repr)
def test_a_comment_never_ends_at_a_character_python_keeps_in_the_line(brk: str) -> None:
    code = f'result = "safe"  # note{brk}result = "INJECTED"'
    assert cpython_result(code) == "safe"
    assert node_result(code) == "safe"


@pytest.mark.parametrize("brk", NOT_PYTHON_LINE_BREAKS, ids=repr)
@pytest.mark.parametrize(
    "template",
    [
        'result = "a{brk}b"',
        "result = 'a{brk}b'",
        'result = r"a{brk}b\\n"',
        'x = 1\nresult = f"{{x}}{brk}{{x}}"',
        'result = """first\n  a{brk}b\n"""',
        "result = [\n    'a{brk}b',  # c{brk}d\n]",
    ],
)
def test_strings_keep_every_character_python_keeps_in_the_line(brk: str, template: str) -> None:
    code = template.format(brk=brk)
    assert node_result(code) == cpython_result(code)


@pytest.mark.parametrize("brk", NOT_PYTHON_LINE_BREAKS, ids=repr)
def test_map_code_is_split_into_statements_where_python_splits_it(brk: str) -> None:
    code = (
        f"SUFFIX = 'x{brk}y'  # c{brk}SUFFIX = 'INJECTED'\n"
        f"import json  # helper{brk}import os\n\n"
        "def process_item(item):\n"
        f"    value = item  # note{brk}value = 'INJECTED'\n"
        f"    return [value, SUFFIX, json.dumps('a{brk}b')]\n"
    )
    builder = AsyncWorkflowBuilder(unique("layout_map"))
    builder.add_parallel_map("mapped", code)
    outcome = asyncio.run(AsyncLocalRuntime().execute_workflow_async(builder.build(), {"items": [1]}))
    assert outcome["errors"] == {}
    assert outcome["results"]["mapped"]["results"] == [[1, f"x{brk}y", json.dumps(f"a{brk}b")]]


@pytest.mark.parametrize("brk", ["\u2028", "\x85"], ids=repr)
def test_a_pattern_block_with_such_a_character_means_what_python_means(brk: str) -> None:
    builder = AsyncWorkflowBuilder(unique("layout_pattern"))
    AsyncPatterns.retry_with_backoff(builder, "retried", f"result = {{'v': 'safe'}}  # note{brk}result = 'INJECTED'")
    outcome = asyncio.run(AsyncLocalRuntime().execute_workflow_async(builder.build(), {}))
    assert outcome["results"]["retried"]["v"] == "safe"


def test_the_written_module_keeps_comments_and_strings_on_their_lines(tmp_path: Path) -> None:
    source = tmp_path / "flow.py"
    source.write_text(
        "from kailash.workflow import AsyncWorkflowBuilder\n"
        "flow = AsyncWorkflowBuilder('line_breaks')\n"
        "flow.add_async_code('n', 'result = [\"a\\u2028b\"]  # note\\u2028result = \"INJECTED\"')\n",
        encoding="utf-8",
    )
    out = tmp_path / "out"
    assert run_cli(str(source), "-o", str(out)).returncode == 0
    ran = run_generated(out / "line_breaks.py")
    assert ran.returncode == 0, ran.stderr
    assert json.loads(ran.stdout)["results"] == {"n": ["a\u2028b"]}


@pytest.mark.parametrize(
    "code",
    [
        "x = 1\r\nresult = x + 1\r\n",
        "x = 1\rresult = x + 1\r",
        "if True:\r\n    result = 'crlf'\r\n",
        "if True:\r    result = 'cr'\r",
        'result = """a\r\nb\rc\nd"""',
        'result = "a\\\r\nb"',
        "x = (1 +\r 2)\rresult = x",
        "x = 1  # comment\r\nresult = x\r\n",
        "x = 1\r\n\r\n\r\nresult = x",
    ],
    ids=repr,
)
def test_crlf_and_cr_are_line_breaks_as_in_cpython(code: str) -> None:
    assert node_result(code) == cpython_result(code)


@pytest.mark.parametrize(
    "code",
    [
        "if True:\n\tresult = 'tab'",
        "if True:\n\tif True:\n\t\tresult = 'two tabs'",
        "def f():\n\treturn 'in def'\nresult = f()",
        "if True:\n\tx = 1\n\tif x:\n\t    result = 'tab and spaces'",
        "x = [\n\t1,\n\t\t2,\n]\nresult = x",
        "result = 'a\tb'  # a\ttab",
        "if True:\n  \tresult = 'two spaces and a tab'\n  \tresult += '!'",
        "if True:\n\tif True:\n\t        result = 'a tab and eight spaces'\n\tresult += '!'",
    ],
    ids=repr,
)
def test_tab_indentation_means_what_cpython_means(code: str) -> None:
    assert node_result(code) == cpython_result(code)


@pytest.mark.parametrize(
    "code",
    [
        "\x0cresult = 'form feed first'",
        "x = 1\n\x0c\nresult = x",
        "if True:\n\x0c    result = 'form feed, then indentation'",
        "if True:\n    x = 1\n\x0c    result = x",
        "    \x0cresult = 'form feed resets the indentation'",
        "x = 1\x0c+ 1\nresult = x",
        "result = 'a\x0cb'",
    ],
    ids=repr,
)
def test_a_form_feed_resets_the_indentation_as_in_cpython(code: str) -> None:
    assert node_result(code) == cpython_result(code)


@pytest.mark.parametrize(
    "code",
    [
        "if True:\n    \x0cresult = 1",  # the form feed brings the line back to column 0
        "if True:\n\tx = 1\n        y = 2",  # a tab and eight spaces are inconsistent
        "if True:\n\tif True:\n        result = 1",  # nested by the spaces of the wrapping, not by CPython
        "result = 0\nif True:\n\tresult += 2\n\x0c    result += 3",
        "result = 1\n\u2028",  # not whitespace to Python
        "\xa0result = 1",
        "result = 'a\rb'",  # a lone CR ends the line inside the string
    ],
    ids=repr,
)
def test_code_cpython_refuses_is_refused_at_the_builder_call(code: str) -> None:
    assert_refused_like_cpython(code)


@pytest.mark.parametrize(
    "code",
    [
        "  # a note\n    result = 1",
        "\n        # heading\n            x = 1\n            result = x\n        ",
        "    x = 1\n  # less indented, in the middle\n    result = x",
        "    x = (1 +\n0)\n    result = x",
        "    x = 1 + \\\n  0\n    result = x",
    ],
    ids=repr,
)
def test_comments_and_continuation_lines_do_not_decide_the_indentation(code: str) -> None:
    assert node_result(code) == 1


def test_whitespace_inside_a_string_is_kept_exactly() -> None:
    code = 'result = """a\n   \n\t\nb   """'
    assert node_result(code) == cpython_result(code) == "a\n   \n\t\nb   "


def test_a_block_of_only_comments_returns_none() -> None:
    assert node_result("# nothing to do\n   # really") is None


BACKSLASH_LINES = [
    "if True:\n\\\n    result = 'the next line decides'",
    "if True:\n  \\\n    result = 'the backslash decides'\n  result += '!'",
    "if True:\n\\\n  \\\n      result = 'the first backslash not at column 0 decides'\n  result += '!'",
    "if True:\n\t\\\n        result = 'a tab before the backslash'",
    "x = 1\n\\\nresult = x",
    "result = (1 +\n\\\n2)",
    "result = 1 + \\\n\\\n4",
    "x = 1\n\\\n# comment\nresult = x",
]


@pytest.mark.parametrize("code", BACKSLASH_LINES, ids=repr)
def test_a_line_holding_only_a_backslash_means_what_cpython_means(code: str) -> None:
    assert node_result(code) == cpython_result(code)


@pytest.mark.parametrize("code", BACKSLASH_LINES, ids=repr)
def test_map_code_with_a_line_holding_only_a_backslash_compiles(code: str) -> None:
    """process_item() is rewritten with libcst, which reads no such line before an indented block."""
    body = "".join(f"    {line}\n" if line.strip() and line != "\\" else f"{line}\n" for line in code.split("\n"))
    builder = AsyncWorkflowBuilder(unique("layout_map"))
    builder.add_parallel_map("mapped", f"def process_item(item):\n{body}    return result\n")
    outcome = asyncio.run(AsyncLocalRuntime().execute_workflow_async(builder.build(), {"items": [0]}))
    assert outcome["results"]["mapped"]["results"] == [cpython_result(code)]


def test_diff_shows_the_lines_python_reads(tmp_path: Path) -> None:
    source = tmp_path / "flow.py"
    base = "from kailash.workflow import AsyncWorkflowBuilder\nflow = AsyncWorkflowBuilder('diffed')\n"
    source.write_text(base, encoding="utf-8")
    out = tmp_path / "out"
    assert run_cli(str(source), "-o", str(out)).returncode == 0
    source.write_text(base + "flow.add_async_code('n', 'result = \"a\\u2028b\"')\n", encoding="utf-8")
    shown = run_cli(str(source), "-o", str(out), "--diff")
    assert '\n+    result = "a\u2028b"\n' in shown.stdout


# Blocks of a few lines of spaces, comments, strings (one- and multi-line) and code.
_BLOCK_LINES = st.lists(
    st.sampled_from(
        [
            "",
            " ",
            "   ",
            "x = 1",
            "  y = 2",
            "    z = 3",
            "# note",
            "  # indented note",
            "if x:",
            "    pass",
            's = """a',
            '  b"""',
            "t = (1,",
            "  2)",
            "u = 'q # not a comment'",
        ]
    ),
    min_size=1,
    max_size=8,
)


@settings(max_examples=1000, deadline=None)
@given(_BLOCK_LINES, st.sampled_from(["", "    ", "\t"]))
@example(["# note", "", "    z = 3"], "")
@example(["  # indented note", "x = 1", "    z = 3"], "")
def test_dedent_keeps_a_block_as_it_is_only_where_reading_its_layout_would(lines: list[str], margin: str) -> None:
    # dedent skips reading a block's layout when its first line is code at no indentation and
    # no line is only spaces: the full path must then give the same text.
    code = "\n".join(margin + line for line in lines) + "\n"
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(codeblock, "_keeps_every_line", lambda _: False)
        full = codeblock.dedent(code)
    assert codeblock.dedent(code) == full
