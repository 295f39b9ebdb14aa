"""Python literals for generated source: repr-safe, in the spelling black would choose."""

from __future__ import annotations

from typing import Any

from ..source_text import DECIMAL_INT_LIMIT


def py_literal(value: Any) -> str:
    """Source text of a plain value; nothing in a string can break out of its literal.

    An int of 640 digits or more is written in hexadecimal, which every Python reads.
    """
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= DECIMAL_INT_LIMIT:
        return f"{'-' if value < 0 else ''}0x{abs(value):X}"
    if value is None or isinstance(value, (bool, int)):
        return repr(value)
    if isinstance(value, float):
        text = repr(value)
        return text if text not in ("inf", "-inf", "nan") else f'float("{text}")'
    if isinstance(value, str):
        return py_string(value)
    if isinstance(value, list):
        return "[" + ", ".join(py_literal(v) for v in value) + "]"
    if isinstance(value, tuple):
        inner = ", ".join(py_literal(v) for v in value)
        return f"({inner},)" if len(value) == 1 else f"({inner})"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{py_literal(k)}: {py_literal(v)}" for k, v in value.items()) + "}"
    raise TypeError(f"{type(value).__name__} values cannot be written into a generated module")


def py_string(text: str) -> str:
    """A string literal, double-quoted unless that needs more escapes (black's preference)."""
    literal = repr(text)
    if literal.startswith("'") and '"' not in text:
        literal = '"' + literal[1:-1].replace("\\'", "'") + '"'
    return literal


def comment_text(text: str) -> str:
    """Text safe inside a ``#`` comment: control characters escaped."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in str(text))


def docstring_text(text: str) -> str:
    """Text safe inside a triple-double-quoted docstring.

    A lone surrogate is shown as its escape, backslash included (``\\ud800``): a docstring
    holding one does not compile on Python 3.13.
    """
    escaped = text.replace("\\", "\\\\").replace('"""', '\\"\\"\\"')
    escaped = "".join(c if c.isprintable() or c == "\n" else _docstring_escape(c) for c in escaped)
    return escaped + " " if escaped.endswith('"') else escaped


def _docstring_escape(char: str) -> str:
    escape = repr(char)[1:-1]
    return "\\" + escape if "\ud800" <= char <= "\udfff" else escape
