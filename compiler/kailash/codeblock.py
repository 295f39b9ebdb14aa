"""Code blocks: dedent, syntax-check, indent, and find the names a block reads.

A code block is the body of an ``async def``: top-level ``await``, ``async with`` and
``return`` are allowed. The block means what CPython means by it: its lines end where
Python's tokenizer ends them (see source_text.py), and lines inside multi-line strings
are never re-indented, so the string values stay exactly as written.
"""

from __future__ import annotations

import _symtable  # type: ignore[import-not-found]  # what the symtable module wraps; typeshed has no stub
import ast
import io
import re
import sys
import tokenize
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from typing import Protocol

from ._lru import LRU
from .codegen_checks import needs_code_generator
from .python_names import KEYWORDS, normal_form
from .source_text import DEFAULT_INT_DIGITS, PYTHON_WHITESPACE, is_blank, normalize_newlines, split_lines
from .statement_keys import keyed_statements

_WRAPPER = "async def __kailash_node__():\n"

# Since Python 3.12 (PEP 701) an f-string is a run of tokens from FSTRING_START to
# FSTRING_END rather than one STRING token (3.14 adds t-strings); Python 3.11 has neither.
_LITERAL_STARTS = frozenset(
    getattr(tokenize, name) for name in ("FSTRING_START", "TSTRING_START") if hasattr(tokenize, name)
)
_LITERAL_ENDS = frozenset(getattr(tokenize, name) for name in ("FSTRING_END", "TSTRING_END") if hasattr(tokenize, name))
_LAYOUT_TOKENS = frozenset({tokenize.COMMENT, tokenize.INDENT, tokenize.DEDENT, tokenize.ENDMARKER})

# Characters no source file can hold: a lone surrogate has no UTF-8 form, and CPython refuses NUL.
_UNWRITABLE = re.compile(r"[\x00\ud800-\udfff]")

_SURROGATE = re.compile(r"[\ud800-\udfff]")
# A string escape that may make a lone surrogate: \ud800 to \udfff, \U0000d800 to \U0000dfff.
_SURROGATE_ESCAPE = re.compile(r"\\(?:u|U0000)[dD][89a-fA-F]")
_DOCUMENTED = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)

# Distinct code blocks whose derived facts stay in memory (small: names and line numbers, no
# trees): every block of a 10,000-node workflow, several times over, so none is worked out twice.
BLOCKS_KEPT = 32768

_TOO_MANY_DIGITS = 10**DEFAULT_INT_DIGITS
_LONG_DIGIT_RUN = re.compile(rf"[0-9][0-9_]{{{DEFAULT_INT_DIGITS},}}")


@dataclass(frozen=True)
class CodeSyntaxError(Exception):
    message: str
    line: int  # 1-based, in the dedented block
    column: int | None
    text: str


@dataclass(frozen=True)
class _Layout:
    """Which lines of a block the tokenizer reads how."""

    strings: frozenset[int]  # 1-based lines that start inside a multi-line string literal
    statements: frozenset[int]  # lines that start a logical line: their indentation is significant


