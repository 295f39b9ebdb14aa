"""Compile a workflow IR into a Temporal module: the shared analysis, the Temporal renderer, black."""

from __future__ import annotations

import warnings

from ...analysis import analyse
from ...codegen import GeneratedModule
from ...codegen.formatting import format_chunk_texts, join_chunks
from ...errors import CompilerBug
from ...ir import WorkflowIR
from .render import render_chunks


def compile_temporal(ir: WorkflowIR, *, strict: bool = False, jobs: int = 1) -> GeneratedModule:
    """The source of the workflow's Temporal module (same plan and node code as the asyncio target)."""
    plan = analyse(ir, strict=strict)
    source = join_chunks(format_chunk_texts(render_chunks(plan, ir.location.file), jobs=jobs))
    try:
        compile(source, plan.module_name, "exec", dont_inherit=True)
    except SyntaxError as exc:
        raise CompilerBug(
            f"the generated Temporal module does not compile ({exc}); this is a kailash-compile bug"
        ) from exc
    for warning in plan.warnings:
        location = warning.location or ir.location
        warnings.warn_explicit(warning, type(warning), location.file, location.line)
    return GeneratedModule(plan.module_name, source, plan)
