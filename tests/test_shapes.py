"""Formatting by shape (kailash.codegen.shapes) and long displays in groups
(kailash.codegen.long_literals) give exactly what black gives on the same text."""

from __future__ import annotations

import os
import re
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path

import black
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from kailash.codegen import compile_ir, formatting, shapes
from kailash.codegen.long_literals import split_literal
from kailash.compile_api import compile_sources
from kailash.workflow import AsyncWorkflowBuilder

from .conftest import EXAMPLES, GOLDEN, ROOT
from .shape_chunks import Draw, chunk_pieces, fill

WORKFLOWS = ROOT / "tests" / "workflows"


def black_of(text: str) -> str:
    return black.format_str(text, mode=formatting.black_mode())


def black_each(texts: list[str]) -> list[str | None]:
    return [formatting._format_skeleton(text) for text in texts]


def by_shape(text: str) -> str | None:
    return shapes.format_by_shape([text], black_each)[0]


def test_black_names_holds_every_name_black_spells() -> None:
    """Every identifier black's source (and blib2to3's) spells as a string literal: what it
    may test a name's value against. A new black that tests another fails here."""
    root = Path(black.__file__).parent.parent
    sources = [*root.glob("black/*.py"), *(root / "blib2to3").rglob("*.py"), *(root / "blib2to3").glob("*.txt")]
    assert len(sources) > 20
    spelled = {
        match.group(2)
        for path in sources
        for match in re.finditer(r"""(?<![\w])[rbuRBU]?(['"])([A-Za-z_][A-Za-z0-9_]*)\1""", path.read_text())
    }
    assert spelled - shapes.BLACK_NAMES == set()


def rendered_texts(monkeypatch: pytest.MonkeyPatch, compile_all: Callable[[], None]) -> list[str]:
    """Every text the compile formats (chunks and pieces of block chunks)."""
    texts: list[str] = []
    original = formatting._format_many

    def recording(chunks: list[str], jobs: int) -> list[str]:
        texts.extend(chunks)
        return original(chunks, jobs)

    with monkeypatch.context() as patched:
        patched.setattr(formatting, "_format_many", recording)
        patched.setenv("KAILASH_COMPILE_CACHE", "")
        patched.setattr(formatting, "_memory", formatting.LRU(32768))
        compile_all()
    return texts


def workflow_files() -> Iterator[tuple[Path, str]]:
    for path in sorted(EXAMPLES.glob("*.py")):
        yield path, "asyncio"
        yield path, "temporal"
    for path in sorted(WORKFLOWS.rglob("*.py")):
        yield path, "temporal" if "temporal" in path.parts else "asyncio"


def test_every_chunk_of_every_workflow_formats_as_black_formats_it(monkeypatch: pytest.MonkeyPatch) -> None:
    def compile_all() -> None:
        cwd = Path.cwd()
        os.chdir(ROOT)
        try:
            for path, target in workflow_files():
                compile_sources([path.relative_to(ROOT)], target=target)
        finally:
            os.chdir(cwd)

    texts = rendered_texts(monkeypatch, compile_all)
    assert len(texts) > 100
    shaped = 0
    for text in texts:
        expected = black_of(text)
        assert formatting._format_many([text], 1) == [expected], text
        found = by_shape(text)
        assert found is None or found == expected, text
        shaped += found is not None
    assert shaped > len(texts) // 2  # the shape path is the usual one


@pytest.mark.parametrize("path", sorted(GOLDEN.rglob("*.py")), ids=lambda path: path.relative_to(GOLDEN).as_posix())
def test_golden_modules_format_by_shape_as_themselves(path: Path) -> None:
    text = path.read_text()
    assert black_of(text) == text
    assert formatting._format_many([text], 1) == [text]
    assert by_shape(text) in (None, text)


def source_lines_chunk(entries: int, wide: bool) -> str:
    """A chunk as run.py.j2 renders SOURCE_LINES, entries of varied widths (some too long for
    one line), then a function."""
    lines = ['# a comment\nSOURCE_LINES = ("workflow.py", {\n']
    for index in range(entries):
        runs = " ".join(f"{n}-{n + 1}={n * index % 97}" for n in range(1 + (index * 7919) % (30 if wide else 4)))
        lines.append(f'    "step_{index}": ("step_{index}", {index if index % 3 else None}, "{runs}"),\n')
    lines.append("})\n\n\nasync def run(\n    inputs=None) -> Any:\n    return inputs\n")
    return "".join(lines)


