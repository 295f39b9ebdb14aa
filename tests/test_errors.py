"""Bad input: every error is one message saying where, which node, what, and what to do.

Each case is a small workflow file compiled by the CLI in a subprocess, so the test sees
exactly what a user sees: exit status 2, the message on stderr, no traceback from the
compiler's insides and no file written.
"""

from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest

from .conftest import run_cli

MARK = "# <-"


@dataclass(frozen=True)
class Failure:
    stderr: str
    line: int  # line of the workflow file marked with MARK: the builder call the message must name
    out: Path

    def message(self) -> str:
        """The ``error: ...`` message and the lines after it."""
        start = self.stderr.index("error: ")
        return self.stderr[start:]


def write_workflow(directory: Path, source: str, name: str = "wf.py") -> tuple[Path, int]:
    text = textwrap.dedent(source).lstrip("\n")
    path = directory / name
    path.write_text(text)
    marked = [number for number, line in enumerate(text.splitlines(), 1) if line.rstrip().endswith(MARK)]
    return path, marked[0] if marked else 0


def compile_failing(tmp_path: Path, source: str, *options: str) -> Failure:
    path, line = write_workflow(tmp_path, source)
    out = tmp_path / "out"
    result = run_cli(str(path), "-o", str(out), *options)
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    assert result.stdout == ""
    assert not out.exists() or not any(out.iterdir()), "a failed compile wrote files"
    return Failure(result.stderr, line, out)


def caret_column(message: str, code_text: str) -> int:
    """Column (within the code line) that the caret under ``code line N | <code_text>`` points at."""
    lines = message.splitlines()
    for index, line in enumerate(lines):
        if line.startswith("    code line ") and line.endswith(code_text):
            prefix = line.index("| ") + 2
            caret = lines[index + 1]
            assert caret.strip() == "^", f"no caret under the code line:\n{message}"
            return caret.index("^") - prefix
    raise AssertionError(f"no code line {code_text!r} in:\n{message}")


HEADER = """
from kailash.workflow import AsyncWorkflowBuilder, RetryPolicy

b = AsyncWorkflowBuilder("wf")
"""


def test_syntax_error_in_code_block(tmp_path: Path) -> None:
    failure = compile_failing(
        tmp_path,
        HEADER
        + '''
b.add_async_code("ok", "result = 1")
b.add_async_code(  # <-
    "parse_me",
    """
    total = 0
    for x in range(3):
        total += x
    result = {"total": (total + }
    """,
)
''',
    )
    message = failure.message()
    assert message.startswith(f"error: wf.py:{failure.line}: node 'parse_me': syntax error in the code block")
    assert 'code line 4 | result = {"total": (total + }' in message
    # The caret sits under the offending character of the dedented line.
    assert caret_column(message, 'result = {"total": (total + }') == len('result = {"total": (total + ')
    assert "hint: " in message
    assert "Traceback" not in failure.stderr


def test_syntax_error_in_an_indented_line(tmp_path: Path) -> None:
    failure = compile_failing(
        tmp_path,
        HEADER
        + '''
b.add_async_code("n", """
if True:
    x = = 1
result = x
""")  # <-
''',
    )
    message = failure.message()
    assert f"wf.py:{failure.line - 4}: node 'n'" in message
    assert "code line 2 |     x = = 1" in message
    assert caret_column(message, "    x = = 1") == len("    x = ")


def test_duplicate_node_id(tmp_path: Path) -> None:
    failure = compile_failing(
        tmp_path,
        HEADER
        + """
b.add_async_code("load", "result = 1")
b.add_async_code("other", "result = 2")
b.add_async_code("load", "result = 3")  # <-
""",
    )
    message = failure.message()
    first_line = failure.line - 2
    assert message.startswith(f"error: wf.py:{failure.line}: node 'load': duplicate node id")
    assert f"wf.py:{first_line}" in message  # where the first node with that id was added
    assert "hint: " in message
    assert "Traceback" not in failure.stderr