def dedent(code: str) -> str:
    """The block with Python's line breaks and no common indentation, blank ends dropped.

    First ``textwrap.dedent`` (as the guide promises): the indentation common to every line
    is removed, inside multi-line strings too (the block was indented as a whole), though a
    line of only spaces inside a string keeps what it has beyond that indentation. Then the
    lines that start a statement lose the indentation they still share: a string with lines
    indented less than the code around it, a comment or a continuation line indented less
    than the statements keep the code's own indentation from counting. Lines inside
    multi-line strings are never touched by this second step, and a form feed in a line's
    indentation resets it, as in CPython's tokenizer.
    """
    lines = split_lines(normalize_newlines(code))
    margin = _common_prefix([line[: len(line) - len(line.lstrip(" \t"))] for line in lines if line.strip(" \t")])
    lines = [line[len(margin) :] if line.startswith(margin) else "" for line in lines]
    while lines and is_blank(lines[0]):
        lines.pop(0)
    while lines and is_blank(lines[-1]):
        lines.pop()
    if not lines:
        return ""
    text = "\n".join(lines) + "\n"
    # Indented with spaces only and no backslash: no line is a continuation, and every line's
    # indentation is already the spaces it counts as.
    spaces_only = "\\" not in text and "\t" not in text and "\x0c" not in text
    if spaces_only and _keeps_every_line(lines):
        return text
    layout = _layout(text)
    if layout is None:  # the syntax check reports the problem
        return text
    if not spaces_only:
        lines = _without_leading_continuations(lines, layout)
    margin = _common_prefix([_indentation(lines[number - 1])[0] for number in sorted(layout.statements)])
    if spaces_only and not margin:  # what the loop below gives such lines
        dedented = [
            line if number in layout.strings or line.lstrip(" ") else "" for number, line in enumerate(lines, 1)
        ]
    else:
        dedented = []
        for number, line in enumerate(lines, 1):
            if number in layout.strings:
                dedented.append(line)
                continue
            whitespace, rest = _indentation(line)
            if not rest:
                dedented.append("")
            elif whitespace.startswith(margin):
                dedented.append(whitespace[len(margin) :] + rest)
            else:  # a comment or a continuation line, indented less than the statements
                dedented.append(rest)
    if not spaces_only and _indentation_problem(dedented, layout.statements) is None:
        # Spaces only, to the same columns: the wrapping's indentation cannot then meet a tab.
        for number in layout.statements:
            line = dedented[number - 1]
            dedented[number - 1] = " " * _columns(_indentation(line)[0])[0] + line.lstrip(PYTHON_WHITESPACE)
    return "\n".join(dedented) + "\n"


def _keeps_every_line(lines: list[str]) -> bool:
    """Whether the second step of ``dedent`` keeps every line of a block indented with spaces
    only, without reading its layout: no line is only spaces, and the first line that is not
    a comment (lines of comments open no string or bracket, so it starts a statement) is not
    indented, so the statements share no indentation."""
    if not all(line.strip(" ") or not line for line in lines):
        return False
    first_code = next((line for line in lines if line and not line.lstrip(" ").startswith("#")), "")
    return not first_code.startswith(" ")


_TAB_ERROR = "inconsistent use of tabs and spaces in indentation"


def _indentation_problem(lines: list[str], statements: frozenset[int]) -> tuple[int, str] | None:
    """The first line whose indentation CPython's tokenizer refuses, and why (TabError, IndentationError).

    The tokenizer counts each statement's indentation twice, a tab as up to 8 columns and as
    1, and refuses a block the two counts nest differently: prefixing such a block with the
    spaces of the wrapping function could make it nest one way, so it is refused as CPython
    refuses it.
    """
    stack = [(0, 0)]
    for number in sorted(statements):
        column, alternative = _columns(_indentation(lines[number - 1])[0])
        top, top_alternative = stack[-1]
        if column > top:
            if alternative <= top_alternative:
                return number, _TAB_ERROR
            stack.append((column, alternative))
            continue
        while len(stack) > 1 and column < stack[-1][0]:
            stack.pop()
        if column != stack[-1][0]:
            return number, "unindent does not match any outer indentation level"
        if alternative != stack[-1][1]:
            return number, _TAB_ERROR
    return None


def _without_leading_continuations(lines: list[str], layout: _Layout) -> list[str]:
    """Lines holding only a backslash before a statement (``\\`` then ``    x = 1``) made blank, the
    statement indented as CPython indents it: by the column of the first such backslash that is
    not at column 0, else by its own indentation. Nothing else reads that layout the same way
    (libcst does not), so the block is kept in the plain form."""
    result = list(lines)
    run: list[int] = []  # 0-based indexes of consecutive backslash-only lines
    for index, line in enumerate(lines):
        number = index + 1
        if number not in layout.strings and line.lstrip(PYTHON_WHITESPACE) == "\\":
            run.append(index)
            continue
        if run and number in layout.statements:
            whitespace, column = "", 0
            for backslash in run:
                piece = lines[backslash]
                whitespace += piece[: len(piece) - 1]
                column = column or _columns(whitespace)[0]
                result[backslash] = ""
            if column:
                result[index] = " " * column + line.lstrip(PYTHON_WHITESPACE)
        run = []
    return result


