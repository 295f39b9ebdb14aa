"""The note (PEP 678) an exception raised in node code carries: the workflow file's line of it.

A generated module holds ``SOURCE_LINES = (workflow file, {function: (node id, file line of
code line 1, runs)})``, where ``runs`` maps the lines of each function (counted from its first
line) to the lines of the node's code block. When a run records a node's error, the deepest
frame of the traceback in such a module gives the line, and the note reads::

    File "examples/data_enrichment.py", line 52, in node 'enrich_users' (code line 7)
        enriched["score"] = user["id"] * 10

Only failures pay for this: nothing is read until an exception is recorded.
"""

from __future__ import annotations

import ast
import linecache
from collections.abc import Iterator
from functools import lru_cache
from types import TracebackType
from typing import Any


def add_source_note(exc: BaseException) -> None:
    """Note on ``exc`` (or the exception it was raised from) where in the workflow file it was raised."""
    seen: set[int] = set()
    step: BaseException | None = exc
    while step is not None and id(step) not in seen:
        seen.add(id(step))
        note = _note(step.__traceback__)
        if note is not None:
            if note not in getattr(step, "__notes__", ()):
                step.add_note(note)
            return
        step = step.__cause__ or step.__context__


def _note(tb: TracebackType | None) -> str | None:
    found = None
    for frame_tb in _frames(tb):
        globals_ = frame_tb.tb_frame.f_globals
        table = globals_.get("SOURCE_LINES")
        if isinstance(table, tuple) and len(table) == 2:
            filename = frame_tb.tb_frame.f_code.co_filename
            where = _locate(table, filename, frame_tb.tb_lineno)
            if where is not None:
                found = (*where, filename, frame_tb.tb_lineno)
    if found is None:
        return None
    workflow_file, node_id, start, code_line, filename, lineno = found
    text = linecache.getline(filename, lineno).strip()
    if start is not None:
        head = f'File "{workflow_file}", line {start + code_line - 1}, in node {node_id!r} (code line {code_line})'
    else:
        head = f'File "{workflow_file}", in node {node_id!r}, code line {code_line} (its line in the file is not known)'
    return f"{head}\n    {text}" if text else head


def _frames(tb: TracebackType | None) -> Iterator[TracebackType]:
    while tb is not None:
        yield tb
        tb = tb.tb_next


def _locate(table: tuple[Any, Any], filename: str, lineno: int) -> tuple[str, str, int | None, int] | None:
    """(workflow file, node id, file line of code line 1, code line) of a line of the module."""
    workflow_file, functions = table
    if not isinstance(functions, dict):
        return None
    for name, first, last in _top_level_functions(filename, len(linecache.getlines(filename))):
        if first <= lineno <= last and name in functions:
            node_id, start, runs = functions[name]
            code_line = _code_line(runs, lineno - first)
            if code_line is not None:
                return str(workflow_file), node_id, start, code_line
    return None


@lru_cache(maxsize=64)
def _top_level_functions(filename: str, line_count: int) -> tuple[tuple[str, int, int], ...]:
    """(name, first line with decorators, last line) of each top-level function of the module."""
    try:
        tree = ast.parse("".join(linecache.getlines(filename)))
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return ()
    return tuple(
        (node.name, min([node.lineno, *(d.lineno for d in node.decorator_list)]), node.end_lineno or node.lineno)
        for node in tree.body
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
    )


def _code_line(runs: str, offset: int) -> int | None:
    for run in runs.split():
        span, _, line = run.partition("=")
        first, _, last = span.partition("-")
        if int(first) <= offset <= int(last or first):
            return int(line)
    return None
