"""Code blocks for the property test, and what CPython says they mean.

A block is written from a small grammar (literal assignments, ``if`` blocks, comments with
line breaks Python does not break on, docstrings, ``await``, ``global``, raises), then laid
out as a user might write it (CRLF or CR line ends, uniform extra indentation with spaces
or tabs, leading comments less indented than the code, blank lines, form feeds), and now
and then mutated by inserting a hostile character into one of its strings or comments.

The oracle is CPython itself: the block, laid out without the extra indentation the
builder's dedent removes, is compiled and run as module code (top-level ``await``
allowed). If CPython refuses it, the compiler must refuse it; if CPython runs it, the
compiled node must give exactly the value CPython gives. Running the block here is the
test's reference, not something a generated module does.
"""

from __future__ import annotations

import ast
import asyncio
import inspect
import io
import tokenize
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st

from .hostile_text import (
    LONE_SURROGATES,
    OTHER_LINE_BREAKS,
    PYTHON_LINE_BREAKS,
    TEXT_PIECES,
    Draw,
    hostile_text,
    is_name,
    literal_values,
    nfkc,
    spell,
    spell_string,
)

_FLAGS = ast.PyCF_ALLOW_TOP_LEVEL_AWAIT
_STRING_STARTS = frozenset(getattr(tokenize, n) for n in ("FSTRING_START", "TSTRING_START") if hasattr(tokenize, n))
_STRING_ENDS = frozenset(getattr(tokenize, n) for n in ("FSTRING_END", "TSTRING_END") if hasattr(tokenize, n))
INJECTED = "INJECTED"


@dataclass(frozen=True)
class Outcome:
    """What a node gives: a value, or an error as a run reports it (``"ExcType: message"``)."""

    value: Any = None
    error: str | None = None


@dataclass(frozen=True)
class Block:
    source: str  # the code block as passed to the builder
    reference: str  # the same block as module code CPython can run (no extra indentation)
    valid: bool  # CPython compiles ``reference``
    uses_global: bool = False


def compiles(text: str) -> bool:
    try:
        _compiled(text)
    except (SyntaxError, ValueError, UnicodeError):
        return False
    return True


def _compiled(text: str) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SyntaxWarning)  # "'str' object is not callable" and the like
        return compile(text, "<block>", "exec", flags=_FLAGS, dont_inherit=True)


def run_module_code(text: str, names: dict[str, Any]) -> dict[str, Any]:
    """Run ``text`` as module code with ``names`` as its globals; the globals afterwards."""
    namespace = {"__builtins__": __builtins__, "asyncio": asyncio, **{nfkc(k): v for k, v in names.items()}}
    code = _compiled(text)
    outcome = eval(code, namespace)  # the reference meaning of a test-generated block (see module docstring)
    if inspect.iscoroutine(outcome):
        asyncio.run(outcome)
    return namespace


