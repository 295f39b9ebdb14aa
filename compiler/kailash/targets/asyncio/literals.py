"""Python literals for generated source: repr-safe, in the spelling black would choose."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ...ir import EnvRef
from ...source_text import DECIMAL_INT_LIMIT


def py_literal(value: Any, secret: Callable[[EnvRef], str] | None = None) -> str:
    """Source text of a plain value; nothing in a string can break out of its literal.

    Subclasses (an IntEnum, a StrEnum) are written as the plain value they hold. A secret
    (``EnvRef``) is written as ``secret(ref)``: where there is none, it is a TypeError. An
    int of 640 digits or more is written in hexadecimal, which every Python reads.
    """
    if value is None or isinstance(value, bool):
        return repr(None if value is None else bool(value))
    if isinstance(value, int):
        if abs(value) >= DECIMAL_INT_LIMIT:
            return f"{'-' if value < 0 else ''}0x{abs(value):X}"
        return int.__repr__(value)
    if isinstance(value, float):
        text = float.__repr__(value)
        return text if text not in ("inf", "-inf", "nan") else f'float("{text}")'
    if isinstance(value, str):
        return py_string(value)
    if isinstance(value, EnvRef) and secret is not None:
        return secret(value)
    if isinstance(value, list):
        return "[" + ", ".join(py_literal(v, secret) for v in value) + "]"
    if isinstance(value, tuple):
        inner = ", ".join(py_literal(v, secret) for v in value)
        return f"({inner},)" if len(value) == 1 else f"({inner})"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{py_literal(k)}: {py_literal(v, secret)}" for k, v in value.items()) + "}"
    raise TypeError(f"{type(value).__name__} values cannot be written into a generated module")


def env_call(ref: EnvRef) -> str:
    """``rt.env("MAIN_DB_PASSWORD")``, or ``rt.env("SVC_PIN", int)`` for a secret that is not a string."""
    kind = "" if ref.kind == "str" else f", {ref.kind}"
    return f"rt.env({py_string(ref.variable)}{kind})"


def py_string(text: str) -> str:
    """A string literal, double-quoted unless that needs more escapes (black's preference)."""
    text = str.__str__(text)  # the plain string a subclass holds
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
