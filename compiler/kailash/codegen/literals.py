"""Python literals for generated source: repr-safe, in the spelling black would choose."""

from __future__ import annotations

from typing import Any


def py_literal(value: Any) -> str:
    """Source text of a plain value; nothing in a string can break out of its literal."""
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
    """Text safe inside a triple-double-quoted docstring."""
    escaped = text.replace("\\", "\\\\").replace('"""', '\\"\\"\\"')
    escaped = "".join(c if c.isprintable() or c == "\n" else repr(c)[1:-1] for c in escaped)
    return escaped + " " if escaped.endswith('"') else escaped