def _columns(whitespace: str) -> tuple[int, int]:
    """The indentation the tokenizer counts, with a tab to the next multiple of 8 and as 1 column;
    a form feed resets both."""
    column = alternative = 0
    for char in whitespace:
        if char == " ":
            column, alternative = column + 1, alternative + 1
        elif char == "\t":
            column, alternative = (column // 8 + 1) * 8, alternative + 1
        else:
            column = alternative = 0
    return column, alternative


def _indentation(line: str) -> tuple[str, str]:
    """A line's indentation as the tokenizer counts it (what follows its last form feed), and the rest."""
    rest = line.lstrip(PYTHON_WHITESPACE)
    whitespace = line[: len(line) - len(rest)]
    return whitespace[whitespace.rfind("\x0c") + 1 :], rest


def _common_prefix(texts: list[str]) -> str:
    if not texts:
        return ""
    first, last = min(texts), max(texts)
    size = 0
    while size < len(first) and first[size] == last[size]:
        size += 1
    return first[:size]


@lru_cache(maxsize=BLOCKS_KEPT)
def _layout(code: str) -> _Layout | None:
    """The block's layout, from Python's own tokenizer; None when the block does not tokenize.

    The block is tokenized inside brackets, where the tokenizer reads no indentation: so the
    layout does not depend on it (Python 3.11's pure-Python tokenizer also misreads a line
    holding only a backslash as an indentation). A line starts a statement when its first
    token follows a line break outside any bracket, string or continuation.
    """
    simple = _simple_layout(code) if _SCANNABLE else None
    return simple if simple is not None else _tokenized_layout(code)


def _tokenized_layout(code: str) -> _Layout | None:
    strings: set[int] = set()
    statements: set[int] = set()
    seen: set[int] = set()
    open_literals: list[int] = []  # start lines of the f-/t-strings being read (they nest)
    depth = 0  # brackets open in the block
    at_statement_start = True
    last_row = code.count("\n") + (not code.endswith("\n"))
    try:
        for token in tokenize.generate_tokens(io.StringIO("(\n" + code + "\n)").readline):
            row = token.start[0] - 1  # the line in the block
            if not 1 <= row <= last_row or token.type in _LAYOUT_TOKENS:
                continue
            if token.type in (tokenize.NL, tokenize.NEWLINE):
                at_statement_start = at_statement_start or (depth == 0 and not open_literals)
                continue
            if row not in seen:
                seen.add(row)
                if at_statement_start and depth == 0 and not open_literals:
                    statements.add(row)
            at_statement_start = False
            if token.type == tokenize.OP and not open_literals:
                depth += (token.string in "([{") - (token.string in ")]}")
            if token.type in _LITERAL_STARTS:
                open_literals.append(row)
                continue
            if token.type in _LITERAL_ENDS:
                start = open_literals.pop()
            elif token.type == tokenize.STRING and not open_literals:
                start = row
            else:
                continue
            if not open_literals and token.end[0] - 1 > start:
                strings.update(range(start + 1, token.end[0]))
    except (tokenize.TokenError, SyntaxError, ValueError):  # ValueError: a lone surrogate (Python 3.12+)
        return None
    return _Layout(frozenset(strings), frozenset(statements))


# Python 3.11's tokenize module is pure Python, and most of a block's build time. A block of
# one-line statements is laid out alike by a scan of its characters (below); on 3.12 and later
# the tokenizer is CPython's own, stricter (``1abc`` is an error there) and fast, so it reads
# every block.
_SCANNABLE = sys.version_info < (3, 12)
# What the scan reads outside strings and comments, besides the whitespace the tokenizer skips:
# ASCII letters, digits, operators and brackets. Any other character (a backslash, non-ASCII,
# a control character) sends the block to the tokenizer.
# The characters the scan stops at on a line: a quote, a comment, a bracket, or any character
# that is not whitespace, an ASCII letter or digit, or an operator.
_SCAN_STOP = re.compile(r"[^ \t\x0cA-Za-z0-9_+\-*/%=<>!&|^~@.,:;]")
_QUOTES, _OPENING, _CLOSING = frozenset("'\""), frozenset("([{"), frozenset(")]}")


def _simple_layout(code: str) -> _Layout | None:
    """The layout Python 3.11's tokenizer gives a block of one-line strings, balanced brackets
    and no backslash; None for any other block. Every line holding a token outside a comment
    starts a statement when the lines before it close their brackets, as in ``_layout``: the
    tokenizer reads no indentation inside the wrapping brackets, ends a one-line string at
    its quote and a comment at the line's end, and changes the bracket depth only at bracket
    characters outside both. (A backslash, which may escape a quote or continue a line, sends
    the block to the tokenizer, as does any character but ASCII letters, digits, operators,
    brackets, quotes and the whitespace the tokenizer skips.)"""
    statements: set[int] = set()
    depth = 0
    for row, line in enumerate(code.split("\n"), 1):
        rest = line.lstrip(" \t\x0c")
        if not rest or rest[0] == "#":
            continue
        if depth == 0:
            statements.add(row)
        index = len(line) - len(rest)
        while (found := _SCAN_STOP.search(line, index)) is not None:
            index = found.start()
            char = line[index]
            if char == "#":
                break
            if char in _QUOTES:
                if line.startswith(char * 3, index):
                    return None  # a triple-quoted string may span lines
                end = line.find(char, index + 1)
                if end < 0 or line.find("\\", index + 1, end) >= 0:
                    return None  # not closed on its line, or an escape before its end
                index = end + 1
            elif char in _OPENING:
                depth += 1
                index += 1
            elif char in _CLOSING:
                depth -= 1
                if depth < 0:
                    return None
                index += 1
            else:
                return None
    if depth:
        return None
    return _Layout(frozenset(), frozenset(statements))


def string_continuation_lines(code: str) -> frozenset[int]:
    """1-based numbers of lines that start inside a multi-line string literal."""
    layout = _layout(code)
    return layout.strings if layout is not None else frozenset()


def indent(code: str, prefix: str = "    ") -> str:
    """Indent every line except those inside multi-line strings (and blank ones).

    A line that starts with a backslash (a line continuation at column 0, inside brackets or
    after another continuation) stays where it is: CPython then takes the indentation from the
    line it continues onto, which is indented; at any other column the backslash's own column
    would become the statement's indentation.
    """
    keep = string_continuation_lines(code)
    return "".join(
        line if number in keep or is_blank(line) or line.startswith("\\") else prefix + line
        for number, line in enumerate(split_lines(code, keepends=True), start=1)
    )


@lru_cache(maxsize=BLOCKS_KEPT)
def as_function(code: str) -> str:
    """The block wrapped as the body of an async function (what the compiler emits)."""
    layout = _layout(code)
    empty = layout.statements == frozenset() if layout is not None else is_blank(code)
    return _WRAPPER + indent(code) + ("    pass\n" if empty else "")


def parse(code: str) -> ast.Module:
    """Parse the block as a function body; raise CodeSyntaxError with block-relative lines.

    Besides the grammar this checks what only the compiler sees (``nonlocal`` without a
    binding, ``import *`` in a function) and rejects a top-level ``yield``, which would
    turn the node into a generator. It also refuses what CPython accepts here but the
    module could not hold or load (see _check_writable and _check_loadable).
    """
    if _checked.get(code):  # checked before: only the tree is new (callers may change it)
        function = ast.parse(as_function(code)).body[0]
        assert isinstance(function, ast.AsyncFunctionDef)
        return ast.Module(body=function.body, type_ignores=[])
    function, found = _checked_function(code)
    _facts[code] = found
    _checked[code] = True
    return ast.Module(body=function.body, type_ignores=[])


def check(code: str) -> None:
    """What ``parse`` checks (raising what it raises) and the facts it records, for a caller
    that needs no tree. A block checked before without a warning is not read again: one this
    process checked, or one that the record of checked blocks holds (see ``recording``)."""
    record = _record
    if _checked.get(code):
        if not _quiet.get(code):  # parse() checked it, or it warned: as parse() does, warnings again
            parse(code)
        elif record is not None:
            record.note(code, facts(code))
        return
    found = record.facts_of(code) if record is not None else None
    if found is None:
        # Under the filter "always", every warning is caught: a block that warns is checked again
        # as parse() checks it, for the user's filters to say what becomes of each warning.
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                _, found = _checked_function(code)
            except Exception:
                if not caught:
                    raise
        if caught:
            parse(code)
            return
    assert found is not None
    _facts[code] = found
    _checked[code] = True
    _quiet[code] = True
    if record is not None:
        record.note(code, found)


class CheckRecord(Protocol):
    """Blocks checked by an earlier run (of the same workflow file, say), and those this run checked."""

    def facts_of(self, code: str) -> BlockFacts | None:
        """The facts of the block, if it was checked (without a warning) and recorded."""

    def note(self, code: str, facts: BlockFacts) -> None:
        """The block was checked without a warning: its check need not run again."""


_record: CheckRecord | None = None


@contextmanager
def recording(record: CheckRecord) -> Iterator[None]:
    """``check`` looks blocks up in ``record`` and notes in it the blocks it finds checked, meanwhile."""
    global _record
    outer, _record = _record, record
    try:
        yield
    finally:
        _record = outer


def _checked_function(code: str) -> tuple[ast.AsyncFunctionDef, BlockFacts]:
    """The checks of ``parse``, leaving the caches as they are: the wrapped block and its facts."""
    _check_writable(code)
    layout = _layout(code)
    problem = _indentation_problem(split_lines(code), layout.statements) if layout is not None else None
    if problem is not None:
        line, message = problem
        raise _error_at(message, line, None, split_lines(code)[line - 1])
    wrapped_source = as_function(code)
    try:
        wrapped = ast.parse(wrapped_source)
    except SyntaxError as exc:
        raise _block_error(code, _syntax_message(exc), exc.lineno, exc.offset) from None
    function = wrapped.body[0]
    assert isinstance(function, ast.AsyncFunctionDef)
    _check_loadable(code, function)
    nodes, names = _read_tree(wrapped)
    # A block the code generator cannot refuse is not compiled: for the constructs it may hold,
    # the symbol table pass (which reads the block's names) checks what compile() would; for
    # the plainest of them, which that pass cannot refuse either, the walk above read the names.
    if needs_code_generator(code, nodes):
        scopes = None
    else:
        scopes = names if names is not None else _checked_scope_names(wrapped_source)
    if scopes is None:
        try:
            compile(wrapped, "<code block>", "exec", dont_inherit=True)  # what only the compiler checks
        except SyntaxError as exc:
            raise _block_error(code, _syntax_message(exc), exc.lineno, exc.offset) from None
        except ValueError as exc:  # what else CPython cannot compile (a UnicodeEncodeError, say)
            raise _block_error(code, f"Python cannot compile the code: {exc}", None, None) from None
    # The keyword is ASCII however the block spells names: without the word, no walk is needed.
    for node in own_scope(function.body) if "yield" in code else ():
        if isinstance(node, (ast.Yield, ast.YieldFrom)):
            message = "'yield' cannot be used at the top of a code block: a node's output is the value of `result`"
            raise _block_error(code, message, node.lineno, node.col_offset + 1)
    found = _facts.get(code)
    return function, found if found is not None else _facts_of(code, wrapped, nodes, scopes)


_LONG_INTEGER = (
    f"an integer literal of more than {DEFAULT_INT_DIGITS} digits, which Python refuses to read"
    " (sys.int_info.default_max_str_digits); write it in hexadecimal (0x...) or compute it (10**n)"
)


def _syntax_message(error: SyntaxError) -> str:
    """CPython's message; for an integer literal over the default digit limit, ours (raising the
    limit in this process would not help: every Python reading the module has the default)."""
    if error.msg.startswith("Exceeds the limit") and sys.get_int_max_str_digits() == DEFAULT_INT_DIGITS:
        return _LONG_INTEGER
    return error.msg


def _check_writable(code: str) -> None:
    """Refuse a lone surrogate or a NUL: neither can be written into (or read from) a source file."""
    found = _UNWRITABLE.search(code)
    if found is None:
        return
    line = code.count("\n", 0, found.start()) + 1
    column = found.start() - (code.rfind("\n", 0, found.start()) + 1)
    char = found.group()
    if char == "\x00":
        message = "the code holds a NUL character, which Python source cannot contain; inside a string write \\x00"
    else:
        escape = f"\\u{ord(char):04x}"
        message = (
            f"the code holds the lone surrogate U+{ord(char):04X}, which cannot be written as UTF-8;"
            f" inside a string write the escape {escape}"
        )
    raise _error_at(message, line, column, split_lines(code)[line - 1])


def _check_loadable(code: str, function: ast.AsyncFunctionDef) -> None:
    """Refuse what CPython accepts in the block but the generated module could not hold or load:

    - a name NFKC normalisation turns into a keyword (``if`` in mathematical bold letters reads as
      ``if``): the module could not name it as a parameter;
    - an integer literal too long to read: every Python reading the module has the default limit;
    - a docstring holding a lone surrogate (``"\\ud800"``): Python 3.13 cannot compile it, and the
      block's first string becomes the docstring of the node function.
    """
    long_digits = _LONG_DIGIT_RUN.search(code) is not None
    surrogate_escapes = _SURROGATE_ESCAPE.search(code) is not None
    if code.isascii() and not long_digits and not surrogate_escapes:
        return  # ASCII names are their own normal form
    for node in ast.walk(function):
        name = node.id if isinstance(node, ast.Name) else node.arg if isinstance(node, ast.arg) else None
        if name in KEYWORDS:
            message = (
                f"this name reads as the keyword {name!r} once Python normalises it (NFKC),"
                " so the generated module could not name it; rename it"
            )
            raise _block_error(code, message, _line(node), _offset(node))
        if long_digits and abs(_int_literal(node)) >= _TOO_MANY_DIGITS:
            raise _block_error(code, _LONG_INTEGER, _line(node), _offset(node))
        docstring = _docstring(node) if surrogate_escapes else None
        if docstring is not None and _SURROGATE.search(docstring[1]):
            message = (
                "a docstring holding a lone surrogate, which Python 3.13 cannot compile;"
                " start the block (or the function) with another statement, or drop the surrogate"
            )
            raise _block_error(code, message, _line(docstring[0]), _offset(docstring[0]))


def _int_literal(node: ast.AST) -> int:
    """The value of an int literal; 0 for any other node."""
    return node.value if isinstance(node, ast.Constant) and type(node.value) is int else 0


def _docstring(node: ast.AST) -> tuple[ast.stmt, str] | None:
    """The docstring of a function or class, with its statement (the block's first string is the node function's)."""
    if not isinstance(node, _DOCUMENTED) or not node.body:
        return None
    first = node.body[0]
    if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str):
        return first, first.value.value
    return None


