"""The compiler pipeline: IR -> analysis (kailash.analysis) -> a target (kailash.targets) -> black -> validate."""

from __future__ import annotations

import gc
import os
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from ..analysis import ModulePlan, analyse
from ..errors import CompilerBug, TemplateError
from ..ir import WorkflowIR
from ..targets.asyncio.render import render_chunks, render_run
from ..targets.asyncio.render import templates as asyncio_templates
from ..targets.asyncio.source_lines import source_line_table
from ..targets.asyncio.validate import validate_module
from .formatting import format_chunk_texts, join_chunks


@dataclass(frozen=True)
class GeneratedModule:
    """One compiled workflow: its module ``name``, ``filename`` (``<name>.py``) and ``source``."""

    name: str  # module name: the workflow name as a Python identifier
    source: str
    plan: ModulePlan

    @property
    def filename(self) -> str:
        return f"{self.name}.py"

    def write(
        self,
        directory: str | os.PathLike[str],
        *,
        emit_ir: bool = False,
        vendor_runtime: bool = False,
        graph: bool = False,
    ) -> bool:
        """Write ``directory/<filename>`` as ``kailash-compile -o directory`` does: atomically (a
        reader never sees half a module, a failed write leaves nothing behind), the directory
        created if need be, a file with this very text left untouched; with ``emit_ir`` also
        ``<name>.ir.json`` (``--emit-ir``), with ``vendor_runtime`` the ``kailash_rt`` package
        (``--vendor-runtime``), with ``graph`` ``<name>.mmd`` (``--graph``). Returns whether a
        file was written; raises ``kailash.compile_api.OutputError`` (before writing anything)
        when one cannot be."""
        from .._outputs import write_outputs

        return bool(write_outputs([self], Path(directory), emit_ir=emit_ir, vendor_runtime=vendor_runtime, graph=graph))


def compile_ir(
    ir: WorkflowIR, *, strict: bool = False, jobs: int = 1, templates: Path | None = None
) -> GeneratedModule:
    """Compile a workflow IR into the source of a standalone asyncio module.

    The formatted module is checked with ``ast`` for the rules every compiled module keeps,
    whatever templates made it (``kailash.targets.asyncio.validate``); a broken rule is a
    GeneratedModuleError. ``jobs`` > 1 lets black and that check run in that many worker processes
    when many chunks are new. Code
    that compiles but most likely does not do what its author meant gives a ``WorkflowWarning``
    at the builder call of its node (under ``strict`` a WorkflowError instead). ``templates``
    is a directory of templates that replace the shipped ones of the same file name; what they
    render is validated and formatted as the shipped templates' output is, and a template
    that cannot render or renders invalid code is a ``TemplateError``.
    """
    with _collector_paused():
        return _compile(ir, strict, jobs, templates)


@contextmanager
def _collector_paused() -> Iterator[None]:
    """The cyclic garbage collector off during one compile: it makes few cycles, and a large
    workflow's many live objects would otherwise be traversed again and again (the compile
    time would grow faster than the workflow). What the compile leaves is collected after."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _compile(ir: WorkflowIR, strict: bool, jobs: int, templates: Path | None) -> GeneratedModule:
    plan = analyse(ir, strict=strict)
    chunks = format_chunk_texts(render_chunks(plan, ir.location.file, templates, run=False), jobs=jobs)
    # run() comes with the lines of the formatted node code (SOURCE_LINES), so it is rendered last.
    chunks += format_chunk_texts([render_run(plan, asyncio_templates(templates), source_line_table(plan, chunks))])
    source = join_chunks(chunks)
    try:
        compile(source, plan.module_name, "exec", dont_inherit=True)
    except SyntaxError as exc:
        if templates is not None:
            line = source.split("\n")[exc.lineno - 1] if exc.lineno else ""
            raise TemplateError(
                f"the module rendered with the templates of {templates} does not compile: {exc.msg}"
                f"\n    generated line {exc.lineno} | {line}"
                "\nhint: each template renders statements that also fit the module around them"
            ) from None
        raise CompilerBug(f"the generated module does not compile ({exc}); this is a kailash-compile bug") from exc
    validate_module(plan, chunks, jobs=jobs, templates=templates)
    for warning in plan.warnings:
        location = warning.location or ir.location
        warnings.warn_explicit(warning, type(warning), location.file, location.line)
    return GeneratedModule(plan.module_name, source, plan)


__all__ = ["GeneratedModule", "compile_ir"]