def test_connection_naming_an_unknown_node(tmp_path: Path) -> None:
    failure = compile_failing(
        tmp_path,
        HEADER
        + """
a = b.add_async_code("fetch", "result = {'users': []}")
c = b.add_async_code("count", "result = len(users)")
b.add_connection("fetch", "users", "cuont", "users")  # <-
workflow = b.build()
""",
    )
    message = failure.message()
    assert message.startswith(f"error: wf.py:{failure.line}: node 'cuont':")
    assert "unknown node 'cuont'" in message
    hint = message.split("hint: ", 1)[1]
    assert "'count'" in hint and "'fetch'" in hint  # the known nodes are listed
    assert "Traceback" not in failure.stderr


def test_cycle_is_named(tmp_path: Path) -> None:
    failure = compile_failing(
        tmp_path,
        HEADER
        + """
b.add_async_code("start", "result = 1")
b.add_async_code("a", "result = y")
b.add_async_code("b", "result = x")
b.add_connection("start", "result", "a", "s")
b.add_connection("a", "result", "b", "x")  # <-
b.add_connection("b", "result", "a", "y")
""",
    )
    message = failure.message()
    assert "cycle" in message
    assert "a -> b -> a" in message or "b -> a -> b" in message
    assert re.search(rf"wf\.py:({failure.line}|{failure.line + 1}): node '(a|b)'", message), message
    assert "hint: " in message
    assert "Traceback" not in failure.stderr


def test_retry_on_unknown_exception(tmp_path: Path) -> None:
    failure = compile_failing(
        tmp_path,
        HEADER
        + """
b.add_async_code(  # <-
    "flaky",
    "result = 1",
    retry_policy=RetryPolicy(max_retries=2, retry_on=["ConectionError"]),
)
""",
    )
    message = failure.message()
    assert message.startswith(f"error: wf.py:{failure.line}: node 'flaky': retry policy")
    assert "'ConectionError'" in message
    assert "hint: " in message
    assert "Traceback" not in failure.stderr


def test_retry_on_unimportable_dotted_exception(tmp_path: Path) -> None:
    failure = compile_failing(
        tmp_path,
        HEADER
        + """
b.add_async_code("flaky", "result = 1", retry_policy=RetryPolicy(retry_on=["no_such_pkg.Boom"]))  # <-
""",
    )
    message = failure.message()
    assert message.startswith(f"error: wf.py:{failure.line}: node 'flaky':")
    assert "'no_such_pkg.Boom'" in message


STRICT_WORKFLOW = (
    HEADER
    + '''
b.add_async_code("fetch", "result = {'users': [1, 2, 3]}")
b.add_async_code(  # <-
    "count",
    """
    n = 0
    for user in usres:
        n += 1
    result = n
    """,
)
b.add_connection("fetch", "users", "count", "users")
'''
)


def test_unbound_name_under_strict_suggests_a_fix(tmp_path: Path) -> None:
    failure = compile_failing(tmp_path, STRICT_WORKFLOW, "--strict")
    message = failure.message()
    assert message.startswith(f"error: wf.py:{failure.line}: node 'count': name 'usres' is not bound")
    assert "code line 2 | for user in usres:" in message
    assert caret_column(message, "for user in usres:") == len("for user in ")
    assert "did you mean 'users'?" in message
    assert "Traceback" not in failure.stderr


def test_unbound_name_without_strict_becomes_an_input(tmp_path: Path) -> None:
    unconnected = STRICT_WORKFLOW.replace('b.add_connection("fetch", "users", "count", "users")\n', "")
    path, _ = write_workflow(tmp_path, unconnected)
    result = run_cli(str(path), "--stdout")
    assert result.returncode == 0, result.stderr
    assert "usres (used by count)" in result.stdout


def test_a_connection_into_a_name_the_code_misspells_is_an_error_without_strict(tmp_path: Path) -> None:
    failure = compile_failing(tmp_path, STRICT_WORKFLOW)
    message = failure.message()
    assert f"wf.py:{failure.line}: node 'count': the connection from 'fetch' goes into 'users'" in message
    assert "which the code never reads; the code reads 'usres', which nothing connects" in message
    assert "hint: did you mean add_connection(..., 'count', 'usres')?" in message
    assert "Traceback" not in failure.stderr


