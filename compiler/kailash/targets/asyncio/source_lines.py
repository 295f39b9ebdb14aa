"""Where each generated line of node code comes from: the code line, and the workflow file's line.

black lays a node's code out anew (a long statement becomes several lines, blank lines go), so
a line of the module is not the same line of the code block. After formatting, the statements
of each node's chunk are paired with the statements of its code block (in source order, by
what they are), and every line of a node's functions gets the code line of the innermost
statement it belongs to. The module keeps that as ``SOURCE_LINES``, with lines counted from
each function's first line, so editing one node changes only its own entry; ``kailash_rt``
reads it when an exception raised in node code is recorded, to add a note naming the workflow
file's line (see ``kailash_rt._source_notes``).

The workflow file's line of code line 1 is the IR's ``code_line`` (see ``kailash.code_location``);
without it (code built at run time, say) the note names the code line only.
"""

from __future__ import annotations

import ast
import difflib
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache

from ... import codeblock
from ...analysis.plan import ModulePlan
from ...compile_state import LINES, ModuleState, key_of
from ...source_text import split_lines
from ...statement_keys import keyed_statements


@dataclass(frozen=True)
class FunctionLines:
    """One top-level function of a node: its node, the file line of code line 1, and
    ``"first-last=code line"`` runs of lines counted from the function's first line."""

    function: str
    node_id: str
    code_start: int | None
    runs: str


def source_line_table(plan: ModulePlan, chunks: list[str], state: ModuleState | None = None) -> list[FunctionLines]:
    """The lines of every node's functions; ``chunks`` are the formatted header and node chunks.
    ``state``: what the last compile of the module found, for the chunks it had too."""
    table: list[FunctionLines] = []
    for node_plan, chunk in zip(plan.nodes, chunks[1:], strict=False):
        node = node_plan.node
        if not node.code.strip():
            continue
        start = node.code_line
        for function, runs in _lines_of(chunk, node.code, state):
            table.append(FunctionLines(function, node.node_id, start, runs))
    return table


def _lines_of(chunk: str, code: str, state: ModuleState | None) -> tuple[tuple[str, str], ...]:
    if state is None:
        return function_lines(chunk, code)
    key = key_of(chunk, code)
    found = state.get(LINES, key)
    if isinstance(found, list) and all(isinstance(pair, list) and len(pair) == 2 for pair in found):
        return tuple((str(function), str(runs)) for function, runs in found)
    lines = function_lines(chunk, code)
    state.put(LINES, key, [list(pair) for pair in lines])
    return lines


@lru_cache(maxsize=4096)
def function_lines(chunk: str, code: str) -> tuple[tuple[str, str], ...]:
    """``(function, runs)`` for each function of a formatted node chunk holding lines of ``code``
    (kept per chunk and code: a warm compile does not read them again)."""
    return tuple(_function_lines(chunk, code))


def _function_lines(chunk: str, code: str) -> Iterator[tuple[str, str]]:
    try:
        generated = ast.parse(chunk)
        ours = _block_statements(code)
    except (SyntaxError, ValueError, RecursionError, MemoryError):  # too deep or odd to map: no entry
        return
    theirs = keyed_statements(generated.body)
    matcher = difflib.SequenceMatcher(None, [key for key, _ in ours], [key for key, _ in theirs], autojunk=False)
    texts = split_lines(chunk)
    code_line_of: dict[int, int] = {}  # generated line -> code line; inner statements come later and win
    for first, second, size in matcher.get_matching_blocks():
        for offset in range(size):
            wrapped_line, generated_stmt = ours[first + offset][1], theirs[second + offset][1]
            code_line = wrapped_line - 1  # as_function puts one line above the block
            for line in _own_lines(generated_stmt):
                text = texts[line - 1].strip() if line <= len(texts) else ""
                if text and not text.startswith("#"):
                    code_line_of[line] = code_line
    for top in generated.body:
        if not isinstance(top, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        first_line = min([top.lineno, *(decorator.lineno for decorator in top.decorator_list)])
        lines = [
            (line - first_line, code_line_of[line])
            for line in range(first_line, (top.end_lineno or top.lineno) + 1)
            if line in code_line_of and line > top.lineno
        ]
        if lines:
            yield top.name, _runs(lines)


def _own_lines(statement: ast.stmt) -> range:
    """The lines of a statement that are its own: all of a simple one, the header of a compound one."""
    body = getattr(statement, "body", None)
    if isinstance(body, list) and body:
        return range(statement.lineno, body[0].lineno)
    return range(statement.lineno, (statement.end_lineno or statement.lineno) + 1)


def _block_statements(code: str) -> tuple[tuple[str, int], ...]:
    """The block's statements as keys and lines of ``as_function(code)``: those the builder
    worked out when it checked the block, else from the block parsed again."""
    try:
        return codeblock.facts(code).statements
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        wrapper = ast.parse(codeblock.as_function(code)).body[0]
        assert isinstance(wrapper, ast.AsyncFunctionDef)
        return tuple((key, statement.lineno) for key, statement in keyed_statements(wrapper.body))


def _runs(lines: list[tuple[int, int]]) -> str:
    """``[(1, 3), (2, 3), (3, 4)]`` as ``"1-2=3 3=4"``."""
    runs: list[list[int]] = []
    for offset, code_line in lines:
        if runs and runs[-1][1] == offset - 1 and runs[-1][2] == code_line:
            runs[-1][1] = offset
        else:
            runs.append([offset, offset, code_line])
    return " ".join(f"{first}={line}" if first == last else f"{first}-{last}={line}" for first, last, line in runs)
