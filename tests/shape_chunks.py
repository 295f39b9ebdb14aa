"""Chunks of Python for the formatting-by-shape property test, each written twice.

A chunk is drawn as a list of pieces: fixed text (keywords, operators, names black tests by
value, strings and numbers of every form, comments of every kind) and *holes*, each an
ordinary name, plain string, decimal integer or plain comment of a drawn width. Filling the
holes twice with different tokens of the same widths gives two chunks of one shape: the
second is formatted from the shape black formatted for the first.
"""

from __future__ import annotations

import string
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st
from kailash.style import LINE_LENGTH

Draw = Callable[[st.SearchStrategy[Any]], Any]


@dataclass(frozen=True)
class Hole:
    kind: str  # "name", "string", "number" or "comment"
    width: int


Piece = str | Hole

# Names black tests by value (soft keywords among them), or one-letter string prefixes.
SPECIAL_NAMES = ["match", "case", "type", "_", "print", "exec", "self", "lazy", "annotations", "x", "r", "b", "v"]
WIDE_NAMES = ["名前", "données", "ǂclick", "λx", "Ωmega"]
STRINGS = [
    "''",
    '""',
    "'it''s'",
    '"say \\"hi\\""',
    "'\\n'",
    '"tab\\t"',
    "r'\\d+'",
    'R"raw"',
    "b'bytes'",
    'B"BY"',
    "u'old'",
    'U"OLD"',
    "rb'\\x00'",
    'Br"x"',
    "f'plain'",
    'F"{1 + 2}"',
    "f'{x!r:>10}'",
    "rf'{x}'",
    '"""triple"""',
    "'''tri\nple'''",
    '"""with "quote" inside"""',
    "'wide 全角 text'",
    '"é accent"',
    "'ǂ'",
    '" padded "',
    "'#not a comment'",
    '"a\\\nb"',
    "'mixed \"q\"'",
    '"\'"',
    'f"{x["k"]!r}"',  # Python 3.12: quotes nest in a replacement field
    "f'{x:{w}}'",
    'f"{x}" "plain"',
]
NUMBERS = ["0", "7", "00", "1_000", "0x1F", "0XFF", "0o17", "0O7", "0b101", "0B1", "1.5", "1E5",
           "1e-3", ".5", "5.", "1j", "2.5J", "1_0.0_1e1_0", "10**3"]  # fmt: skip
COMMENTS = [
    "# fmt: skip",
    "# fmt:skip",
    "# type: int",
    "# type: ignore",
    "# noqa",
    "# noqa: E501",
    "# pylint: disable=all",
    "#!not a shebang",
    "#:colon",
    "#no space",
    "#  two spaces",
    "# trailing space ",
    "# wide 全角",
    "#",
    "# yapf: disable",
    "# isort: skip",
    "# ;semi",
    "# TYPE caps",
    "# \u00a0nbsp",
]


def hole_text(draw: Draw, hole: Hole) -> str:
    """An ordinary token of the hole's kind and width."""
    if hole.kind == "name":
        first = draw(st.sampled_from(string.ascii_letters + "_"))
        rest = draw(
            st.text(string.ascii_letters + string.digits + "_", min_size=hole.width - 1, max_size=hole.width - 1)
        )
        return first + rest
    if hole.kind == "number":
        if hole.width == 1:
            return draw(st.sampled_from(string.digits))
        return draw(st.sampled_from("123456789")) + draw(
            st.text(string.digits, min_size=hole.width - 1, max_size=hole.width - 1)
        )
    if hole.kind == "string":
        quote = draw(st.sampled_from("'\""))
        body = draw(
            st.text(
                string.ascii_letters + string.digits + " -=.,()[]{}#:!",
                min_size=hole.width - 2,
                max_size=hole.width - 2,
            )
        )
        return quote + body + quote
    body = draw(
        st.text(string.ascii_letters + string.digits + " ().,=-\"'", min_size=hole.width - 2, max_size=hole.width - 2)
    )
    return "# " + body


def fill(draw: Draw, pieces: list[Piece]) -> str:
    return "".join(piece if isinstance(piece, str) else hole_text(draw, piece) for piece in pieces)


def chunk_pieces(draw: Draw) -> list[Piece]:
    """A chunk: some top-level statements, decorated functions and classes among them."""
    out: list[Piece] = []
    for _ in range(draw(st.integers(1, 4))):
        out += _top_level(draw)
    return out


def _name(draw: Draw) -> Piece:
    return draw(
        st.one_of(
            st.builds(Hole, st.just("name"), st.integers(1, 14)),
            st.sampled_from(SPECIAL_NAMES),
            st.sampled_from(WIDE_NAMES),
        )
    )


