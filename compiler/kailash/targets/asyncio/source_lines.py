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

from ... import codeblock
from ...analysis.plan import ModulePlan, NodePlan
from ...source_text import split_lines


@dataclass(frozen=True)
class FunctionLines:
    """One top-level function of a node: its node, the file line of code line 1, and
    ``"first-last=code line"`` runs of lines counted from the function's first line."""

    function: str
    node_id: str
    code_start: int | None
    runs: str


def source_line_table(plan: ModulePlan, chunks: list[str]) -> list[FunctionLines]:
    """The lines of every node's functions; ``chunks`` are the formatted header and node chunks."""
    table: list[FunctionLines] = []
    for node_plan, chunk in zip(plan.nodes, chunks[1:], strict=False):
        node = node_plan.node
        if not node.code.strip():
            continue
        start = node.code_line
        for function, runs in _function_lines(node_plan, chunk):
            table.append(FunctionLines(function, node.node_id, start, runs))
    return table


def _function_lines(node_plan: NodePlan, chunk: str) -> Iterator[tuple[str, str]]:
    try:
        generated = ast.parse(chunk)
        block = ast.parse(codeblock.as_function(node_plan.node.code))
    except (SyntaxError, ValueError, RecursionError, MemoryError):  # too deep or odd to map: no entry
        return
    wrapper = block.body[0]
    assert isinstance(wrapper, ast.AsyncFunctionDef)
    ours = _statements(wrapper.body)
    theirs = _statements(generated.body)
    matcher = difflib.SequenceMatcher(None, [key for key, _ in ours], [key for key, _ in theirs], autojunk=False)
    texts = split_lines(chunk)
    code_line_of: dict[int, int] = {}  # generated line -> code line; inner statements come later and win
    for first, second, size in matcher.get_matching_blocks():
        for offset in range(size):
            code_stmt, generated_stmt = ours[first + offset][1], theirs[second + offset][1]
            code_line = code_stmt.lineno - 1  # as_function puts one line above the block
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


def _statements(body: list[ast.stmt]) -> list[tuple[str, ast.stmt]]:
    """Every statement under ``body``, in source order, keyed by what it is (a compound
    statement by its kind: its header may be renamed or laid out anew)."""
    found = [node for statement in body for node in ast.walk(statement) if isinstance(node, ast.stmt)]
    found.sort(key=lambda node: (node.lineno, node.col_offset))
    return [(_key(node), node) for node in found]


def _own_lines(statement: ast.stmt) -> range:
    """The lines of a statement that are its own: all of a simple one, the header of a compound one."""
    body = getattr(statement, "body", None)
    if isinstance(body, list) and body:
        return range(statement.lineno, body[0].lineno)
    return range(statement.lineno, (statement.end_lineno or statement.lineno) + 1)


def _key(statement: ast.stmt) -> str:
    if hasattr(statement, "body") or (
        isinstance(statement, ast.Expr)
        and isinstance(statement.value, ast.Constant)
        and isinstance(statement.value.value, str)
    ):
        return type(statement).__name__
    try:
        return ast.dump(statement)
    except (ValueError, RecursionError):  # an int too long to show, or an expression nested too deep
        return f"{type(statement).__name__} not shown"


def _runs(lines: list[tuple[int, int]]) -> str:
    """``[(1, 3), (2, 3), (3, 4)]`` as ``"1-2=3 3=4"``."""
    runs: list[list[int]] = []
    for offset, code_line in lines:
        if runs and runs[-1][1] == offset - 1 and runs[-1][2] == code_line:
            runs[-1][1] = offset
        else:
            runs.append([offset, offset, code_line])
    return " ".join(f"{first}={line}" if first == last else f"{first}-{last}={line}" for first, last, line in runs)
