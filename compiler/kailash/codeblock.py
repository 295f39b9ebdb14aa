"""Code blocks: dedent, syntax-check, indent, and find the names a block reads.

A code block is the body of an ``async def``: top-level ``await``, ``async with`` and
``return`` are allowed. Lines inside multi-line strings are never re-indented, so the
string values stay exactly as written.
"""

from __future__ import annotations

import ast
import io
import symtable
import textwrap
import tokenize
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache

_WRAPPER = "async def __kailash_node__():\n"

# Since Python 3.12 (PEP 701) an f-string is a run of tokens from FSTRING_START to
# FSTRING_END rather than one STRING token (3.14 adds t-strings); Python 3.11 has neither.
_LITERAL_STARTS = frozenset(
    getattr(tokenize, name) for name in ("FSTRING_START", "TSTRING_START") if hasattr(tokenize, name)
)
_LITERAL_ENDS = frozenset(getattr(tokenize, name) for name in ("FSTRING_END", "TSTRING_END") if hasattr(tokenize, name))


@dataclass(frozen=True)
class CodeSyntaxError(Exception):
    message: str
    line: int  # 1-based, in the dedented block
    column: int | None
    text: str


def dedent(code: str) -> str:
    """``textwrap.dedent``, then the same for lines outside multi-line strings; blank ends dropped.

    The second step handles a block whose multi-line string has lines indented less than
    the code around it: those string lines stay as written, the code lines lose their
    common indentation.
    """
    lines = textwrap.dedent(code).splitlines()
    while lines and not lines[0].strip():
        lines.pop(0)
    while lines and not lines[-1].strip():
        lines.pop()
    if not lines:
        return ""
    text = "\n".join(lines) + "\n"
    keep = string_continuation_lines(text)
    code_lines = [line for number, line in enumerate(lines, 1) if number not in keep and line.strip()]
    margin = min(len(line) - len(line.lstrip()) for line in code_lines) if code_lines else 0
    if margin:
        lines = [line if number in keep else line[margin:] for number, line in enumerate(lines, 1)]
        text = "\n".join(lines) + "\n"
    return text


@lru_cache(maxsize=4096)
def string_continuation_lines(code: str) -> frozenset[int]:
    """1-based numbers of lines that start inside a multi-line string literal."""
    inside: set[int] = set()
    open_literals: list[int] = []  # start lines of the f-/t-strings being read (they nest)
    try:
        for token in tokenize.generate_tokens(io.StringIO(code).readline):
            if token.type in _LITERAL_STARTS:
                open_literals.append(token.start[0])
                continue
            if token.type in _LITERAL_ENDS:
                start = open_literals.pop()
            elif token.type == tokenize.STRING and not open_literals:
                start = token.start[0]
            else:
                continue
            if not open_literals and token.end[0] > start:
                inside.update(range(start + 1, token.end[0] + 1))
    except (tokenize.TokenError, IndentationError, SyntaxError):
        pass  # the syntax check reports the real problem
    return frozenset(inside)


def indent(code: str, prefix: str = "    ") -> str:
    """Indent every line except those inside multi-line strings (and blank ones)."""
    keep = string_continuation_lines(code)
    return "".join(
        line if number in keep or not line.strip() else prefix + line
        for number, line in enumerate(code.splitlines(keepends=True), start=1)
    )


@lru_cache(maxsize=4096)
def as_function(code: str) -> str:
    """The block wrapped as the body of an async function (what the compiler emits)."""
    return _WRAPPER + (indent(code) if code.strip() else "    pass\n")


def parse(code: str) -> ast.Module:
    """Parse the block as a function body; raise CodeSyntaxError with block-relative lines.

    Besides the grammar this checks what only the compiler sees (``nonlocal`` without a
    binding, ``import *`` in a function) and rejects a top-level ``yield``, which would
    turn the node into a generator.
    """
    wrapped_source = as_function(code)
    try:
        wrapped = ast.parse(wrapped_source)
        compile(wrapped_source, "<code block>", "exec", dont_inherit=True)
    except SyntaxError as exc:
        raise _block_error(code, exc.msg, exc.lineno, exc.offset) from None
    function = wrapped.body[0]
    assert isinstance(function, ast.AsyncFunctionDef)
    for node in _own_scope(function.body):
        if isinstance(node, (ast.Yield, ast.YieldFrom)):
            message = "'yield' cannot be used at the top of a code block: a node's output is the value of `result`"
            raise _block_error(code, message, node.lineno, node.col_offset + 1)
    return ast.Module(body=function.body, type_ignores=[])


def _own_scope(statements: list[ast.stmt]) -> Iterator[ast.AST]:
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
    lines = code.splitlines()
    text = lines[line - 1] if line <= len(lines) else ""
    column = None if offset is None else block_column(code, line, offset - 1)
    return CodeSyntaxError(message, line, column, text)


def free_names(code: str) -> list[str]:
    """Names the block reads but never binds, in order of first appearance."""
    return list(_free_names(code))


@lru_cache(maxsize=4096)
def _symbols(code: str) -> symtable.SymbolTable:
    return symtable.symtable(as_function(code), "<code block>", "exec")


@lru_cache(maxsize=4096)
def _free_names(code: str) -> tuple[str, ...]:
    table = _symbols(code)
    free: set[str] = set()
    stack = list(table.get_children())
    while stack:
        scope = stack.pop()
        for symbol in scope.get_symbols():
            if symbol.is_global() and symbol.is_referenced() and not symbol.is_declared_global():
                free.add(symbol.get_name())
        stack.extend(scope.get_children())
    ordered: list[str] = []
    for node in _names_in_order(ast.parse(as_function(code))):
        if node in free and node not in ordered:
            ordered.append(node)
    return tuple(ordered)


@lru_cache(maxsize=4096)
def resource_literals(code: str) -> tuple[tuple[str, int, int], ...]:
    """``get_resource("name")`` calls with a literal name: (name, block line, column)."""
    found = []
    for node in ast.walk(ast.parse(as_function(code))):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == "get_resource"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            found.append((node.args[0].value, node.lineno - 1, node.col_offset))
    return tuple(sorted(found, key=lambda item: (item[1], item[2])))


def binds(code: str, name: str) -> bool:
    """Whether the block itself (not a nested scope) assigns ``name``."""
    function = _symbols(code).get_children()[0]
    try:
        symbol = function.lookup(name)
    except KeyError:
        return False
    return symbol.is_assigned() or symbol.is_imported()


def _names_in_order(tree: ast.AST) -> list[str]:
    found: list[tuple[int, int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            found.append((node.lineno, node.col_offset, node.id))
    return [name for _, _, name in sorted(found)]
