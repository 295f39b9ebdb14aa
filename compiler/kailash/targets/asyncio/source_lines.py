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
        for function, runs in function_lines(chunk, node.code):
            table.append(FunctionLines(function, node.node_id, start, runs))
    return table


@lru_cache(maxsize=4096)
def function_lines(chunk: str, code: str) -> tuple[tuple[str, str], ...]:
    """``(function, runs)`` for each function of a formatted node chunk holding lines of ``code``
    (kept per chunk and code: a warm compile does not read them again)."""
    return tuple(_function_lines(chunk, code))


def _function_lines(chunk: str, code: str) -> Iterator[tuple[str, str]]:
    try:
        generated = ast.parse(chunk)
        block = ast.parse(codeblock.as_function(code))
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
    """Every statement under ``body``, in source order, keyed by what it is."""
    found: list[tuple[str, ast.stmt]] = []
    pending = list(reversed(body))
    while pending:
        statement = pending.pop()
        found.append((_key(statement), statement))
        inner: list[ast.stmt] = []
        for field in ("body", "handlers", "orelse", "finalbody", "cases"):
            for item in getattr(statement, field, ()):
                inner.extend(item.body if isinstance(item, (ast.ExceptHandler, ast.match_case)) else [item])
        pending.extend(reversed(inner))
    return found


def _own_lines(statement: ast.stmt) -> range:
    """The lines of a statement that are its own: all of a simple one, the header of a compound one."""
    body = getattr(statement, "body", None)
    if isinstance(body, list) and body:
        return range(statement.lineno, body[0].lineno)
    return range(statement.lineno, (statement.end_lineno or statement.lineno) + 1)


def _key(statement: ast.stmt) -> str:
    """What a statement is, as far as black leaves it alone: its kind and the names it binds or
    calls (a compound statement by its kind: a map function is renamed, a header laid out anew)."""
    kind = type(statement).__name__
    if isinstance(statement, ast.Assign):
        return f"{kind} {' '.join(_name(target) for target in statement.targets)}"
    if isinstance(statement, (ast.AugAssign, ast.AnnAssign)):
        return f"{kind} {_name(statement.target)}"
    if isinstance(statement, (ast.Import, ast.ImportFrom)):
        return f"{kind} {' '.join(alias.name for alias in statement.names)}"
    if isinstance(statement, (ast.Expr, ast.Return)):
        value = statement.value
        if isinstance(value, ast.Await):
            value = value.value
        if isinstance(value, ast.Call):
            return f"{kind} {_name(value.func)}()"
        return f"{kind} {type(value).__name__}"
    return kind


def _name(node: ast.expr) -> str:
    """``a.b[...]`` for an assignment target or a called function; other expressions by kind."""
    parts = []
    while isinstance(node, (ast.Attribute, ast.Subscript)):
        parts.append(f".{node.attr}" if isinstance(node, ast.Attribute) else "[]")
        node = node.value
    base = node.id if isinstance(node, ast.Name) else type(node).__name__
    return base + "".join(reversed(parts))


def _runs(lines: list[tuple[int, int]]) -> str:
    """``[(1, 3), (2, 3), (3, 4)]`` as ``"1-2=3 3=4"``."""
    runs: list[list[int]] = []
    for offset, code_line in lines:
        if runs and runs[-1][1] == offset - 1 and runs[-1][2] == code_line:
            runs[-1][1] = offset
        else:
            runs.append([offset, offset, code_line])
    return " ".join(f"{first}={line}" if first == last else f"{first}-{last}={line}" for first, last, line in runs)
