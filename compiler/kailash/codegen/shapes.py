"""Formatting by shape: black once per shape of chunk, not once per chunk.

What black makes of a chunk depends on its tokens' kinds and widths, not on the value of an
ordinary name, plain string, decimal integer or plain comment: black tests by value only
keywords, a few names (``print``, ``__future__``, ``type``... ``BLACK_NAMES``), string
prefixes, quotes, escapes and docstrings, number forms and comment directives. So each
ordinary token is replaced by a placeholder of the same kind and width (its *shape*), black
formats the shape once, and every chunk of that shape is the formatted shape with its own
tokens put back (``Shape.splice``). Black never adds, drops or reorders names, strings,
numbers or comments: the formatted shape is scanned for its placeholders, which must come
back in order, each as it went in (a string's quotes aside, which black may change); if not,
the chunk is formatted by black itself. A chunk this scanner cannot read for sure (an
f-string or t-string holding ``{``, whose nested quotes only Python's tokenizer knows) is
also formatted by black itself.
"""

from __future__ import annotations

import keyword
import re
from collections.abc import Callable
from dataclasses import dataclass

from .._lru import LRU

# Names black's own source (black/*.py, blib2to3) spells as string literals: what it may test
# a name's value against (keywords, soft keywords, ``print``, ``__future__``, ``annotations``...).
# tests/test_shapes.py checks that the installed black spells no other.
BLACK_NAMES = frozenset(
    """
    B BLACK_CACHE_DIR BLACK_NUM_WORKERS Base BasePattern COMMENT DEDENT DFAState Driver E
    EMPTY ENDMARKER ESCAPED_NL F GITHUB_OUTPUT Grammar IPython Leaf Line LinesBlock Matcher
    N NEWLINE NFAState NL NO_COLOR Node OP PY Parser R Report Requirements ReturnType S SRC
    STANDALONE_COMMENT String StringTransformer T TOKEN TokenProxy Transformations U
    UNIMPORTANT_WS WMA4 WriteBack XDG_CONFIG_HOME _ _NodeReplacements _P
    __BLACK_STDIN_FILENAME__ __dict__ __future__ __main__ a and annotations any as assert
    async atom await b bBfFtT backslashes bar bare_name belong black blk_ blue body bold
    break buffer cache_dir capture case cell_type cells change_count class code config
    container continue custom_splits def del dfas dst e elif else env except exclude exec
    extend_exclude f failure_count fake false fg file finally fmt_pass_converted_first_leaf
    foo for force_exclude from frozen fturbFTURB generate_tokens get_ipython getoutput
    getrefcount global green has_prefix help_option_names if ignore import in include inline
    inner is is_formatted j key keywords labels lambda language_info lazy line_ranges lineno
    load_grammar ls magic match matplotlib metadata n n2s naked name namedexpr_test new_line
    no node nonlocal not number2symbol old or outer param parent pass pgen pinfo pinfo2
    pointless prefix print project prun pypy python python3 python_symbols r raise rb red
    reformatted return rf root run_cell_magic run_line_magic s s2n same_count simple
    soft_keywords source src start states stdin_filename symbol2label symbol2number system t
    target_version targets test time timeit tokenize tokenize_rt tokens tool trailer true
    try type type_comment u untokenize utf8 v value var w while win32 with wrapped x yellow
    yes yield
    """.split()  # noqa: SIM905 - a list of words, as black spells them
)
_SPECIAL_NAMES = BLACK_NAMES | frozenset(keyword.kwlist) | frozenset(keyword.softkwlist)

