"""The one error type a user of the builder, compiler or CLI sees for bad input."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .ir import Location


@dataclass(frozen=True)
class CodeLine:
    """A line of a code block to show with a caret under the offending column."""

    number: int
    text: str
    column: int | None = None


class _Report(Exception):
    """A message about the workflow: where (file:line, node id), what, the code line, what to do."""

    def __init__(
        self,
        problem: str,
        *,
        location: Location | None = None,
        node_id: str | None = None,
        code_line: CodeLine | None = None,
        hint: str | None = None,
    ) -> None:
        self.problem = problem
        self.location = location
        self.node_id = node_id
        self.code_line = code_line
        self.hint = hint
        super().__init__(self.render())

    def render(self) -> str:
        where = f"{self.location}: " if self.location else ""
        node = f"node {self.node_id!r}: " if self.node_id is not None else ""
        lines = [f"{where}{node}{self.problem}"]
        if self.code_line is not None:
            prefix = f"    code line {self.code_line.number} | "
            lines.append(prefix + self.code_line.text.rstrip())
            if self.code_line.column is not None:
                lines.append(" " * (len(prefix) + self.code_line.column) + "^")
        if self.hint:
            lines.append(f"hint: {self.hint}")
        return "\n".join(lines)


class WorkflowError(_Report, ValueError):
    """Bad workflow input: says where (file:line, node id), what, and what to do."""


class WorkflowErrors(WorkflowError):
    """Several errors about one workflow, reported together (``errors``); the first is its own."""

    def __init__(self, errors: list[WorkflowError]) -> None:
        self.errors = list(errors)
        first = errors[0]
        super().__init__(first.problem, location=first.location, node_id=first.node_id, hint=first.hint)

    def render(self) -> str:
        return f"{len(self.errors)} errors in the workflow:\n" + "\n".join(error.render() for error in self.errors)


class WorkflowWarning(_Report, UserWarning):
    """Code that compiles but most likely does not do what its author meant; under --strict it is
    a WorkflowError instead."""


class CompilerBug(RuntimeError):
    """The compiler produced code that does not parse: a bug in kailash-compile, not in the workflow."""


class TemplateError(ValueError):
    """A user's template (``--templates DIR``) that cannot render, or renders code that is not a
    valid module: the message names the template file and what is wrong with it."""


class GeneratedModuleError(WorkflowError, TemplateError):
    """A generated module breaks a rule every compiled module keeps (see
    ``kailash.targets.asyncio.validate``): a template emitted code it must not. With a user's
    templates that is the template's fault (so it is a TemplateError too); with kailash-compile's
    own, a bug, which the message says."""

    def __init__(
        self,
        rule: str,
        problem: str,
        *,
        module_file: str,
        line: int,
        text: str,
        template: str,
        location: Location | None = None,
        node_id: str | None = None,
        hint: str | None = None,
    ) -> None:
        self.rule = rule
        self.module_file = module_file
        self.line = line
        self.text = text
        self.template = template
        super().__init__(problem, location=location, node_id=node_id, hint=hint)

    def render(self) -> str:
        where = f"{self.location}: " if self.location else ""
        node = f"node {self.node_id!r}: " if self.node_id is not None else ""
        lines = [
            f"{where}{node}the generated module breaks the rule that {self.rule}: {self.problem}",
            f"    {self.module_file}:{self.line} (from template {self.template}) | {self.text.rstrip()}",
        ]
        if self.hint:
            lines.append(f"hint: {self.hint}")
        return "\n".join(lines)
