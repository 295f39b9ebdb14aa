"""The oldest supported Python whose grammar accepts a piece of generated source.

A workflow compiled on Python 3.12 or newer may use syntax Python 3.11 rejects: ``type``
statements and type parameters (caught by ``ast.parse(feature_version=...)``) and the
f-strings of PEP 701 (not caught by it): an expression part that reuses the f-string's
own quotes, holds a backslash or a comment, or spans lines inside a single-quoted
f-string. The generated module then states the version it needs. Python 3.11 itself
refuses such code before it gets here.
"""

from __future__ import annotations

import ast
import io
import re
import sys
import tokenize
from functools import lru_cache

from .python_names import SUPPORTED_VERSIONS
from .source_text import split_lines

OLDEST = SUPPORTED_VERSIONS[0]

# Cheap filters: most chunks have none of these, and then need no parse or tokenize here.
_TYPE_SYNTAX = re.compile(r"^\s*type\s+\w|\b(?:def|class)\s+\w+\s*\[", re.MULTILINE)
_F_STRING = re.compile(r"""(?<![\w'"])(?:[fFtT][rR]?|[rR][fFtT])['"]""")

_FSTRING_START = getattr(tokenize, "FSTRING_START", None)
_FSTRING_MIDDLE = getattr(tokenize, "FSTRING_MIDDLE", None)
_FSTRING_END = getattr(tokenize, "FSTRING_END", None)


def required_version(source: str) -> tuple[int, int]:
    """The oldest supported ``(major, minor)`` that can compile ``source`` (valid on this Python)."""
    needed = OLDEST
    if _TYPE_SYNTAX.search(source):
        needed = max(needed, _grammar_version(source))
    if _F_STRING.search(source) and _uses_pep701_fstrings(source):
        needed = max(needed, (3, 12))
    return needed


@lru_cache(maxsize=1024)
def _grammar_version(source: str) -> tuple[int, int]:
    for version in SUPPORTED_VERSIONS:
        if version > sys.version_info[:2]:
            break
        try:
            ast.parse(source, feature_version=version)
        except SyntaxError:
            continue
        return version
    return sys.version_info.major, sys.version_info.minor


@lru_cache(maxsize=1024)
def _uses_pep701_fstrings(source: str) -> bool:
    if _FSTRING_START is None:
        return False  # Python 3.11 tokenizes an f-string as one string: it has only the old rules
    lines = split_lines(source, keepends=True)
    open_fstrings: list[tuple[str, tuple[int, int]]] = []  # (quote, start) of each f-string being read
    try:
        for token in tokenize.generate_tokens(io.StringIO(source).readline):
            kind = token.type
            if kind == _FSTRING_START:
                open_fstrings.append((token.string.lstrip("rRfFbBuUtT"), token.start))
                continue
            if kind == _FSTRING_END:
                _, start = open_fstrings.pop()
                if _old_rules_end(lines, start) != token.end:
                    return True  # the f-string's own quote appears inside it
                continue
            if not open_fstrings or (kind == _FSTRING_MIDDLE and len(open_fstrings) == 1):
                continue  # outside any expression part
            if kind == tokenize.COMMENT or "\\" in token.string:
                return True
            if kind in (tokenize.NL, tokenize.NEWLINE) and any(len(quote) == 1 for quote, _ in open_fstrings):
                return True
    except (tokenize.TokenError, SyntaxError):
        return False
    return False


def _old_rules_end(lines: list[str], start: tuple[int, int]) -> tuple[int, int]:
    """Where Python 3.11 ends the string literal at ``start``: the first unescaped closing quote."""
    row, column = start
    text = lines[row - 1]
    while column < len(text) and text[column] not in "'\"":
        column += 1  # the prefix
    quote = text[column] * 3 if text[column : column + 3] in ('"""', "'''") else text[column]
    column += len(quote)
    while row <= len(lines):
        text = lines[row - 1]
        while column < len(text):
            if text[column] == "\\":
                column += 2
            elif text.startswith(quote, column):
                return row, column + len(quote)
            else:
                column += 1
        row += 1
        column = 0
    return start
