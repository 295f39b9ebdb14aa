"""The ``kailash-compile`` command line."""

from __future__ import annotations

import difflib
import os
import sys
import traceback
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

import click

from ._files import write_output
from ._outputs import OutputError, changed_files, output_files
from .codegen import GeneratedModule, compile_ir
from .errors import CompilerBug, TemplateError, WorkflowError, WorkflowWarning
from .graph_cli import graph
from .source_text import split_lines
from .sources import FoundIR, SourceError, compiling, load_irs
from .targets.temporal.compile import compile_temporal

EXIT_STALE = 1
EXIT_ERROR = 2


_COMPILE_ONLY = frozenset(
    {"-o", "--output", "--stdout", "--check", "--diff", "--emit-ir", "--graph", "--strict", "--target"}
)


class _CompileCommand(click.Command):
    """The compile command, which also answers ``kailash-compile graph ...``: a first argument
    spelled exactly ``graph`` is that command. A module named ``graph`` is compiled as
    ``graph:ATTR`` (a workflow file has a .py name, so it is never spelled ``graph``)."""

    def main(  # type: ignore[override]  # click overloads main() on standalone_mode; this keeps its behaviour
        self, args: Sequence[str] | None = None, prog_name: str | None = None, **extra: Any
    ) -> Any:
        argv = list(sys.argv[1:] if args is None else args)
        if argv[:1] == ["graph"]:
            if _COMPILE_ONLY.intersection(argv):
                _fail(
                    "'kailash-compile graph SOURCE' prints a workflow's graph and does not compile; to compile"
                    " a module named graph, name its workflow as graph:ATTR",
                    None,
                )
            return graph.main(argv[1:], f"{prog_name or self.name or 'kailash-compile'} graph", **extra)
        return super().main(argv, prog_name, **extra)


@click.command(
    cls=_CompileCommand,
    name="kailash-compile",
    context_settings={"help_option_names": ["-h", "--help"]},
    epilog="kailash-compile graph SOURCE [--format mermaid|dot] prints a workflow's graph (see its --help).",
)
@click.argument("sources", nargs=-1, required=True, metavar="SOURCE...")
@click.option(
    "-o",
    "--output",
    "output_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help=(
        "Directory for the generated modules. A new module gets the permissions the umask allows, an existing"
        " one keeps its mode, and one that is a symbolic link is written through to its target."
    ),
)
@click.option("--check", is_flag=True, help="Write nothing; exit 1 listing the files that are missing or stale.")
@click.option("--diff", "show_diff", is_flag=True, help="Print a unified diff of what would change; write nothing.")
@click.option(
    "--stdout",
    "to_stdout",
    is_flag=True,
    help="Print the generated modules instead of writing them (several: each after a line '# ==> NAME.py <==').",
)
@click.option(
    "--strict",
    is_flag=True,
    help="Make names that no connection, resource or import binds an error, and every warning too.",
)
@click.option(
    "--emit-ir",
    is_flag=True,
    help="Also write each workflow's IR to DIR/<module>.ir.json (secrets only as variable names).",
)
@click.option(
    "--vendor-runtime",
    is_flag=True,
    help="Also write the kailash_rt package into DIR, so the modules run on a Python with nothing installed.",
)
@click.option(
    "--templates",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    metavar="DIR",
    help="Templates that replace the shipped templates of the same file name (output still validated and formatted).",
)
@click.option(
    "--target",
    type=click.Choice(["asyncio", "temporal"]),
    default="asyncio",
    show_default=True,
    help="asyncio: a standalone module; temporal: a durable Temporal workflow module (kailash-compile[temporal]).",
)
@click.option(
    "--graph",
    "write_graph",
    is_flag=True,
    help="Also write each workflow's graph to DIR/<module>.mmd (Mermaid; a pull request shows it beside the code).",
)
@click.option("-v", "--verbose", is_flag=True, help="Show tracebacks of internal errors.")
@click.version_option(package_name="kailash-compile")
def main(
    sources: tuple[str, ...],
    output_dir: Path | None,
    check: bool,
    show_diff: bool,
    to_stdout: bool,
    strict: bool,
    emit_ir: bool,
    vendor_runtime: bool,
    templates: Path | None,
    target: str,
    write_graph: bool,
    verbose: bool,
) -> None:
    """Compile workflows into standalone asyncio modules (Temporal workflow modules with --target temporal).

    SOURCE is path/to/file.py, path/to/file.py:attr, package.module:attr or
    path/to/file.ir.json. Without :attr every module-level AsyncWorkflowBuilder or Workflow
    is compiled; attr may also name a zero-argument function returning one or several. An
    .ir.json file (as --emit-ir writes it, or another tool) holds one workflow's IR. Each
    workflow is written to DIR/<workflow name>.py.
    """
    if output_dir is None and not to_stdout:
        raise click.UsageError("give -o DIR (or --stdout)")
    if to_stdout and (check or show_diff or emit_ir or vendor_runtime or write_graph):
        raise click.UsageError(
            "--stdout prints the modules; it does not combine with --check, --diff, --emit-ir,"
            " --vendor-runtime or --graph"
        )
    if templates is not None and target != "asyncio":
        raise click.UsageError("--templates replaces asyncio templates; it does not combine with --target temporal")
    sys.path.insert(0, os.getcwd())
    modules = _compile_all(sources, strict, templates, verbose, target)
    if to_stdout:
        for index, module in enumerate(modules):
            if len(modules) > 1:  # one module is printed exactly as its file would be
                if index > 0:
                    click.echo()
                click.echo(f"# ==> {module.filename} <==")
            click.echo(module.source, nl=False)
        return
    assert output_dir is not None
    files = output_files(modules, emit_ir=emit_ir, vendor_runtime=vendor_runtime, graph=write_graph)
    try:
        changed = changed_files(files, output_dir)
    except OutputError as exc:
        _fail(str(exc), None)
    if check or show_diff:
        for file, old in changed:
            path = output_dir / file.filename
            if show_diff:
                lines = split_lines(old or "", keepends=True)  # Python's lines: U+2028 breaks none
                new = split_lines(file.text, keepends=True)
                click.echo("".join(difflib.unified_diff(lines, new, str(path), str(path))), nl=False)
            else:
                click.echo(f"{'missing' if old is None else 'stale'}: {path}", err=True)
        if changed and check:
            sys.exit(EXIT_STALE)
        return
    try:
        output_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        _fail(f"cannot create the output directory {output_dir}: {exc.strerror or exc}", None)
    for file, _ in changed:
        path = output_dir / file.filename
        try:
            path.parent.mkdir(parents=True, exist_ok=True)  # the runtime's package directories
            write_output(path, file.text)
        except OSError as exc:
            _fail(f"cannot write {path}: {exc.strerror or exc}", None)
    click.echo(
        f"compiled {len(modules)} workflow(s) to {output_dir}: {len(changed)} written,"
        f" {len(files) - len(changed)} unchanged",
        err=True,
    )