def _line(node: ast.AST) -> int:
    return getattr(node, "lineno", 2)


def _offset(node: ast.AST) -> int:
    return getattr(node, "col_offset", 0) + 1


def own_scope(statements: list[ast.stmt]) -> Iterator[ast.AST]:
    """Every node of these statements outside nested functions, lambdas and classes."""
    stack: list[ast.AST] = list(statements)
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
            continue
        yield node
        stack.extend(ast.iter_child_nodes(node))


def block_column(code: str, line: int, wrapped_column: int) -> int:
    """The 0-based column in the block of a column on ``line`` of the wrapped source
    (lines inside multi-line strings are not indented by the wrapping)."""
    return max(wrapped_column - (0 if line in string_continuation_lines(code) else 4), 0)


def _block_error(code: str, message: str, wrapped_line: int | None, offset: int | None) -> CodeSyntaxError:
    """A CodeSyntaxError at a line/offset of the wrapped source, mapped back into the block."""
    line = max((wrapped_line or 2) - 1, 1)
    lines = split_lines(code)
    text = lines[line - 1] if line <= len(lines) else ""
    column = None if offset is None else block_column(code, line, offset - 1)
    return _error_at(message, line, column, text)


def _error_at(message: str, line: int, column: int | None, text: str) -> CodeSyntaxError:
    return CodeSyntaxError(message, line, *shown_line(text, column)[::-1])


