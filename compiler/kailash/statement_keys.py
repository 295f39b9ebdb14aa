"""What each statement of a body is, as far as black leaves it alone, in source order.

The asyncio target pairs a node's code block with its formatted code by these keys
(``targets/asyncio/source_lines.py``); the builder works them out for each block it checks
(``codeblock.BlockFacts.statements``), so the block is not parsed again for that.
"""

from __future__ import annotations

import ast


def keyed_statements(body: list[ast.stmt]) -> list[tuple[str, ast.stmt]]:
    """Every statement under ``body``, in source order, keyed by what it is."""
    found: list[tuple[str, ast.stmt]] = []
    pending = list(reversed(body))
    while pending:
        statement = pending.pop()
        found.append((statement_key(statement), statement))
        inner: list[ast.stmt] = []
        for field in ("body", "handlers", "orelse", "finalbody", "cases"):
            for item in getattr(statement, field, ()):
                inner.extend(item.body if isinstance(item, (ast.ExceptHandler, ast.match_case)) else [item])
        pending.extend(reversed(inner))
    return found


def statement_key(statement: ast.stmt) -> str:
    """What a statement is, as far as black leaves it alone: its kind and the names it binds or
    calls (a compound statement by its kind: a map function is renamed, a header laid out anew)."""
    kind = type(statement).__name__
    if isinstance(statement, ast.Assign):
        return f"{kind} {' '.join(_name(target) for target in statement.targets)}"
    if isinstance(statement, (ast.AugAssign, ast.AnnAssign)):
        return f"{kind} {_name(statement.target)}"
    if isinstance(statement, (ast.Import, ast.ImportFrom)):
        return f"{kind} {' '.join(alias.name for alias in statement.names)}"
    if isinstance(statement, (ast.Expr, ast.Return)):
        value = statement.value
        if isinstance(value, ast.Await):
            value = value.value
        if isinstance(value, ast.Call):
            return f"{kind} {_name(value.func)}()"
        return f"{kind} {type(value).__name__}"
    return kind


def _name(node: ast.expr) -> str:
    """``a.b[...]`` for an assignment target or a called function; other expressions by kind."""
    parts = []
    while isinstance(node, (ast.Attribute, ast.Subscript)):
        parts.append(f".{node.attr}" if isinstance(node, ast.Attribute) else "[]")
        node = node.value
    base = node.id if isinstance(node, ast.Name) else type(node).__name__
    return base + "".join(reversed(parts))