def _compile_all(
    sources: tuple[str, ...], strict: bool, templates: Path | None, verbose: bool, target: str = "asyncio"
) -> list[GeneratedModule]:
    """Every workflow of every source, compiled before anything is written."""
    modules: list[GeneratedModule] = []
    names: dict[str, str] = {}
    for source in sources:
        try:
            for found in load_irs(source):
                module = _compile(found, strict, templates, target)
                if module.filename in names:
                    raise SourceError(
                        f"{source}: workflow {found.ir.name!r} would be written to {module.filename},"
                        f" which {names[module.filename]} already writes; give the workflows distinct names"
                    )
                names[module.filename] = found.label
                modules.append(module)
        except (WorkflowError, TemplateError) as exc:
            _fail(str(exc), exc if verbose else None)
        except SourceError as exc:
            if exc.cause is None:
                _fail(str(exc), exc if verbose else None)
            traceback.print_exception(exc.cause, file=sys.stderr)
            _fail(f"{exc}\nhint: fix the error above in the workflow file; it must import cleanly", None)
        except CompilerBug as exc:
            _fail(f"internal error: {exc}", exc)
    return modules


def _compile(found: FoundIR, strict: bool, templates: Path | None, target: str = "asyncio") -> GeneratedModule:
    """Compile one workflow, printing its warnings as ``warning: ...``."""
    with warnings.catch_warnings(record=True) as caught, compiling(found):
        warnings.simplefilter("always", WorkflowWarning)
        jobs = os.cpu_count() or 1
        if target == "temporal":
            module = compile_temporal(found.ir, strict=strict, jobs=jobs)
        else:
            module = compile_ir(found.ir, strict=strict, jobs=jobs, templates=templates)
    for warning in caught:
        if isinstance(warning.message, WorkflowWarning):
            click.echo(f"warning: {warning.message}", err=True)
        else:
            warnings.showwarning(warning.message, warning.category, warning.filename, warning.lineno)
    return module


def _fail(message: str, exc: BaseException | None) -> NoReturn:
    if exc is not None:
        traceback.print_exception(exc, file=sys.stderr)
    click.echo(f"error: {message}", err=True)
    sys.exit(EXIT_ERROR)


if __name__ == "__main__":
    main()
