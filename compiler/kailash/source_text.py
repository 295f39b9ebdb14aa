"""Source text as Python's tokenizer reads it.

A line of Python source ends at ``\\n``, ``\\r\\n`` or ``\\r`` and nowhere else.
``str.splitlines()`` also breaks at ``\\v``, ``\\f``, ``\\x1c``-``\\x1e``, ``\\x85``, U+2028
and U+2029, which Python keeps inside a line (in a string, in a comment): splitting code
with it moves text across lines and changes what the code means.
"""

from __future__ import annotations

import sys

# What the tokenizer skips at the start of a line: a form feed resets the indentation count.
PYTHON_WHITESPACE = " \t\x0c"


# The longest decimal int literal a Python reads by default (sys.int_info.default_max_str_digits).
DEFAULT_INT_DIGITS = sys.int_info.default_max_str_digits
# Every Python converts an int below this (640 digits) to decimal text and back, whatever limit
# sys.set_int_max_str_digits set (it cannot go lower); hexadecimal has no limit at all.
DECIMAL_INT_LIMIT = 10**640


def normalize_newlines(text: str) -> str:
    """``\\r\\n`` and ``\\r`` as ``\\n``, as ``compile()`` reads source text (inside strings too)."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def split_lines(text: str, *, keepends: bool = False) -> list[str]:
    """The lines of source text whose line breaks are ``\\n``: ``str.splitlines()`` as Python
    would split it (no empty last line for a final newline)."""
    lines = text.split("\n")
    if keepends:
        lines = [line + "\n" for line in lines[:-1]] + [lines[-1]]
    if lines[-1] == "":
        lines.pop()
    return lines


def is_blank(line: str) -> bool:
    """Whether a line holds nothing the tokenizer reads (a line break at most)."""
    return not line.strip(PYTHON_WHITESPACE + "\n")
