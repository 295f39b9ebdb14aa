"""Hostile strings and values for the property test, and Python source that spells a value exactly.

The alphabet holds what has broken compilers of code strings before: every Unicode line
break (Python's tokenizer breaks only on ``\\n``, ``\\r\\n`` and ``\\r``; ``str.splitlines``
on eleven), letters that NFKC-normalise to other letters (Python normalises identifiers),
lone surrogates (not encodable as UTF-8), bidi controls, quotes, braces, backslashes, NUL,
digit-leading words, and very long strings.
"""

from __future__ import annotations

import keyword
import math
import unicodedata
from collections.abc import Callable
from typing import Any

from hypothesis import strategies as st

Draw = Callable[[st.SearchStrategy[Any]], Any]

PYTHON_LINE_BREAKS = ("\n", "\r\n", "\r")
OTHER_LINE_BREAKS = ("\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029")
LINE_BREAKS = PYTHON_LINE_BREAKS + OTHER_LINE_BREAKS

# Each normalises (NFKC) to something else: H, fi, x, K, s, a, x, if, None.
NFKC_LOOKALIKES = (
    "\u210c",
    "\ufb01",
    "\uff58",
    "\u212a",
    "\u017f",
    "\u00aa",
    "\U0001d431",
    "\uff49\uff46",
    "\uff2e\uff4f\uff4e\uff45",
)
LONE_SURROGATES = ("\ud800", "\udbff", "\udc00", "\udfff")
BIDI_AND_INVISIBLE = ("\u202e", "\u202d", "\u200f", "\u2066", "\u2069", "\u200b", "\ufeff", "\u0301")
PUNCTUATION = (
    "'",
    '"',
    "'''",
    '"""',
    "{",
    "}",
    "{{",
    "}}",
    "{0}",
    "{x}",
    "\\",
    "\\n",
    "\\u2028",
    "\x00",
    "\x1b",
    "\x1b[31m",
    "\t",
    "#",
    "%s",
    "$",
    ".",
    "/",
    "../",
    " ",
    "\x7f",
    "__",
    "\u00e9",
    "\u0130",
    "\U0001f600",
    "\U0010ffff",
)
WORDS = ("a", "x", "1", "0", "9x", "result", "rt", "run", "items", "None", "if", "class", "node", "_")

TEXT_PIECES = WORDS + PUNCTUATION + LINE_BREAKS + NFKC_LOOKALIKES + LONE_SURROGATES + BIDI_AND_INVISIBLE

# Pieces of names that must be identifiers (inputs, resources, fields): NFKC look-alikes,
# soft keywords, and names the generated module itself uses.
IDENTIFIER_PIECES = (
    "a",
    "b",
    "x",
    "y",
    "_",
    "1",
    "\u00e9",
    *NFKC_LOOKALIKES,
    "match",
    "case",
    "type",
    "rt",
    "run",
    "Any",
    "RESOURCES",
    "inputs",
    "resources",
    "r",
    "json",
    "print",
    "result",
    "node",
)


def nfkc(text: str) -> str:
    return unicodedata.normalize("NFKC", text)


def is_name(text: object) -> bool:
    """Can ``text`` name a variable: an identifier that is not a keyword, also after NFKC."""
    return isinstance(text, str) and text.isidentifier() and not keyword.iskeyword(nfkc(text))


def encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _joined(pieces: tuple[str, ...], min_size: int, max_size: int) -> st.SearchStrategy[str]:
    return st.lists(st.sampled_from(pieces), min_size=min_size, max_size=max_size).map("".join)


