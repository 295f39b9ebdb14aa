"""Which module-level names a piece of top-level source reads."""

from __future__ import annotations

import ast
import symtable
from collections.abc import Collection


def module_names_read(source: str, defined: Collection[str], *, nested_too: bool) -> list[str]:
    """Module-level (global) names ``source`` reads, in the order they first appear in it.

    ``defined`` are the names the source itself binds (a class's or function's own name, a
    constant's targets): they are not reads at the top level, and, with ``nested_too``, not in
    nested scopes either (a method that names its own class reads the module's binding of it
    only when ``nested_too`` is false).
    """
    table = symtable.symtable(source, "<definition>", "exec")
    found: set[str] = set()
    stack = [table]
    while stack:
        scope = stack.pop()
        top = scope is table
        for symbol in scope.get_symbols():
            name = symbol.get_name()
            if not symbol.is_referenced() or not (top or symbol.is_global()):
                continue
            if name in defined and (top or nested_too):
                continue
            found.add(name)
        stack.extend(scope.get_children())
    first_seen: dict[str, int] = {}
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Name):
            first_seen.setdefault(node.id, len(first_seen))
    return sorted(found, key=lambda name: (first_seen.get(name, len(first_seen)), name))
