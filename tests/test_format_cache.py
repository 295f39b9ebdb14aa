"""The format cache on disk is never trusted: an entry is used only when it provably is the
formatting of its chunk; anything else (edited, empty, not UTF-8, spliced wrongly) is
ignored and rewritten, so the compiled module is the one a cold cache gives."""

from __future__ import annotations

import ast
import io
import random
import tokenize
from collections.abc import Callable, Iterator
from pathlib import Path

import black
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from kailash import compile_state
from kailash.codegen import compile_ir, equivalence, formatting
from kailash.codegen.equivalence import is_formatting_of
from kailash.sources import load_workflows
from kailash.targets.asyncio import chunk_facts
from kailash.workflow import AsyncWorkflowBuilder, Workflow

from .conftest import EXAMPLES

NODE_CODE = """
# keep the note
value = 'safe'  # the value
result = {'value': value}
"""


def small_workflow() -> Workflow:
    builder = AsyncWorkflowBuilder("cache_target")
    builder.add_async_code("first", NODE_CODE)
    builder.add_async_code("second", "result = {'n': value}")
    builder.add_connection("first", "value", "second", "value")
    return builder.build()


def wide_workflow(nodes: int = 120) -> Workflow:
    """Enough nodes that run() is formatted in several groups of statements."""
    builder = AsyncWorkflowBuilder("wide_cache_target")
    for index in range(nodes):
        builder.add_async_code(f"n{index}", f"result = {index}")
    return builder.build()


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    directory = tmp_path / "cache"
    monkeypatch.setenv("KAILASH_COMPILE_CACHE", str(directory))
    monkeypatch.setattr(formatting, "_memory", {})
    # What the last compile of a module left is kept apart (test_compile_state.py): here every
    # compile reads the format cache.
    monkeypatch.setattr(compile_state, "load", lambda *_: compile_state.ModuleState(None))
    return directory