def mostly(common: st.SearchStrategy[Any], rare: st.SearchStrategy[Any], one_in: int) -> st.SearchStrategy[Any]:
    """``common``, and about once in ``one_in`` draws ``rare`` (a value the builder should refuse, say)."""
    return st.integers(0, one_in - 1).flatmap(lambda k: rare if k == one_in // 2 else common)


def hostile_text(min_size: int = 0, max_size: int = 6, *, surrogates: bool = True) -> st.SearchStrategy[str]:
    """Short hostile strings, and now and then one thousands of characters long."""
    pieces = TEXT_PIECES if surrogates else tuple(p for p in TEXT_PIECES if encodable(p))
    short = _joined(pieces, min_size, max_size)
    long = st.tuples(_joined(pieces, 1, 4), st.integers(300, 5000)).map(lambda pair: (pair[0] * pair[1])[: pair[1]])
    return mostly(short, long, 25)


def identifier_like() -> st.SearchStrategy[str]:
    """Names (NFKC look-alikes, soft keywords, the module's own names); now and then not a name."""
    invalid = st.one_of(st.sampled_from(("class", "\uff49\uff46", "1x", "a-b", "", "a b")), hostile_text(1, 3))
    return mostly(_joined(IDENTIFIER_PIECES, 1, 3), invalid, 15)


def strings_without_surrogates(max_size: int = 6) -> st.SearchStrategy[str]:
    return hostile_text(0, max_size, surrogates=False)


# -- values --------------------------------------------------------------------------------
HUGE_INT_DIGITS = 4300  # CPython refuses to convert longer ints to decimal text


def integers() -> st.SearchStrategy[int]:
    return st.one_of(
        st.integers(-(2**70), 2**70),
        st.sampled_from((0, -1, 2**63, -(2**63) - 1, 10**40)),
        st.integers(-3, 3).map(lambda sign: sign * 7**5200),  # over 4,300 decimal digits
    )


def floats() -> st.SearchStrategy[float]:
    return st.floats(allow_nan=False, allow_infinity=False)


def scalar_values(*, surrogates: bool = True) -> st.SearchStrategy[Any]:
    text = hostile_text(surrogates=surrogates)
    return st.one_of(st.none(), st.booleans(), integers(), floats(), text, text, st.binary(max_size=6))


def literal_values(*, surrogates: bool = True) -> st.SearchStrategy[Any]:
    """Values code can spell as literals: scalars, bytes, and lists, tuples, dicts and sets of them."""
    keys = st.one_of(hostile_text(surrogates=surrogates), st.integers(-5, 5))
    hashable = st.one_of(integers(), hostile_text(surrogates=surrogates), st.booleans())
    return st.recursive(
        scalar_values(surrogates=surrogates),
        lambda children: st.one_of(
            st.lists(children, max_size=3),
            st.lists(children, max_size=3).map(tuple),
            st.dictionaries(keys, children, max_size=3),
            st.frozensets(hashable, min_size=1, max_size=3).map(set),
        ),
        max_leaves=6,
    )


def setting_values(*, str_keys: bool) -> st.SearchStrategy[Any]:
    """Values a compiled module writes as literals (settings, parameters, fallback values)."""
    scalars = st.one_of(st.none(), st.booleans(), integers(), floats(), hostile_text(), hostile_text())
    keys = hostile_text() if str_keys else st.one_of(hostile_text(), st.integers(-5, 5))
    return st.recursive(
        scalars,
        lambda children: st.one_of(
            st.lists(children, max_size=3),
            st.lists(children, max_size=3).map(tuple),
            st.dictionaries(keys, children, max_size=3),
        ),
        max_leaves=5,
    )


def int_is_huge(value: int) -> bool:
    return abs(value).bit_length() > HUGE_INT_DIGITS * 3.3


def contains_huge_int(value: Any) -> bool:
    if isinstance(value, int) and not isinstance(value, bool):
        return int_is_huge(value)
    if isinstance(value, dict):
        return any(contains_huge_int(k) or contains_huge_int(v) for k, v in value.items())
    if isinstance(value, (list, tuple, set)):
        return any(contains_huge_int(v) for v in value)
    return False


def shown(value: Any) -> str:
    """``repr`` that also works for ints too long for decimal text (written in hex)."""
    if isinstance(value, int) and not isinstance(value, bool) and int_is_huge(value):
        return hex(value)
    if isinstance(value, list):
        return "[" + ", ".join(map(shown, value)) + "]"
    if isinstance(value, tuple):
        return "(" + "".join(shown(v) + ", " for v in value) + ")"
    if isinstance(value, set):
        return "{" + ", ".join(map(shown, value)) + "}" if value else "set()"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{shown(k)}: {shown(v)}" for k, v in value.items()) + "}"
    return repr(value)


