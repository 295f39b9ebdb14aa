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
from ..errors import CodeLine, WorkflowError, WorkflowErrors, WorkflowWarning
from ..ir import Location, NodeIR


@dataclass
class Diagnostics:
    """The warnings of one compile, and the errors found so far (all reported at once)."""

    strict: bool = False
    warnings: list[WorkflowWarning] = field(default_factory=list)
    errors: list[WorkflowError] = field(default_factory=list)
    _keys: set[object] = field(default_factory=set)

    def warn(self, node: NodeIR, problem: str, *, hint: str, code_line: CodeLine | None = None) -> None:
        """Record a warning about ``node``; under --strict, an error."""
        self.warn_at(node.location, problem, hint=hint, node_id=node.node_id, code_line=code_line)

    def warn_at(
        self,
        location: Location,
        problem: str,
        *,
        hint: str,
        node_id: str | None = None,
        code_line: CodeLine | None = None,
    ) -> None:
        if self.strict:
            self.error(WorkflowError(problem, location=location, node_id=node_id, code_line=code_line, hint=hint))
            return
        warning = WorkflowWarning(problem, location=location, node_id=node_id, code_line=code_line, hint=hint)
        if all(str(warning) != str(known) for known in self.warnings):
            self.warnings.append(warning)

    def error(self, error: WorkflowError, key: object = None) -> None:
        """Record an error; ``raise_errors`` reports every one recorded. ``key``: what the error is
        about, reported once however many nodes find it (the code of a pattern several nodes run)."""
        if key is not None:
            if key in self._keys:
                return
            self._keys.add(key)
        if all(str(error) != str(known) for known in self.errors):
            self.errors.append(error)

    def raise_errors(self) -> None:
        if len(self.errors) == 1:
            raise self.errors[0]
        if self.errors:
            raise WorkflowErrors(self.errors)


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