def test_source_without_workflows(tmp_path: Path) -> None:
    failure = compile_failing(tmp_path, "import math\n\nVALUE = math.pi\n")
    message = failure.message()
    assert "wf.py" in message and "no workflow found" in message
    assert "SOURCE:attribute" in message or "module-level" in message
    assert "Traceback" not in failure.stderr


def test_source_attribute_that_is_not_a_workflow(tmp_path: Path) -> None:
    path, _ = write_workflow(tmp_path, "VALUE = 3\n")
    result = run_cli(f"{path}:VALUE", "-o", str(tmp_path / "out"))
    assert result.returncode == 2
    assert "'VALUE' is a int, not a workflow or builder" in result.stderr
    assert "Traceback" not in result.stderr


def test_missing_source_attribute(tmp_path: Path) -> None:
    path, _ = write_workflow(tmp_path, HEADER)
    result = run_cli(f"{path}:nope", "-o", str(tmp_path / "out"))
    assert result.returncode == 2
    assert "has no attribute 'nope'" in result.stderr
    assert "Traceback" not in result.stderr


def test_source_that_raises_on_import(tmp_path: Path) -> None:
    failure = compile_failing(
        tmp_path,
        HEADER
        + """
b.add_async_code("a", "result = 1")


def helper() -> None:
    raise RuntimeError("the settings file is missing")  # <-


helper()
""",
    )
    stderr = failure.stderr
    # Its traceback first, pointing into the user's file ...
    assert stderr.startswith("Traceback (most recent call last):"), stderr
    assert re.search(rf'wf\.py", line {failure.line}, in helper', stderr), stderr
    assert "RuntimeError: the settings file is missing" in stderr
    # ... then one message with a hint.
    message = failure.message()
    assert stderr.index("Traceback") < stderr.index("error: ")
    assert "importing it raised RuntimeError: the settings file is missing" in message
    assert "hint: " in message
    # The traceback is the user's, not the compiler's import machinery.
    assert "kailash/sources.py" not in stderr and "kailash/cli.py" not in stderr


def test_verbose_shows_the_traceback(tmp_path: Path) -> None:
    source = HEADER + 'b.add_async_code("a", "result = (")\n'
    quiet = compile_failing(tmp_path, source)
    verbose = compile_failing(tmp_path, source, "--verbose")
    assert "Traceback" not in quiet.stderr
    assert "Traceback" in verbose.stderr
    assert verbose.message() == quiet.message()


def test_an_error_in_one_source_writes_nothing_at_all(tmp_path: Path) -> None:
    good, _ = write_workflow(tmp_path, HEADER + 'b.add_async_code("a", "result = 1")\n', name="good.py")
    bad, _ = write_workflow(tmp_path, HEADER + 'b.add_async_code("a", "result = (")\n', name="bad.py")
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.py").write_text("# untouched\n")
    result = run_cli(str(good), str(bad), "-o", str(out))
    assert result.returncode == 2
    assert sorted(p.name for p in out.iterdir()) == ["keep.py"]  # no module, no temporary file
    assert (out / "keep.py").read_text() == "# untouched\n"


def test_two_sources_writing_the_same_file(tmp_path: Path) -> None:
    first, _ = write_workflow(tmp_path, HEADER + 'b.add_async_code("a", "result = 1")\n', name="one.py")
    second, _ = write_workflow(tmp_path, HEADER + 'b.add_async_code("a", "result = 2")\n', name="two.py")
    result = run_cli(str(first), str(second), "-o", str(tmp_path / "out"))
    assert result.returncode == 2
    assert "wf.py" in result.stderr and "distinct names" in result.stderr
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("call", "problem"),
    [
        ('b.add_async_code("a", "result = 1", timeout=-1)', "timeout must be a positive number, not -1"),
        ('b.add_async_code("a", "result = 1", max_concurrent_tasks=0)', "max_concurrent_tasks must be a positive"),
        ('b.add_async_code("a", "result = 1", required_resources=["db"])', "required resource 'db' is not declared"),
    ],
)
def test_settings_out_of_range(tmp_path: Path, call: str, problem: str) -> None:
    failure = compile_failing(tmp_path, HEADER + call + "  # <-\n")
    message = failure.message()
    assert message.startswith(f"error: wf.py:{failure.line}: node 'a': ")
    assert problem in message
