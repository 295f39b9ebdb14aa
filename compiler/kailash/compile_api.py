"""Compiling from Python: the API the ``kailash-compile`` command is a thin layer over.

    from kailash import compile_source, compile_workflow

    module = compile_workflow(builder)  # an AsyncWorkflowBuilder, a built Workflow or a WorkflowIR
    module.name, module.filename, module.source
    module.write("out/")  # as the command writes: atomically, an unchanged file left untouched

    for module in compile_source("flows/orders.py"):  # or "flows/orders.py:attr", "package.module:attr"
        module.write("out/")

    # as `kailash-compile flows/orders.py -o out/ --vendor-runtime --graph`:
    write_modules(compile_source("flows/orders.py"), "out/", vendor_runtime=True, graph=True)

Bad input raises an exception whose message is what the command prints after ``error:``:
``WorkflowError`` (a workflow the compiler refuses, naming its file and line),
``SourceError`` (a SOURCE that cannot be loaded or holds no workflow; ``cause`` is the
exception its import raised), ``TemplateError`` (a template of ``templates`` that cannot
render) and ``OutputError`` (from ``write``: a path that cannot hold the module). Code that
compiles but most likely is not what its author meant gives a ``WorkflowWarning`` through
the ``warnings`` module (with ``strict=True``, a WorkflowError instead).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from ._outputs import OutputError, write_outputs
from .codegen import GeneratedModule, compile_ir
from .errors import TemplateError, WorkflowError, WorkflowWarning
from .ir import WorkflowIR
from .sources import SourceError, compiling, load_irs
from .workflow import Workflow, WorkflowBuilder


def compile_workflow(
    workflow: WorkflowBuilder | Workflow | WorkflowIR,
    *,
    strict: bool = False,
    templates: str | os.PathLike[str] | None = None,
    jobs: int = 1,
) -> GeneratedModule:
    """Compile one workflow into the source of a standalone asyncio module.

    ``strict``: a name a code block reads that nothing binds (no connection, declared
    input, resource, import or definition copied from the workflow file) is an error, and
    so is every warning. ``templates``: a directory of templates that replace the shipped ones of
    the same file name. ``jobs`` > 1 lets black and the validator's reader run in that many
    processes when many chunks of a large workflow are new.
    """
    if isinstance(workflow, WorkflowBuilder):
        ir = workflow.build().ir
    elif isinstance(workflow, Workflow):
        ir = workflow.ir
    elif isinstance(workflow, WorkflowIR):
        ir = workflow
    else:
        raise TypeError(
            f"compile_workflow takes an AsyncWorkflowBuilder, a Workflow or a WorkflowIR, not {type(workflow).__name__}"
        )
    return compile_ir(ir, strict=strict, jobs=jobs, templates=_directory(templates))


def compile_source(
    source: str | os.PathLike[str],
    *,
    strict: bool = False,
    templates: str | os.PathLike[str] | None = None,
    jobs: int = 1,
    target: str = "asyncio",
) -> list[GeneratedModule]:
    """Compile every workflow SOURCE names, as ``kailash-compile SOURCE`` does.

    SOURCE is ``path/to/file.py`` (every module-level builder or workflow), ``path/to/file.py:attr``
    (that one, or what the zero-argument function ``attr`` returns), ``package.module:attr``
    (imported from ``sys.path``) or ``path/to/file.ir.json``; a ``pathlib.Path`` is a file. A file is
    imported by its path, under a name of its own, whatever ``sys.modules`` holds.
    ``target="temporal"``: Temporal workflow modules (``--target temporal``).
    """
    return compile_sources([source], strict=strict, templates=templates, jobs=jobs, target=target)


def compile_sources(
    sources: Iterable[str | os.PathLike[str]],
    *,
    strict: bool = False,
    templates: str | os.PathLike[str] | None = None,
    jobs: int = 1,
    target: str = "asyncio",
) -> list[GeneratedModule]:
    """Every workflow of every SOURCE, in order; a SourceError when two would be written to the
    same file name. ``target="temporal"``: Temporal workflow modules (no ``templates``)."""
    modules: list[GeneratedModule] = []
    writers: dict[str, str] = {}
    for given in sources:
        source = os.fspath(given)
        for found in load_irs(source):
            with compiling(found):
                if target == "temporal":
                    from .targets.temporal.compile import compile_temporal

                    module = compile_temporal(found.ir, strict=strict, jobs=jobs)
                else:
                    module = compile_ir(found.ir, strict=strict, jobs=jobs, templates=_directory(templates))
            if module.filename in writers:
                raise SourceError(
                    f"{source}: workflow {found.ir.name!r} would be written to {module.filename},"
                    f" which {writers[module.filename]} already writes; give the workflows distinct names"
                )
            writers[module.filename] = found.label
            modules.append(module)
    return modules


def write_modules(
    modules: Iterable[GeneratedModule],
    directory: str | os.PathLike[str],
    *,
    emit_ir: bool = False,
    vendor_runtime: bool = False,
    graph: bool = False,
) -> list[str]:
    """Write the modules into ``directory`` as ``kailash-compile -o directory`` does (each file
    atomically, an unchanged file untouched), with their IR files (``emit_ir``), the
    ``kailash_rt`` package the modules import (``vendor_runtime``: ``python directory/<name>.py``
    then runs on a Python with nothing installed) and their Mermaid graphs (``graph``). Returns
    the names of the files written; an ``OutputError`` before anything is written when a file
    cannot be."""
    return write_outputs(list(modules), Path(directory), emit_ir=emit_ir, vendor_runtime=vendor_runtime, graph=graph)


def _directory(templates: str | os.PathLike[str] | None) -> Path | None:
    return None if templates is None else Path(templates)


__all__ = [
    "GeneratedModule",
    "OutputError",
    "SourceError",
    "TemplateError",
    "WorkflowError",
    "WorkflowWarning",
    "compile_source",
    "compile_sources",
    "compile_workflow",
    "write_modules",
]