@pytest.mark.parametrize("entries", [51, 120, 1000])
@pytest.mark.parametrize("wide", [False, True])
def test_long_displays_format_in_groups_as_black_formats_them(entries: int, wide: bool) -> None:
    text = source_lines_chunk(entries, wide)
    literal = split_literal(text)
    assert literal is not None
    assert literal.assemble([black_of(piece) for piece in literal.pieces()]) == black_of(text)
    assert formatting._format_many([text], 1) == [black_of(text)]


@pytest.mark.parametrize(
    "text",
    [
        "x = [\n" + "".join(f"    {n},\n" for n in range(60)) + "]\n",
        "x = {\n" + "".join(f"    {n},  # {n}\n" for n in range(60)) + "}\n",
        "x = f(\n    [\n" + "".join(f"        a{n}(\n            {n}\n        ),\n" for n in range(60)) + "    ]\n)\n",
        "x = {\n" + "".join(f"    'k{n}': [{n}, {n}]," for n in range(60)) + "\n}\n",
        "x = [\n" + "".join(f"    {n}\n    ,\n" for n in range(60)) + "]\n",
        "x = {\n" + "".join(f"    **a{n},\n" for n in range(60)) + "}\n",
    ],
    ids=["list", "comments", "nested", "one-line", "comma-apart", "unpacking"],
)
def test_other_long_displays_format_as_black_formats_them(text: str) -> None:
    literal = split_literal(text)
    if literal is not None:
        assert literal.assemble([black_of(piece) for piece in literal.pieces()]) == black_of(text)
    assert formatting._format_many([text], 1) == [black_of(text)]


def test_a_chain_compiles_to_what_black_makes_of_it() -> None:
    builder = AsyncWorkflowBuilder("chain")
    for index in range(130):
        builder.add_async_code(
            f"step_{index}",
            f"# step {index}\nvalues = [left, right] if {index} > 1 else [1, 2]\n"
            f'result = {{"value": sum(values), "step": {index}, "label": "node-{index}"}}',
        )
        if index > 1:
            builder.add_connection(f"step_{index - 1}", "value", f"step_{index}", "left")
            builder.add_connection(f"step_{index - 2}", "value", f"step_{index}", "right")
    source = compile_ir(builder.build().ir).source
    assert "SOURCE_LINES" in source
    assert black_of(source) == source


def test_placeholders_that_do_not_come_back_in_order_are_refused() -> None:
    shaped = shapes.shape_of("alpha = beta(gamma, 'delta')  # note\n")
    assert shaped is not None
    formatted = black_of(shaped.skeleton)
    assert shapes.formatted_shape(shaped, formatted) is not None
    names = re.findall(r"q\d+", formatted)
    swapped = formatted.replace(names[1], "SWAP").replace(names[2], names[1]).replace("SWAP", names[2])
    assert shapes.formatted_shape(shaped, swapped) is None
    assert shapes.formatted_shape(shaped, formatted.replace("# q", "# z")) is None
    assert shapes.formatted_shape(shaped, formatted.replace("(", "(extra, ")) is None


def test_same_shape_chunks_are_formatted_by_black_once(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []

    def recording(texts: list[str]) -> list[str | None]:
        calls.extend(texts)
        return black_each(texts)

    monkeypatch.setattr(shapes, "_formatted_shapes", shapes.LRU(16))
    chunks = [
        f"def step_{n:03}(left, right):\n    # step {n:03}\n    return {{'value': left + {n:03}}}\n" for n in range(20)
    ]
    assert shapes.format_by_shape(chunks, recording) == [black_of(chunk) for chunk in chunks]
    assert len(calls) == 1


@st.composite
def two_chunks_of_one_shape(draw: Draw) -> tuple[str, str]:
    pieces = chunk_pieces(draw)
    return fill(draw, pieces), fill(draw, pieces)


@settings(max_examples=400, deadline=None, derandomize=True, database=None, suppress_health_check=list(HealthCheck))
@given(two_chunks_of_one_shape())
def test_chunks_format_by_shape_as_black_formats_them(chunks: tuple[str, str]) -> None:
    """The second chunk is formatted from the shape black formatted for the first (when the
    holes' tokens are all ordinary)."""
    expected = []
    for text in chunks:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", SyntaxWarning)
                compile(text, "<chunk>", "exec", dont_inherit=True)
            expected.append(black_of(text))
        except Exception:
            return  # only what compiles and black formats is a chunk
    for text, formatted in zip(chunks, expected, strict=True):
        assert by_shape(text) in (None, formatted)