# Comments, strings (any prefix, any quotes), names and numbers, each a whole token, left to
# right: Python's tokenizer on text that parses (Python 3.11's strings), much faster.
_ESCAPE = r"\\(?:\r\n|.)"
_TOKEN = re.compile(
    "|".join(
        [
            r"(?P<comment>#[^\r\n]*)",
            r"(?P<string>(?:[rRuUbBfFtT]|[rR][bBfFtT]|[bBfFtT][rR])?(?:"
            + "|".join(
                [
                    rf"'''[^'\\]*(?:(?:{_ESCAPE}|'(?!''))[^'\\]*)*'''",
                    rf'"""[^"\\]*(?:(?:{_ESCAPE}|"(?!""))[^"\\]*)*"""',
                    rf"'[^\n'\\]*(?:{_ESCAPE}[^\n'\\]*)*'",
                    rf'"[^\n"\\]*(?:{_ESCAPE}[^\n"\\]*)*"',
                ]
            )
            + "))",
            r"(?P<name>[^\W\d]\w*)",
            r"(?P<number>0[xXoObB][\w]*|(?:\d[\d_]*(?:\.[\d_]*)?|\.\d[\d_]*)(?:[eE][+-]?\d[\d_]*)?[jJ]?)",
        ]
    ),
    re.DOTALL,
)
# The prefix of an f-string or t-string.
_TEMPLATE_PREFIX = re.compile(r"[fFtT][rR]?['\"]|[rR][fFtT]")
# A plain string's body, an ordinary comment's text after "# ".
_PLAIN_BODY = re.compile(r"[ !#-&(-\[\]-~]*")
_PLAIN_COMMENT = re.compile(r"# [!-~](?:[ -~]*[!-~])?")
_DIRECTIVES = re.compile(r"fmt|yapf|noqa|type|pylint|isort|[:;]", re.IGNORECASE)


@dataclass(frozen=True)
class Shaped:
    """A chunk as its shape: the shape's text, which of its tokens (by their index among all
    the tokens ``_TOKEN`` finds in it) are placeholders, and the chunk's own tokens there (of a
    string, its body)."""

    skeleton: str
    placeholders: tuple[int, ...]
    tokens: tuple[str, ...]


def shape_of(chunk: str) -> Shaped | None:
    """The chunk's shape, or None when black must format it itself (nothing to replace, or a
    token the scanner cannot be sure of)."""
    parts: list[str] = []
    placeholders: list[int] = []
    tokens: list[str] = []
    done = 0
    for index, match in enumerate(_TOKEN.finditer(chunk)):
        kind = match.lastgroup
        text = match.group()
        slot = len(tokens)
        if kind == "name":
            if text in _SPECIAL_NAMES or not text.isascii():
                continue
            own, placeholder = text, "q" + _digits(slot, len(text) - 1)
        elif kind == "number":
            if not (text.isascii() and text.isdigit()):
                continue
            own, placeholder = text, "1" + _digits(slot, len(text) - 1)
        elif kind == "string":
            if "{" in text and _TEMPLATE_PREFIX.match(text):
                return None  # its fields may nest quotes (Python 3.12): only the tokenizer knows where it ends
            if not _plain_string(text) or _maybe_docstring(chunk, match.start(), match.end()):
                continue
            own, placeholder = text[1:-1], text[0] + _digits(slot, len(text) - 2) + text[0]
        else:
            if not _PLAIN_COMMENT.fullmatch(text) or _DIRECTIVES.search(text):
                continue
            own, placeholder = text, "# q" + _digits(slot, len(text) - 3)
        parts.append(chunk[done : match.start()])
        parts.append(placeholder)
        placeholders.append(index)
        tokens.append(own)
        done = match.end()
    if not tokens:
        return None
    parts.append(chunk[done:])
    return Shaped("".join(parts), tuple(placeholders), tuple(tokens))


def _plain_string(text: str) -> bool:
    """A one-line string without prefix, escape or quote inside, ASCII, not blank at its ends."""
    quote = text[0]
    if quote not in "'\"" or len(text) < 2 or text[-1] != quote or text[1:2] == " " or text[-2:-1] == " ":
        return False
    return _PLAIN_BODY.fullmatch(text, 1, len(text) - 1) is not None


def _maybe_docstring(chunk: str, start: int, end: int) -> bool:
    """Whether a string may be a statement of its own (a docstring, to black): it begins its
    line or follows a ``:`` or ``;`` there, and nothing but a comment or ``;`` follows it."""
    line_start = chunk.rfind("\n", 0, start) + 1
    before = chunk[line_start:start].rstrip(" \t\f")
    if before and before[-1] not in ":;":
        return False
    line_end = chunk.find("\n", end)
    after = chunk[end : len(chunk) if line_end < 0 else line_end].strip(" \t\f\r\\")
    return not after or after[0] in "#;"