def described(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


def evaluate(block: Block, names: dict[str, Any], target: str = "result") -> Outcome:
    """What CPython gives for ``target`` after running the block (None when it is never bound)."""
    try:
        namespace = run_module_code(block.reference, names)
    except Exception as exc:
        return Outcome(error=described(exc))
    return Outcome(value=namespace.get(target))


def evaluate_map(block: Block, extras: dict[str, Any], items: Sequence[Any]) -> Outcome:
    """The list of ``process_item(item)`` for the items, as CPython computes it."""
    try:
        namespace = run_module_code(block.reference, extras)
        function: Callable[[Any], Any] = namespace["process_item"]
        values = []
        for item in items:
            value = function(item)
            if inspect.iscoroutine(value):
                value = asyncio.run(value)
            values.append(value)
    except Exception as exc:
        return Outcome(error=described(exc))
    return Outcome(value=values)


# -- pieces of code ---------------------------------------------------------------------
def comment_text(draw: Draw) -> str:
    """A comment's text: hostile, and sometimes a fake statement after a line break Python ignores."""
    text = draw(hostile_text(0, 4))
    text = "".join(" " if c in "\r\n\x00" or c in LONE_SURROGATES else c for c in text)
    if draw(st.integers(0, 2)) == 1:
        text += draw(st.sampled_from(OTHER_LINE_BREAKS)) + f"result = {INJECTED!r}"
    return "# " + text


def name_as_written(draw: Draw, name: str) -> str:
    """``name`` as code may spell it: as given, or in the NFKC form Python reads it as."""
    normal = nfkc(name)
    if normal != name and is_name(normal) and draw(st.booleans()):
        return normal
    return name


@dataclass
class Statements:
    """Top-level statements of a block being written; ``lines`` are joined with ``\\n``."""

    draw: Draw
    lines: list[str]
    uses_global: bool = False

    def add(self, text: str) -> None:
        self.lines.append(text)

    def noise(self) -> None:
        """Statements that do nothing: comments, a docstring, ``pass``, a dead branch, an await."""
        draw = self.draw
        for _ in range(draw(st.integers(0, 2))):
            kind = draw(st.sampled_from(("comment", "docstring", "pass", "dead", "await", "semicolons")))
            if kind == "comment":
                self.add(comment_text(draw))
            elif kind == "docstring":
                self.add(spell_string(draw, draw(hostile_text(0, 5))))
            elif kind == "pass":
                self.add("pass")
            elif kind == "dead":
                indent = draw(st.sampled_from(("    ", "\t", "  ")))
                self.add(f"if False:\n{indent}result = {INJECTED!r}")
            elif kind == "await":
                self.add("await asyncio.sleep(0)")
            else:
                self.add("local_\u00e9x = 1; local_\u00e9x += 1")

    def assign(self, target: str, expression: str) -> None:
        """``target = expression``, perhaps inside an ``if`` whose other branch assigns a decoy."""
        draw = self.draw
        trailing = ""
        if draw(st.integers(0, 2)) == 1:
            trailing = "  " + comment_text(draw)
        form = draw(st.sampled_from(("plain", "plain", "if", "global")))
        if form == "if":
            indent = draw(st.sampled_from(("    ", "\t", "  ", " \t")))
            condition = draw(st.sampled_from(("True", "1", "'x'", "not None")))
            self.add(
                f"if {condition}:\n{indent}{target} = {expression}{trailing}\nelse:\n{indent}{target} = {INJECTED!r}"
            )
        elif form == "global":
            # A module-level name of the block's own, or one the generated module uses itself.
            name = draw(st.sampled_from(("global_\u00e9", "global_\u00e9", "rt", "RESOURCES", "run", "Any")))
            self.uses_global = True
            self.add(f"global {name}\n{name} = {expression}{trailing}\n{target} = {name}")
        else:
            self.add(f"{target} = {expression}{trailing}")

    def text(self) -> str:
        return "\n".join(self.lines)


def expression(draw: Draw, value: Any, reads: Sequence[str], statements: Statements) -> str:
    """Source combining the literal ``value`` and the names ``reads``; a local may hold the literal."""
    literal = spell(draw, value)
    if draw(st.booleans()):
        statements.add(f"local_\u00e9 = {literal}")
        literal = "local_\u00e9"
    if not reads:
        return literal
    names = [name_as_written(draw, name) for name in reads]
    shape = draw(st.sampled_from(("tuple", "list", "dict")))
    if shape == "tuple":
        return "(" + ", ".join([literal, *names]) + ",)"
    if shape == "list":
        return "[" + ", ".join([literal, *names]) + "]"
    keys = draw(st.lists(hostile_text(0, 3), min_size=len(names) + 1, max_size=len(names) + 1, unique=True))
    return "{" + ", ".join(f"{spell(draw, k)}: {v}" for k, v in zip(keys, [literal, *names], strict=True)) + "}"


def code_statements(draw: Draw, value: Any, reads: Sequence[str], *, fails: bool, target: str = "result") -> str:
    """Unindented statements that set ``target`` from ``value`` and ``reads`` (then raise, if ``fails``)."""
    statements = Statements(draw, [])
    statements.noise()
    statements.assign(target, expression(draw, value, reads, statements))
    statements.noise()
    if fails:
        message = spell_string(draw, draw(hostile_text(0, 4)))
        kind = draw(st.sampled_from(("ValueError", "KeyError", "RuntimeError")))
        statements.add(f"raise {kind}({message})")
    return _mark_global(statements)


def _mark_global(statements: Statements) -> str:
    text = statements.text()
    return ("#global\n" if statements.uses_global else "") + text


def map_statements(draw: Draw, value: Any, extras: Sequence[str], shared_names: Sequence[str], index: int) -> str:
    """A map code block: helpers and imports beside ``process_item(item)``, which returns a value
    built from ``value``, the item, the helpers and the inputs ``extras``."""
    lines: list[str] = []
    used: list[str] = []
    free = [name for name in shared_names if nfkc(name) not in {nfkc(e) for e in extras}]
    for j in range(draw(st.integers(0, 2))):
        helper = draw(st.sampled_from([f"helper_\u00e9{index}_{j}", *free]))
        if helper in used:
            continue
        used.append(helper)
        if draw(st.booleans()):
            module = draw(st.sampled_from(("json", "math", "string")))
            lines.append(f"import {module} as {helper}")
        else:
            lines.append(f"{helper} = {spell(draw, draw(literal_values()))}")
        if draw(st.booleans()):
            lines.append(comment_text(draw))
    asynchronous = draw(st.booleans())
    indent = draw(st.sampled_from(("    ", "\t", "  ")))
    body = [indent + draw(st.sampled_from(("pass", '"""process one item"""', comment_text(draw))))]
    if asynchronous and draw(st.booleans()):
        body.append(indent + "await asyncio.sleep(0)")
    parts = [spell(draw, value), "item", *(name_as_written(draw, e) for e in extras)]
    parts += [h for h in used if draw(st.booleans())]
    body.append(f"{indent}return [{', '.join(parts)}]")
    lines.append(("async def" if asynchronous else "def") + " process_item(item):\n" + "\n".join(body))
    return "\n".join(lines)


def batch_statements(draw: Draw, value: Any, reads: Sequence[str]) -> str:
    statements = Statements(draw, [])
    statements.noise()
    literal = spell(draw, value)
    names = ", ".join(name_as_written(draw, name) for name in reads)
    form = draw(st.sampled_from(("each", "count", "extend")))
    if form == "each":
        statements.assign("batch_results", f"[({literal}, each_\u00e9, {names}) for each_\u00e9 in items]")
    elif form == "count":
        statements.assign("batch_results", f"[{literal}, len(items), ({names})]")
    else:
        statements.assign("batch_results", f"list(items) + [{literal}, ({names})]")
    return _mark_global(statements)


# -- layout ---------------------------------------------------------------------------
def string_lines(text: str) -> set[int]:
    """1-based numbers of lines that start inside a multi-line string literal."""
    inside: set[int] = set()
    opened: list[int] = []
    try:
        for token in tokenize.generate_tokens(io.StringIO(text).readline):
            if token.type in _STRING_STARTS:
                opened.append(token.start[0])
                continue
            if token.type in _STRING_ENDS:
                start = opened.pop()
            elif token.type == tokenize.STRING and not opened:
                start = token.start[0]
            else:
                continue
            if not opened and token.end[0] > start:
                inside.update(range(start + 1, token.end[0] + 1))
    except (tokenize.TokenError, SyntaxError):
        pass
    return inside


def _string_and_comment_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) offsets of the insides of string literals and comments, for mutation."""
    starts = [0]
    for line in text.split("\n"):
        starts.append(starts[-1] + len(line) + 1)
    spans = []
    try:
        for token in tokenize.generate_tokens(io.StringIO(text).readline):
            start = starts[token.start[0] - 1] + token.start[1]
            end = starts[token.end[0] - 1] + token.end[1]
            if token.type == tokenize.COMMENT:
                spans.append((start + 1, end))
            elif token.type == tokenize.STRING:
                prefix = token.string[: len(token.string) - len(token.string.lstrip("rbuRBUfF"))]
                if "f" in prefix.lower():
                    continue  # a brace inserted into an f-string would read a variable
                width = 3 if token.string[len(prefix) : len(prefix) + 3] in ("'''", '"""') else 1
                spans.append((start + len(prefix) + width, end - width))
    except (tokenize.TokenError, SyntaxError):
        pass
    return [(a, b) for a, b in spans if a <= b]