@pytest.fixture
def black_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The texts black formats from now on."""
    calls: list[str] = []
    original = formatting._black

    def recording(chunk: str) -> str:
        calls.append(chunk)
        return original(chunk)

    monkeypatch.setattr(formatting, "_black", recording)
    return calls


def entries(cache: Path) -> Iterator[Path]:
    """The cache's format entries (``<key[:2]>/<key>``): not the marker of when it was last
    pruned, nor the compiled templates a first render in the process may have written."""
    return (path for path in cache.glob("??/*") if path.is_file() and path.name.startswith(path.parent.name))


def entry_with(cache: Path, needle: str) -> Path:
    [path] = [path for path in entries(cache) if needle in path.read_text(encoding="utf-8")]
    return path


def warm_compile(workflow: Workflow) -> str:
    """A compile in a new process: nothing in memory, the disk cache as it is."""
    formatting._memory.clear()
    chunk_facts.forget()  # what validation read, kept in memory beside the format entries
    return compile_ir(workflow.ir).source


def test_edited_entry_cannot_inject_code(cache: Path) -> None:
    cold = compile_ir(small_workflow().ir).source
    entry = entry_with(cache, 'value = "safe"')
    entry.write_text(entry.read_text().replace('    result = {"value": value}', '    result = {"value": "INJECTED"}'))
    assert warm_compile(small_workflow()) == cold
    assert "INJECTED" not in entry.read_text()  # rewritten


def test_edited_comment_is_not_used(cache: Path) -> None:
    cold = compile_ir(small_workflow().ir).source
    entry = entry_with(cache, "# keep the note")
    entry.write_text(entry.read_text().replace("# keep the note", "# reviewed: safe to deploy"))
    assert warm_compile(small_workflow()) == cold


@pytest.mark.parametrize(
    "damage",
    [lambda path: path.write_bytes(b""), lambda path: path.write_bytes(b"\xff\xfe not utf-8 \x80")],
    ids=["empty", "invalid-utf8"],
)
def test_damaged_entries_are_ignored_and_rewritten(cache: Path, damage: Callable[[Path], None]) -> None:
    cold = compile_ir(small_workflow().ir).source
    for entry in entries(cache):
        damage(entry)
    assert warm_compile(small_workflow()) == cold
    assert all(entry.stat().st_size > 0 for entry in entries(cache))
    assert all(entry.read_bytes().decode("utf-8") for entry in entries(cache))


def test_oversized_entry_is_ignored(cache: Path) -> None:
    cold = compile_ir(small_workflow().ir).source
    entry = entry_with(cache, 'value = "safe"')
    entry.write_text(entry.read_text() + "    \n" * 300_000)  # the same code and comments, 1.5 MB
    assert warm_compile(small_workflow()) == cold


def test_piece_that_drops_its_statements_when_spliced_is_not_used(cache: Path) -> None:
    """A run() group written on the `if _:` line keeps its AST but loses its statements when its
    first lines are cut off to splice it into run(): it must not silently drop 50 nodes."""
    cold = compile_ir(wide_workflow().ir).source
    group = entry_with(cache, 'r.node("n60", n60)')
    lines = group.read_text().splitlines()
    assert lines[:2] == ["if _:", "    if _:"]
    group.write_text("if _:\n    if _: " + "; ".join(line.strip() for line in lines[2:]) + "\n")
    assert warm_compile(wide_workflow()) == cold
    assert group.read_text().splitlines()[:2] == ["if _:", "    if _:"]  # rewritten


@pytest.mark.parametrize(
    "edit",
    [
        lambda text: text.replace("as r:\n        pass\n", "as r:        pass\n"),  # same AST, no line to splice at
        lambda text: text.replace("return r.result", "return None"),
        lambda text: text.replace("        pass\n", "        pass\n        pass\n"),
    ],
    ids=["placeholder-on-the-with-line", "code-changed", "two-placeholders"],
)
def test_run_skeleton_that_is_not_a_formatting_is_not_used(cache: Path, edit: Callable[[str], str]) -> None:
    cold = compile_ir(wide_workflow().ir).source
    skeleton = entry_with(cache, "async def run(")
    edited = edit(skeleton.read_text())
    assert edited != skeleton.read_text()
    skeleton.write_text(edited)
    assert warm_compile(wide_workflow()) == cold


def test_warm_compile_formats_nothing(cache: Path, black_calls: list[str]) -> None:
    """Entries black wrote are proven as they are: chunks black changes (quotes, comments, long
    lines, docstrings) are not formatted again on a warm compile."""
    workflows = [small_workflow(), wide_workflow()]
    workflows += [found.workflow for path in sorted(EXAMPLES.glob("*.py")) for found in load_workflows(str(path))]
    cold = [compile_ir(workflow.ir).source for workflow in workflows]
    assert black_calls
    black_calls.clear()
    assert [warm_compile(workflow) for workflow in workflows] == cold
    assert black_calls == []


# -- what "the formatting of" means -----------------------------------------------------------


@pytest.mark.parametrize(
    "source, formatted",
    [
        ("x = {'a': 1}  #note\n", 'x = {"a": 1}  # note\n'),
        ("f(a,\n  b)\n", "f(a, b)\n"),
        ("del (a, b)\n", "del a, b\n"),
        ('def f():\n    """\n      Doc.   \n    """\n', 'def f():\n    """\n    Doc.\n    """\n'),
        ("x = u'a'\n", 'x = "a"\n'),
        ("x = 1  # type:  int\n", "x = 1  # type: int\n"),
    ],
)
def test_layout_changes_are_a_formatting(source: str, formatted: str) -> None:
    assert is_formatting_of(formatted, source)


@pytest.mark.parametrize(
    "source, formatted",
    [
        ("x = 1\n", "x = 2\n"),
        ("x = 1\n", "x = True\n"),
        ("x = 1\n", "x = 1.0\n"),
        ('"""doc"""\n', "1\n"),
        ("del a, b\n", "del a\n"),
        ("x = 1\ny = 2\n", "x = 1\n"),
        ("x = 1\n", ""),
        ("x = 'a b'\n", "x = 'a  b'\n"),  # only standalone strings may be respaced
        ("x = 1  # one\n", "x = 1  # two\n"),
        ("x = 1  # one\n", "x = 1\n"),
        ("x = 1\n", "x = 1  # added\n"),
        ("# a\n# b\nx = 1\n", "# b\n# a\nx = 1\n"),
        # the same comment moved to line 1 declares the file's encoding
        ("x = 1\ny = 2\n# coding: utf-7\n", "# coding: utf-7\nx = 1\ny = 2\n"),
        ("x = 1\ny = 2\n#\n# coding: utf-7\n", "#\r# coding: utf-7\rx = 1\ny = 2\n"),
        ("x = 1\n", "x = (\n"),
        ("x = 1\n", "x = 1\x00\n"),
        ("x = 1\n", "x = " + "(" * 100_000 + "1" + ")" * 100_000 + "\n"),
    ],
)
def test_other_changes_are_not_a_formatting(source: str, formatted: str) -> None:
    assert not is_formatting_of(formatted, source)


COMMENT_FRAGMENTS = [
    "x = 1",
    "# a comment",
    "x = 1  #trailing",
    "s = 'a # not a comment'",
    's = "it\'s # not"  # but this is',
    "s = '''one\n# not a comment\n'''  # yes",
    's = """a \\""" # still the string"""  # after',
    "s = 'a\\'# b'  # c",
    's = "\\\\"  # after a backslash',
    "s = 'a\\\nb # in the string'  # c",
    "s = r'\\'#'  # raw",
    "s = Rb'#' + b\"#\"  # bytes",
    "s = u'#'",
    "s = f'{x!r} # not'  # f",
    "s = f\"{'#'}\"",
    "y = ('a'  # between\n     'b')",
    "y = [\n    1,  # one\n    2,\n]",
    "if x:\n    pass  # in a block",
    "z = '#' if '#' else '''#'''  # end",
    's = f"{d["#"]}"  # Python 3.12 f-strings nest quotes',
    's = f"""{\n    x  # a comment inside\n}"""',
]