def _digits(index: int, width: int) -> str:
    """``index`` in ``width`` digits (its last ones): placeholders tell their order."""
    return str(index).zfill(width)[-width:] if width > 0 else ""


@dataclass(frozen=True)
class Shape:
    """A formatted shape: the texts between its placeholders, and for each placeholder which
    chunk token goes there (with the quotes black chose, for a string)."""

    texts: tuple[str, ...]
    slots: tuple[tuple[int, str], ...]

    def splice(self, tokens: tuple[str, ...]) -> str:
        out = [self.texts[0]]
        for (slot, quote), text in zip(self.slots, self.texts[1:], strict=True):
            out.append(quote + tokens[slot] + quote if quote else tokens[slot])
            out.append(text)
        return "".join(out)


_Token = tuple[str, str, int, int]  # kind, text, start, end


def formatted_shape(shaped: Shaped, formatted: str) -> Shape | None:
    """Black's formatting of ``shaped.skeleton`` as a Shape, or None when its tokens did not
    come back as they went in: the same kinds in the same order (comments and code each in
    their own order), each placeholder unchanged but for a string's quotes."""
    expected, found = _streams(_scan(shaped.skeleton)), _streams(_scan(formatted))
    for before, after in zip(expected, found, strict=True):
        if len(before) != len(after) or any(one[0] != other[0] for one, other in zip(before, after, strict=True)):
            return None
    where = [(stream, at) for stream, tokens in enumerate(expected) for at in range(len(tokens))]
    where.sort(key=lambda place: expected[place[0]][place[1]][2])  # each token's place, in skeleton order
    places: list[tuple[int, int, int, str]] = []  # start, end, slot, quote
    for slot, index in enumerate(shaped.placeholders):
        stream, at = where[index]
        kind, text, _, _ = expected[stream][at]
        _, new, start, end = found[stream][at]
        quote = new[0] if kind == "string" else ""
        if (new[1:-1] != text[1:-1] or new[-1] != quote or quote not in "'\"") if quote else new != text:
            return None
        places.append((start, end, slot, quote))
    places.sort()
    texts: list[str] = []
    done = 0
    for start, end, _, _ in places:
        texts.append(formatted[done:start])
        done = end
    texts.append(formatted[done:])
    return Shape(tuple(texts), tuple((slot, quote) for _, _, slot, quote in places))


def _streams(tokens: list[_Token]) -> tuple[list[_Token], list[_Token]]:
    """The code tokens, then the comments: black keeps the order of each, not always of both."""
    return [token for token in tokens if token[0] != "comment"], [token for token in tokens if token[0] == "comment"]


def _scan(text: str) -> list[_Token]:
    return [(match.lastgroup or "", match.group(), match.start(), match.end()) for match in _TOKEN.finditer(text)]


# Formatted shapes by skeleton, in memory (_UNUSABLE: black could not format the skeleton, or
# its tokens did not come back as they went in).
_UNUSABLE = Shape((), ())
_formatted_shapes: LRU[tuple[str, tuple[int, ...]], Shape] = LRU(8192)


def format_by_shape(texts: list[str], black: Callable[[list[str]], list[str | None]]) -> list[str | None]:
    """Each text as black formats it, through its shape; None for a text black must format
    itself. ``black`` formats skeletons (None for one it cannot format); each skeleton not
    formatted before in this process is formatted once."""
    shaped = [shape_of(text) for text in texts]
    new: dict[tuple[str, tuple[int, ...]], Shaped] = {}
    for one in shaped:
        if one is not None and (key := (one.skeleton, one.placeholders)) not in new and key not in _formatted_shapes:
            new[key] = one
    for (key, one), formatted in zip(new.items(), black([one.skeleton for one in new.values()]), strict=True):
        shape = formatted_shape(one, formatted) if formatted is not None else None
        _formatted_shapes[key] = shape or _UNUSABLE
    out: list[str | None] = []
    for one in shaped:
        shape = _formatted_shapes.get((one.skeleton, one.placeholders)) if one is not None else None
        out.append(
            shape.splice(one.tokens) if one is not None and shape is not None and shape is not _UNUSABLE else None
        )
    return out