def shown_line(text: str, column: int | None = None) -> tuple[str, int | None]:
    """A line of code for a message, unprintable characters escaped, and the caret column moved with them."""
    return _printable(text), None if column is None else len(_printable(text[:column]))


def _printable(text: str) -> str:
    return "".join(c if c.isprintable() or c == "\t" else repr(c)[1:-1] for c in text)


def free_names(code: str) -> list[str]:
    """Names the block reads but never binds, in order of first appearance."""
    return list(facts(code).free)


def resource_literals(code: str) -> tuple[tuple[str, int, int], ...]:
    """``get_resource("name")`` calls with a literal name: (name in normal form, block line, column).

    The runtime looks a name up in normal form, as Python reads identifiers: ``"\u210cc"``
    (black-letter H) names the resource ``Hc``."""
    return facts(code).resources


def binds(code: str, name: str) -> bool:
    """Whether the block itself (not a nested scope) assigns ``name``."""
    return name in facts(code).bound


@dataclass(frozen=True, slots=True)
class BlockFacts:
    """What the rest of the compiler asks of a block, worked out once per block."""

    free: tuple[str, ...]  # names read but never bound, in order of first appearance
    resources: tuple[tuple[str, int, int], ...]  # get_resource("literal") calls, by position
    bound: frozenset[str]  # names the block itself (not a nested scope) assigns or imports
    statements: tuple[tuple[str, int], ...]  # every statement's key and line in as_function(code)


