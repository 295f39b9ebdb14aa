"""The line of the workflow file where a code block's first line is.

The builder is given a code block as a string; when that string is a literal in the workflow
file whose lines are the file's lines one for one (a triple-quoted block, a one-line string),
the IR records the file's line of the block's first line (``NodeIR.code_line``), so a traceback
of the compiled code can name the line the user wrote. Code built at run time, or a literal
whose lines are not the file's (escaped newlines, implicit concatenation), gets None.

The file is read and parsed once per version of it, however many nodes it builds.
"""

from __future__ import annotations

import ast
import os
from functools import lru_cache
from pathlib import Path

from ._location import real_path
from .ir import Location
from .source_text import is_blank, normalize_newlines, split_lines


def code_line(code: str, location: Location) -> int | None:
    """The file's line of the first line of ``code`` (as the builder dedents it), or None."""
    path = real_path(location.file)
    if path is None:
        return None
    text = _file_text(path)
    if text is None:
        return None
    starts = _literals(text).get(code)
    if not starts:
        return None
    # The literal in the builder call (at or after its line), else the nearest one before it.
    after = [line for line in starts if line >= location.line]
    first = min(after) if after else max(starts)
    raw = split_lines(normalize_newlines(code))
    skipped = next((index for index, line in enumerate(raw) if not is_blank(line)), 0)
    file_lines = _lines(text)
    for number, line in enumerate(raw[skipped:], start=first + skipped):
        wanted = line.strip()
        if wanted and (number > len(file_lines) or wanted not in file_lines[number - 1]):
            return None  # the literal's lines are not the file's lines one for one
    return first + skipped


def _file_text(path: str) -> str | None:
    try:
        status = os.stat(path)
    except (OSError, ValueError):
        return None
    return _read(path, status.st_mtime_ns, status.st_size)


@lru_cache(maxsize=16)
def _read(path: str, mtime_ns: int, size: int) -> str | None:
    """The file's text, once per version of it (the key changes when the file does)."""
    try:
        return Path(path).read_text(encoding="utf-8")
    except (OSError, ValueError):
        return None


@lru_cache(maxsize=16)
def _lines(text: str) -> list[str]:
    return split_lines(text)


@lru_cache(maxsize=16)
def _literals(text: str) -> dict[str, list[int]]:
    """Each string literal of the file's source, by value: the lines it starts on."""
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return {}
    found: dict[str, list[int]] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value.strip():
            found.setdefault(node.value, []).append(node.lineno)
    return found
