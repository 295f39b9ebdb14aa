"""Whether a text is a formatting of another: the same code and the same comments.

A formatted text read back from the format cache is used only when this holds against the
chunk it stands for, so whoever can write the cache cannot change what a compiled module
does or says. "The same code" is black's own safety check on its output: equal ASTs,
ignoring only what black's check ignores (the indentation and surrounding blank space of
standalone strings such as docstrings, a ``u`` string prefix, parentheses around ``del``
targets). On top of that the comments must be the same, in the same order, apart from white
space (black only respaces them), and a source-encoding declaration, which changes how Python decodes
a file, must be the same. What may differ is layout: line breaks, indentation, quotes,
parentheses and trailing commas.
"""

from __future__ import annotations

import ast
import io
import re
import sys
import tokenize
from collections.abc import Iterator
from typing import Any

# PEP 263: a comment on line 1 or 2 that names the file's encoding.
_CODING_COOKIE = re.compile(r"^[ \t\f]*#.*?coding[:=]", re.ASCII)
# Where Python's tokenizer sees comments in text that parses (Python 3.11's strings; a string
# prefix does not change where a string ends): much faster than tokenize.
_ESCAPE = r"\\(?:\r\n|.)"
_STRING_OR_COMMENT = re.compile(
    "|".join(
        [
            r"#[^\r\n]*",
            rf"'''[^'\\]*(?:(?:{_ESCAPE}|'(?!''))[^'\\]*)*'''",
            rf'"""[^"\\]*(?:(?:{_ESCAPE}|"(?!""))[^"\\]*)*"""',
            rf"'[^\n'\\]*(?:{_ESCAPE}[^\n'\\]*)*'",
            rf'"[^\n"\\]*(?:{_ESCAPE}[^\n"\\]*)*"',
        ]
    ),
    re.DOTALL,
)
_F_STRING = re.compile(r"(?:[fFtT][rR]?|[rR][fFtT])['\"]")
_LINE_BREAK = re.compile(r"\r\n|\r|\n")  # the line breaks of Python's tokenizer


def is_formatting_of(formatted: str, source: str) -> bool:
    """True when ``formatted`` has ``source``'s code, comments and encoding declaration."""
    if formatted == source:
        return True
    try:
        return (
            _coding_lines(formatted) == _coding_lines(source)
            and _same_code(ast.parse(formatted), ast.parse(source))
            and _comments(formatted) == _comments(source)
        )
    except (SyntaxError, ValueError, RecursionError, tokenize.TokenError):
        return False  # text that does not parse, or nests deeper than can be compared


def _same_code(one: Any, other: Any) -> bool:
    """Whether two ASTs (or fields of them) are equal as black's safety check compares them:
    node types and fields, constants with their types (``1`` is not ``True``)."""
    kind = type(one)
    if kind is not type(other):
        return False
    if kind is list:
        return len(one) == len(other) and all(map(_same_code, one, other))
    if not isinstance(one, ast.AST):
        return bool(one == other)  # an identifier, an int or None
    if isinstance(one, ast.Constant):  # not its ``kind``: black drops a ``u`` prefix
        return type(one.value) is type(other.value) and bool(one.value == other.value)
    if isinstance(one, ast.Expr) and (_standalone_string(one) is not None or _standalone_string(other) is not None):
        return _standalone_string(one) == _standalone_string(other)
    if isinstance(one, ast.Delete):
        return _same_code(list(_without_tuples(one.targets)), list(_without_tuples(other.targets)))
    return all(_same_code(getattr(one, field, None), getattr(other, field, None)) for field in one._fields)


def _standalone_string(node: ast.Expr) -> str | None:
    """A docstring-like string statement, normalized as black compares them; None for others."""
    if isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
        return _normalized_standalone_string(node.value.value)
    return None


def _normalized_standalone_string(value: str) -> str:
    """As black compares docstrings: each line stripped, blank lines at both ends dropped."""
    return "\n".join(line.strip() for line in value.splitlines()).strip()


def _without_tuples(targets: list[ast.expr]) -> Iterator[ast.expr]:
    for target in targets:
        if isinstance(target, ast.Tuple):
            yield from _without_tuples(target.elts)
        else:
            yield target


def _comments(text: str) -> list[str]:
    """Each comment without its ``#`` and white space: black only respaces comments."""
    if sys.version_info >= (3, 12) and _F_STRING.search(text):
        # PEP 701 f-strings nest quotes and may hold comments: only the tokenizer knows.
        found = [
            token.string
            for token in tokenize.generate_tokens(io.StringIO(text).readline)
            if token.type == tokenize.COMMENT
        ]
    else:
        found = [match.group() for match in _STRING_OR_COMMENT.finditer(text) if match.group().startswith("#")]
    return ["".join(comment[1:].split()) for comment in found]


def _coding_lines(text: str) -> list[str]:
    return [line for line in _LINE_BREAK.split(text, maxsplit=2)[:2] if _CODING_COOKIE.match(line)]
