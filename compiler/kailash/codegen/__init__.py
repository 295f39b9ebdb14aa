"""The compiler pipeline: IR -> analysis (kailash.analysis) -> a target (kailash.targets) -> black -> validate."""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass
from pathlib import Path

from .. import compile_state
from .._collector import collector_paused
from ..analysis import ModulePlan, analyse
from ..errors import CompilerBug, TemplateError
from ..ir import WorkflowIR
from ..targets.asyncio.render import render_chunks, render_run
from ..targets.asyncio.render import templates as asyncio_templates
from ..targets.asyncio.source_lines import source_line_table
from ..targets.asyncio.validate import validate_module
from .formatting import cache_dir, format_chunk_texts, join_chunks


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
    with collector_paused():
        return _compile(ir, strict, jobs, templates)


def _compile(ir: WorkflowIR, strict: bool, jobs: int, templates: Path | None) -> GeneratedModule:
    plan = analyse(ir, strict=strict)
    chosen = asyncio_templates(templates)
    directories = [*chosen.shipped, *([chosen.user] if chosen.user else [])]
    state = compile_state.load(cache_dir(), plan.module_name, ir.location.file, directories)
    rendered = render_chunks(plan, ir.location.file, templates, run=False, state=state)
    chunks, new = _formatted(rendered, state, jobs)
    # run() comes with the lines of the formatted node code (SOURCE_LINES), so it is rendered last.
    table = source_line_table(plan, chunks, state)
    rendered.append(render_run(plan, chosen, table, state))
    run_chunks, new_run = _formatted(rendered[-1:], state, jobs)
    chunks += run_chunks
    new += [len(chunks) - 1 for _ in new_run]
    source = join_chunks(chunks)
    _check_compiles(plan, source, chunks, new, templates)
    for index in new:
        state.put(compile_state.FORMATTED, compile_state.key_of(rendered[index]), chunks[index])
    validate_module(plan, chunks, jobs=jobs, templates=templates, state=state)
    for warning in plan.warnings:
        location = warning.location or ir.location
        warnings.warn_explicit(warning, type(warning), location.file, location.line)
    state.save()
    return GeneratedModule(plan.module_name, source, plan)


def _formatted(texts: list[str], state: compile_state.ModuleState, jobs: int) -> tuple[list[str], list[int]]:
    """The chunks formatted, and the indices of those the last compile of the module did not
    have (formatted now, or read from the format cache), which are still to be compiled."""
    found = [state.get(compile_state.FORMATTED, compile_state.key_of(text)) for text in texts]
    new = [index for index, chunk in enumerate(found) if not isinstance(chunk, str)]
    # A chunk formatted now goes to the disk cache only if the state will not keep it.
    formatted = format_chunk_texts([texts[index] for index in new], jobs=jobs, write_disk=not state.saved)
    chunks = [chunk if isinstance(chunk, str) else "" for chunk in found]
    for index, chunk in zip(new, formatted, strict=True):
        chunks[index] = chunk
    return chunks, new


def _check_compiles(plan: ModulePlan, source: str, chunks: list[str], new: list[int], templates: Path | None) -> None:
    """The module compiles. Chunks the last compile of the module had compiled then; the others
    are compiled here, each on its own (chunks are whole top-level statements, so a module of
    chunks that compile compiles, unless a ``__future__`` import is not at the top: then, and
    when most chunks are new, the module is compiled whole)."""
    if not new:
        return
    chunk_by_chunk = 2 * len(new) < len(chunks) and not any("__future__" in chunk for chunk in chunks[1:])
    if chunk_by_chunk:
        try:
            for index in new:
                compile(chunks[index], plan.module_name, "exec", dont_inherit=True)
            return
        except SyntaxError:
            pass  # reported below, with its line in the module
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
    else:
        if chunk_by_chunk:
            raise CompilerBug("a chunk of the generated module does not compile alone; this is a kailash-compile bug")


__all__ = ["GeneratedModule", "compile_ir"]