def mutated(draw: Draw, text: str) -> str:
    """``text`` with one hostile character inserted inside a string literal or a comment."""
    spans = _string_and_comment_spans(text)
    if not spans:
        return text
    start, end = draw(st.sampled_from(spans))
    at = draw(st.integers(start, end))
    return text[:at] + draw(st.sampled_from(TEXT_PIECES)) + text[at:]


@dataclass(frozen=True)
class Layout:
    newline: str
    indent: str
    indent_string_lines: bool
    leading_comments: tuple[tuple[str, str], ...]  # (indentation relative to the code, text)
    blank_after: frozenset[int]  # line numbers followed by a whitespace-only line
    blank_text: str
    form_feeds: frozenset[int]  # top-level lines preceded by a form feed (only without indentation)
    edges: tuple[str, str]  # blank text before and after the block


def draw_layout(draw: Draw, line_count: int) -> Layout:
    indent = draw(st.sampled_from(("", "", "    ", "\t", "        ", "  \t")))
    comments = tuple(
        (draw(st.sampled_from(("less", "same", "more"))), comment_text(draw)) for _ in range(draw(st.integers(0, 2)))
    )
    numbers = st.integers(1, max(line_count, 1))
    return Layout(
        newline=draw(st.sampled_from(PYTHON_LINE_BREAKS)),
        indent=indent,
        indent_string_lines=draw(st.booleans()),
        leading_comments=comments,
        blank_after=frozenset(draw(st.lists(numbers, max_size=2))),
        blank_text=draw(st.sampled_from(("", "    ", "\t", " \t "))),
        form_feeds=frozenset(draw(st.lists(numbers, max_size=1))) if not indent else frozenset(),
        edges=(draw(st.sampled_from(("", "\n", "\n  \n"))), draw(st.sampled_from(("", "\n", "\n    ")))),
    )