def _atom(draw: Draw, depth: int) -> list[Piece]:
    choice = draw(st.integers(0, 9 if depth < 2 else 4))
    if choice == 0:
        return [draw(st.sampled_from(STRINGS))]
    if choice == 1:
        return [draw(st.sampled_from(NUMBERS))]
    if choice == 2:
        return [Hole("string", draw(st.integers(2, 40)))]
    if choice == 3:
        return [Hole("number", draw(st.integers(1, 6)))]
    if choice == 4:
        return [_name(draw)]
    if choice == 5:  # a call, maybe long
        args: list[Piece] = []
        positional = draw(st.integers(0, 4))
        for index in range(positional + draw(st.integers(0, 3))):
            if index:
                args.append(", ")
            if index >= positional:
                args += [Hole("name", draw(st.integers(1, 12))), "="]
            args += _expression(draw, depth + 1)
        trailing = [","] if args and draw(st.booleans()) else []
        return [_name(draw), "(", *args, *trailing, ")"]
    if choice == 6:  # a collection, maybe with a magic trailing comma, maybe over lines
        opening, closing = draw(st.sampled_from([("[", "]"), ("(", ")"), ("{", "}")]))
        separator = draw(st.sampled_from([", ", ",\n    "]))
        items: list[Piece] = []
        for index in range(draw(st.integers(0, 5))):
            if index:
                items.append(separator)
            if opening == "{" and draw(st.booleans()):
                items += [Hole("string", draw(st.integers(2, 12))), ": "]
            items += _expression(draw, depth + 1)
        trailing = [","] if items and draw(st.booleans()) else []
        return [opening, *items, *trailing, closing]
    if choice == 7:  # attribute access, subscript, slice
        return [
            _name(draw),
            ".",
            _name(draw),
            "[",
            *_expression(draw, depth + 1),
            draw(st.sampled_from(["", ":", ":1", " : -1"])),
            "]",
        ]
    if choice == 8:
        return ["(", *_expression(draw, depth + 1), ")"]
    return ["[", *_expression(draw, depth + 1), " for ", _name(draw), " in ", _name(draw), " if ", _name(draw), "]"]


def _expression(draw: Draw, depth: int = 0) -> list[Piece]:
    out = _atom(draw, depth)
    for _ in range(draw(st.integers(0, 2))):
        operator = draw(
            st.sampled_from(
                [" + ", " * ", "**", " % ", " and ", " or ", " if x else ", " is not ", " not in ", " == ", " - "]
            )
        )
        out += [operator, *_atom(draw, depth + 1)]
    if draw(st.integers(0, 9)) == 0:
        out = ["-", *out]
    if draw(st.integers(0, 19)) == 0:
        out = ["lambda ", _name(draw), ": ", *out]
    return out


def _comment(draw: Draw) -> Piece:
    return draw(st.one_of(st.sampled_from(COMMENTS), st.builds(Hole, st.just("comment"), st.integers(3, 60))))


def _statement(draw: Draw, indent: str) -> list[Piece]:
    choice = draw(st.integers(0, 11))
    if choice <= 3:
        body = [_name(draw), draw(st.sampled_from([" = ", ": int = ", " += "])), *_expression(draw)]
    elif choice == 4:
        body = [draw(st.sampled_from(["return ", "del ", "assert ", "print(", "raise "])), *_expression(draw)]
        if body[0] == "print(":
            body.append(")")
    elif choice == 5:
        body = _long_line(draw, len(indent))
    elif choice == 6:
        body = [Hole("string", draw(st.integers(2, 30)))]  # a string statement: maybe a docstring
    elif choice == 7:
        body = [draw(st.sampled_from(STRINGS[20:23]))]
    elif choice == 8:
        body = ["x = 1 .real + ", Hole("number", 2), " .bit_length() + 0x1 .real"]
    elif choice == 9:
        body = ["pass"]
    elif choice == 10:
        body = [*_expression(draw), "  ", _comment(draw)]
    else:
        body = ["del (", _name(draw), ", ", _name(draw), ")"]
    lines: list[Piece] = []
    if draw(st.integers(0, 4)) == 0:
        lines += [indent, _comment(draw), "\n"]
    trailing = ["  ", _comment(draw)] if draw(st.integers(0, 5)) == 0 else []
    return [*lines, indent, *body, *trailing, "\n"]


def _long_line(draw: Draw, indent: int) -> list[Piece]:
    """An assignment of a call whose one-line width is near the line length."""
    target = LINE_LENGTH - indent + draw(st.integers(-3, 3))
    fixed = len("x = f(, )")
    left = target - fixed
    first = max(1, min(40, left // 3))
    second = max(2, left - 2 * first)
    return [Hole("name", 1), " = ", Hole("name", first), "(", Hole("name", first), ", ", Hole("string", second), ")"]


def _block(draw: Draw, indent: str) -> list[Piece]:
    out: list[Piece] = []
    if draw(st.booleans()):
        out += [indent, Hole("string", draw(st.integers(2, 30))), "\n"]
    for _ in range(draw(st.integers(1, 4))):
        out += _statement(draw, indent)
    return out


def _top_level(draw: Draw) -> list[Piece]:
    choice = draw(st.integers(0, 6))
    if choice <= 1:
        return _statement(draw, "")
    if choice == 2:  # a decorated function with parameters, maybe async
        decorators: list[Piece] = []
        for _ in range(draw(st.integers(0, 2))):
            decorators += ["@", _name(draw), ".", _name(draw), "(", *_expression(draw), ")\n"]
        params: list[Piece] = []
        for index in range(draw(st.integers(0, 4))):
            params += [", " if index else "", Hole("name", draw(st.integers(1, 12))), ": ", _name(draw)]
            if draw(st.booleans()):
                params += [" = ", *_atom(draw, 2)]
        kind = draw(st.sampled_from(["def ", "async def "]))
        return [*decorators, kind, _name(draw), "(", *params, ") -> ", _name(draw), ":\n", *_block(draw, "    ")]
    if choice == 3:
        return ["class ", _name(draw), "(", _name(draw), "):\n", *_block(draw, "    ")]
    if choice == 4:
        return ["if ", *_expression(draw), ":\n", *_block(draw, "    "), "else:\n", *_block(draw, "    ")]
    if choice == 5:
        return [
            "match ",
            _name(draw),
            ":\n    case [",
            _name(draw),
            ", _]:\n",
            *_block(draw, "        "),
            "    case _:\n        pass\n",
        ]
    return ["# fmt: off\n", _name(draw), " = [ 1,2 ,\n  ", Hole("number", 3), " ]\n# fmt: on\n"]