def tokenizer_comments(text: str) -> list[str]:
    tokens = tokenize.generate_tokens(io.StringIO(text).readline)
    return ["".join(token.string[1:].split()) for token in tokens if token.type == tokenize.COMMENT]


def test_comments_are_found_as_the_tokenizer_finds_them() -> None:
    randomness = random.Random(8)
    checked = 0
    for _ in range(3000):
        lines = randomness.choices(COMMENT_FRAGMENTS, k=randomness.randint(1, 6))
        text = randomness.choice(["\n", "\r\n"]).join(lines) + "\n"
        try:
            ast.parse(text)
        except SyntaxError:
            continue
        checked += 1
        assert equivalence._comments(text) == tokenizer_comments(text), text
    assert checked > 2000


def test_a_long_run_block_is_formatted_in_groups_a_short_one_whole() -> None:
    from kailash.codegen.formatting import LONG_BLOCK, BlockChunk, split_block

    def run_source(count: int) -> str:
        calls = "".join(f"        n{i}_out = r.node('n{i}', n{i})\n" for i in range(count))
        return f"async def run():\n    async with rt.Run('w') as r:\n{calls}    return r.result\n"

    assert split_block(run_source(3)) == run_source(3)
    long = split_block(run_source(LONG_BLOCK + 5))
    assert isinstance(long, BlockChunk) and long.depth == 2
    assert len(long.statements) == LONG_BLOCK + 5
    assert long.unformatted() == run_source(LONG_BLOCK + 5)
    # A comment between statements would be lost by splitting: such a block stays whole.
    with_comment = run_source(LONG_BLOCK + 5).replace("        n7_out", "        # note\n        n7_out")
    assert split_block(with_comment) == with_comment


# Statements black lays out with blank lines around them that a group of their own would not get.
_SPECIAL_STATEMENTS = [
    "def helper():\n    return 1\n",
    "async def helper():\n    return 1\n",
    "class Helper:\n    pass\n",
    "def stub(): ...\n",
    "import os\n",
    "if a0:\n    def inner():\n        return 2\n",
    '"""A string."""\n',
    "with open(a0) as handle:\n    a1 = handle\n",
]


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 64), st.sampled_from(_SPECIAL_STATEMENTS)),
        min_size=1,
        max_size=3,
    ),
    st.sampled_from([0, 1]),
)
def test_a_long_block_formatted_in_groups_is_what_black_makes_of_it(
    specials: list[tuple[int, str]], nesting: int
) -> None:
    # Black puts blank lines after a nested def, class or import and before a def or class; a
    # block is split into groups only between statements it never does that for.
    statements = [f"a{index} = {index}\n" for index in range(65)]
    for index, special in specials:
        statements[index] = special
    indent = "    " * (1 + nesting)
    body = "".join(indent + line + "\n" for statement in statements for line in statement.splitlines())
    chunk = "async def node(a0, a1):\n" + ("    with a0:\n" if nesting else "") + body + indent + "return a1\n"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("KAILASH_COMPILE_CACHE", "")
        patch.setattr(formatting, "_memory", {})
        assert formatting.format_chunk_texts([chunk])[0] == black.format_str(chunk, mode=formatting.black_mode())