_facts: LRU[str, BlockFacts] = LRU(BLOCKS_KEPT)
_checked: LRU[str, bool] = LRU(BLOCKS_KEPT)  # blocks parse() has accepted
_quiet: LRU[str, bool] = LRU(BLOCKS_KEPT)  # blocks check() found to raise no warning


def facts(code: str) -> BlockFacts:
    """The block's facts; raises SyntaxError (or ValueError) for a block Python cannot read."""
    found = _facts.get(code)
    if found is None:
        found = _facts[code] = _facts_of(code, ast.parse(as_function(code)))
    return found


def _facts_of(
    code: str,
    wrapped: ast.Module,
    nodes: list[ast.AST] | None = None,
    scopes: tuple[frozenset[str], frozenset[str]] | None = None,
) -> BlockFacts:
    """The block's facts from its wrapped tree (``nodes``: its nodes, ``scopes``: its names, when
    already found)."""
    bound, free = scopes if scopes is not None else _scope_names(as_function(code))
    names: list[tuple[int, int, str]] = []
    resources: list[tuple[str, int, int]] = []
    for node in nodes if nodes is not None else _expressions(wrapped):
        if isinstance(node, ast.Name):
            if node.id in free:
                names.append((node.lineno, node.col_offset, node.id))
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == "get_resource"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            resources.append((normal_form(node.args[0].value), node.lineno - 1, node.col_offset))
    return BlockFacts(
        free=tuple(dict.fromkeys(name for _, _, name in sorted(names))),
        resources=tuple(sorted(resources, key=lambda item: (item[1], item[2]))),
        bound=bound,
        statements=tuple((key, statement.lineno) for key, statement in keyed_statements(_wrapper_body(wrapped))),
    )