def same(a: Any, b: Any, *, ordered: bool = True) -> bool:
    """Equal in type and value all the way down ("byte for byte"); dict order counts if ``ordered``."""
    if type(a) is not type(b):
        return False
    if isinstance(a, (float, complex)):
        return repr(a) == repr(b)
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(same(x, y, ordered=ordered) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        if ordered:
            return len(a) == len(b) and all(
                same(ka, kb) and same(va, vb, ordered=ordered)
                for (ka, va), (kb, vb) in zip(a.items(), b.items(), strict=True)
            )
        return a.keys() == b.keys() and all(same(a[k], b[k], ordered=ordered) for k in a)
    return bool(a == b)


# -- spelling values as Python source -----------------------------------------------------------
_RAW_NEVER = frozenset("\\\r\n\x00")  # a raw \r or \r\n in source is read as \n; NUL is not allowed


def _char_escape(char: str) -> str:
    code = ord(char)
    if code < 0x100:
        return f"\\x{code:02x}"
    if code < 0x10000:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def spell_string(draw: Draw, text: str, *, concat: bool = True) -> str:
    """A string literal of ``text``: any quote style and prefix, characters raw where Python allows."""
    styles = ("repr", "'", '"', "'''", '"""', "f'", 'f"', "r'", "concat")
    style = draw(st.sampled_from(styles if concat else styles[:-1]))
    if style == "repr":
        return repr(text)
    if style == "concat" and len(text) >= 2:
        cut = draw(st.integers(1, len(text) - 1))
        joiner = draw(st.sampled_from((" ", "\n")))  # inside parentheses a line break joins too
        head, tail = (spell_string(draw, part, concat=False) for part in (text[:cut], text[cut:]))
        return "(" + head + joiner + tail + ")"
    if style == "r'":
        if all(encodable(c) and c not in _RAW_NEVER and c != "'" for c in text):
            return "r'" + text + "'"
        style = "'"
    if style == "concat":
        style = '"'
    formatted = style.startswith("f")
    quote = style.removeprefix("f")
    triple = len(quote) == 3
    body = []
    for char in text:
        if char == "\\":
            body.append("\\\\")
        elif char == quote[0]:
            body.append("\\" + char)
        elif formatted and char in "{}":
            body.append(char * 2)
        elif char == "\n" and triple and draw(st.booleans()):
            body.append("\n")  # a real line break inside a triple-quoted string
        elif char in _RAW_NEVER or not encodable(char):
            body.append(_char_escape(char) if char not in "\n\r" else ("\\n" if char == "\n" else "\\r"))
        elif not char.isprintable() and draw(st.booleans()):
            body.append(_char_escape(char))
        else:
            body.append(char)  # raw: \x0b, \u2028, \u202e and friends are legal inside a literal
    return ("f" if formatted else "") + quote + "".join(body) + quote


def spell_bytes(draw: Draw, data: bytes) -> str:
    if draw(st.booleans()):
        return repr(data)
    quote = draw(st.sampled_from(("'", '"', "'''")))
    body = []
    for byte in data:
        char = chr(byte)
        if 0x20 <= byte < 0x7F and char not in ("\\", quote[0]):
            body.append(char)
        else:
            body.append(f"\\x{byte:02x}")
    return "b" + quote + "".join(body) + quote


def spell_int(draw: Draw, value: int) -> str:
    if int_is_huge(value):
        return hex(value)  # no digit limit for power-of-two bases
    style = draw(st.sampled_from(("repr", "hex", "underscores", "octal", "binary")))
    sign = "-" if value < 0 else ""
    magnitude = abs(value)
    if style == "hex":
        return f"{sign}0x{magnitude:X}"
    if style == "underscores":
        return f"{sign}{magnitude:_}"
    if style == "octal" and magnitude < 2**64:
        return f"{sign}0o{magnitude:o}"
    if style == "binary" and magnitude < 2**32:
        return f"{sign}0b{magnitude:b}"
    return repr(value)


def spell_float(draw: Draw, value: float) -> str:
    text = repr(value)
    if math.isinf(value) or math.isnan(value):
        raise ValueError("only finite floats have literals")
    return f"({text})" if text.startswith("-") else text


def spell(draw: Draw, value: Any, *, depth: int = 0) -> str:
    """Python source evaluating to exactly ``value``, spelled in one of many ways."""
    if value is None or isinstance(value, bool):
        return repr(value)
    if isinstance(value, int):
        return spell_int(draw, value)
    if isinstance(value, float):
        return spell_float(draw, value)
    if isinstance(value, complex):
        return repr(value)
    if isinstance(value, str):
        return spell_string(draw, value)
    if isinstance(value, bytes):
        return spell_bytes(draw, value)
    items: list[str]
    if isinstance(value, dict):
        items = [f"{spell(draw, k, depth=depth + 1)}: {spell(draw, v, depth=depth + 1)}" for k, v in value.items()]
        opening, closing = "{", "}"
    elif isinstance(value, set):
        if not value:
            return "set()"
        items = [spell(draw, v, depth=depth + 1) for v in sorted(value, key=shown)]
        opening, closing = "{", "}"
    elif isinstance(value, (list, tuple)):
        items = [spell(draw, v, depth=depth + 1) for v in value]
        opening, closing = ("[", "]") if isinstance(value, list) else ("(", ")")
    else:
        raise TypeError(f"no literal for {type(value).__name__}")
    if items and draw(st.integers(0, 3)) == 1:
        # one item per line, with comments between them: Python ignores layout inside brackets
        comment = draw(st.sampled_from(("", "  # item", "  # \u2028 still a comment", "  # \x0c")))
        return opening + "\n" + "".join(f"    {item},{comment}\n" for item in items) + closing
    if isinstance(value, tuple) and len(items) == 1:
        return f"({items[0]},)"
    return opening + ", ".join(items) + closing
