"""Compile-time warnings: code that compiles but most likely does not do what its author meant.

Each warning names the workflow file and line, the node id and what to do; under
``--strict`` it is a WorkflowError instead. The compiler issues them as Python warnings
(``WorkflowWarning``), which the command line prints as ``warning: ...``.
"""

from __future__ import annotations

import ast
import importlib.util
from collections.abc import Iterator
from dataclasses import dataclass, field

from .. import codeblock
from ..errors import CodeLine, WorkflowError, WorkflowWarning
from ..ir import NodeIR


@dataclass
class Diagnostics:
    """The warnings of one compile."""

    strict: bool = False
    warnings: list[WorkflowWarning] = field(default_factory=list)

    def warn(self, node: NodeIR, problem: str, *, hint: str, code_line: CodeLine | None = None) -> None:
        """Record a warning about ``node``; raise it as a WorkflowError under --strict."""
        if self.strict:
            raise WorkflowError(problem, location=node.location, node_id=node.node_id, code_line=code_line, hint=hint)
        warning = WorkflowWarning(problem, location=node.location, node_id=node.node_id, code_line=code_line, hint=hint)
        if all(str(warning) != str(known) for known in self.warnings):
            self.warnings.append(warning)


def never_returns(code: str) -> bool:
    """Whether a code block has no ``return`` of its own and does not end by raising: unless it
    assigns ``result``, the node's output is then always None."""
    body = codeblock.parse(code).body
    if body and isinstance(body[-1], ast.Raise):
        return False
    return not any(isinstance(node, ast.Return) for node in codeblock.own_scope(body))


def module_use(name: str, code: str) -> CodeLine | None:
    """The first ``<name>.<attribute>`` of a code block, when ``name`` is a module this Python
    could import: the code then most likely uses that module and lacks its import."""
    if not _importable(name):
        return None
    for line, column, text in attribute_reads(code, name):
        return CodeLine(line, text, column)
    return None


def attribute_reads(code: str, name: str) -> Iterator[tuple[int, int, str]]:
    """``<name>.<attribute>`` in a code block (a node's body, or a map's module-level code), in
    order: block line, column and the line's text."""
    try:
        tree: ast.Module = codeblock.parse(code)
        wrapped = True
    except codeblock.CodeSyntaxError:
        tree, wrapped = ast.parse(code), False
    uses = sorted(
        (node.lineno, node.col_offset)
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == name
    )
    lines = code.splitlines()
    for line, column in uses:
        if wrapped:  # the parse wraps the block in a function
            line -= 1
            column = codeblock.block_column(code, line, column)
        yield line, column, lines[line - 1]


def _importable(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False