_ASSIGNED_OR_IMPORTED: int = _symtable.DEF_LOCAL | _symtable.DEF_IMPORT
_USE: int = _symtable.USE
_DEF_BOUND: int = _symtable.DEF_BOUND
_SCOPE_OFF: int = _symtable.SCOPE_OFF
_SCOPE_MASK: int = _symtable.SCOPE_MASK
_GLOBAL_IMPLICIT: int = _symtable.GLOBAL_IMPLICIT
_GLOBAL_EXPLICIT: int = _symtable.GLOBAL_EXPLICIT


def _scope_names(wrapped_source: str) -> tuple[frozenset[str], frozenset[str]]:
    """The names the wrapper function assigns or imports, and the names any of its scopes reads as
    implicit globals: what ``symtable.Symbol`` calls ``is_assigned() or is_imported()`` in the
    function, and ``is_global() and is_referenced() and not is_declared_global()`` in it and the
    scopes it holds. The flags are read from ``_symtable`` (what the ``symtable`` module wraps)
    as that module reads them, without making an object per symbol."""
    function = _symtable.symtable(wrapped_source, "<code block>", "exec").children[0]
    bound = frozenset(name for name, flags in function.symbols.items() if flags & _ASSIGNED_OR_IMPORTED)
    free: set[str] = set()
    stack = [function]
    while stack:
        scope = stack.pop()
        module_scope = scope.name == "top"  # as symtable.Symbol.is_global() counts it
        for name, flags in scope.symbols.items():
            where = (flags >> _SCOPE_OFF) & _SCOPE_MASK
            if (
                flags & _USE
                and where != _GLOBAL_EXPLICIT
                and (where == _GLOBAL_IMPLICIT or (module_scope and flags & _DEF_BOUND))
            ):
                free.add(name)
        stack.extend(scope.children)
    return bound, frozenset(free)