def lay_out(text: str, layout: Layout, *, indented: bool) -> str:
    """``text`` (``\\n`` line ends, no indentation) as laid out; without the extra indentation if not ``indented``."""
    indent = layout.indent if indented else ""
    lines = text.split("\n")
    in_string = string_lines(text)
    if not layout.indent_string_lines and any(
        lines[n - 1][:1] in (" ", "\t") for n in in_string if lines[n - 1].strip(" \t")
    ):
        # A string line that starts with whitespace inside a block whose other lines are
        # indented has no one meaning (how much of it is the block's indentation?): indent it too.
        layout = Layout(**{**layout.__dict__, "indent_string_lines": True})
    out: list[str] = []
    for comment_indent, comment in layout.leading_comments:
        extra = {"less": "", "same": indent, "more": indent + "  "}[comment_indent]
        out.append(extra + comment)
    after_continuation = False
    for number, line in enumerate(lines, 1):
        continuation = number in in_string
        if not line.strip(" \t") or (continuation and not layout.indent_string_lines):
            out.append(line)
        else:
            prefix = "\x0c" if number in layout.form_feeds and not continuation and not line[:1].isspace() else ""
            out.append(indent + prefix + line)
        after_continuation = line.rstrip().endswith("\\")
        if number in layout.blank_after and number + 1 not in in_string and not after_continuation:
            out.append(layout.blank_text)
    body = layout.newline.join(out)
    before, after = (edge.replace("\n", layout.newline) for edge in layout.edges)
    return before + body + after


def block_of(draw: Draw, statements: str, meaning: Callable[[Block], Outcome], *, mutate: bool = True) -> Block:
    """The statements as a block the builder gets, and the same as module code for the reference.

    ``meaning`` evaluates a block as the node would; a mutation that makes the block read a
    name nothing binds is dropped (the compiler rightly makes that a workflow input).
    """
    uses_global = statements.startswith("#global\n")
    statements = statements.removeprefix("#global\n")
    layout = draw_layout(draw, statements.count("\n") + 1)
    block = _laid_out(statements, layout, uses_global)
    if mutate and draw(st.integers(0, 7)) == 4:
        changed = _laid_out(mutated(draw, statements), layout, uses_global)
        error = meaning(changed).error if changed.valid else None
        if not (error and error.startswith(("NameError", "UnboundLocalError"))):
            block = changed
    return block


def _laid_out(statements: str, layout: Layout, uses_global: bool) -> Block:
    reference = lay_out(statements, layout, indented=False)
    return Block(
        source=lay_out(statements, layout, indented=True),
        reference=reference,
        valid=compiles(reference),
        uses_global=uses_global,
    )