# Fields that hold no names or calls: a name's context, an operator (BinOp, UnaryOp, BoolOp,
# AugAssign), a comparison's operators.
_LEAF_FIELDS = frozenset({"ctx", "op", "ops"})
_CHILD_FIELDS: dict[type, tuple[str, ...]] = {}


def _checked_scope_names(wrapped_source: str) -> tuple[frozenset[str], frozenset[str]] | None:
    """``_scope_names``; None when the symbol table refuses the block (compile() then says why,
    as it always has)."""
    try:
        return _scope_names(wrapped_source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None


def _expressions(tree: ast.AST) -> list[ast.AST]:
    """Every node of the tree that ``ast.walk`` finds (in another order), less contexts and
    operators."""
    return _read_tree(tree)[0]


# Scopes whose names the walk below does not work out (comprehensions other than generator
# expressions have been inlined into their function since Python 3.12, which changes what
# the symbol table says of their names).
_OTHER_SCOPES = frozenset({ast.Lambda, ast.ListComp, ast.SetComp, ast.DictComp})


def _read_tree(tree: ast.AST) -> tuple[list[ast.AST], tuple[frozenset[str], frozenset[str]] | None]:
    """The nodes ``_expressions`` gives, and what ``_scope_names`` gives for a block of the
    constructs ``needs_code_generator`` lets through whose only scopes besides the wrapper are
    generator expressions (None for another block; for a block with constructs it does not let
    through, the names are not to be used). Read as the symbol table reads them: a name loaded
    in a scope that neither it nor a scope around it binds is an implicit global (``super``
    also loads ``__class__``); an import binds its alias or the first part of the module name;
    a generator expression's first iterable belongs to the scope around it."""
    found: list[ast.AST] = []
    bound: list[set[str]] = [set()]  # per scope: the wrapper, then each generator expression
    loaded: list[set[str]] = [set()]
    around: list[int] = [-1]
    readable = True
    stack: list[tuple[ast.AST, int]] = [(tree, 0)]
    while stack:
        node, scope = stack.pop()
        found.append(node)
        kind = type(node)
        if kind is ast.Name:
            assert isinstance(node, ast.Name)
            if type(node.ctx) is ast.Load:
                loaded[scope].add(node.id)
                if node.id == "super":
                    loaded[scope].add("__class__")
            else:
                bound[scope].add(node.id)
            continue
        if kind is ast.GeneratorExp:
            assert isinstance(node, ast.GeneratorExp)
            inner = len(bound)
            bound.append(set())
            loaded.append(set())
            around.append(scope)
            found.extend(node.generators)
            stack.append((node.elt, inner))
            for index, generator in enumerate(node.generators):
                stack.append((generator.target, inner))
                stack.append((generator.iter, inner if index else scope))
                stack.extend((condition, inner) for condition in generator.ifs)
            continue
        if kind is ast.Import or kind is ast.ImportFrom:
            assert isinstance(node, (ast.Import, ast.ImportFrom))
            found.extend(node.names)
            bound[scope].update(alias.asname or alias.name.partition(".")[0] for alias in node.names)
            continue
        if kind in _OTHER_SCOPES:
            readable = False
        fields = _CHILD_FIELDS.get(kind)
        if fields is None:
            fields = _CHILD_FIELDS[kind] = tuple(field for field in kind._fields if field not in _LEAF_FIELDS)
        for field in fields:
            value = getattr(node, field, None)
            if type(value) is list:
                stack.extend([(item, scope) for item in value if isinstance(item, ast.AST)])
            elif isinstance(value, ast.AST):
                stack.append((value, scope))
    if not readable:
        return found, None
    free: set[str] = set()
    for scope, names in enumerate(loaded):
        names = names - bound[scope]
        outer = around[scope]
        while names and outer >= 0:
            names -= bound[outer]
            outer = around[outer]
        free |= names
    return found, (frozenset(bound[0]), frozenset(free))


def _wrapper_body(wrapped: ast.Module) -> list[ast.stmt]:
    function = wrapped.body[0]
    assert isinstance(function, ast.AsyncFunctionDef)
    return function.body
