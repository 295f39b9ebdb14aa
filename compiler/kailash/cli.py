"""The ``kailash-compile`` command line."""

from __future__ import annotations

import difflib
import os
import sys
import traceback
import warnings
from pathlib import Path

import click

from ._files import write_atomically
from .codegen import GeneratedModule, compile_ir
from .errors import CompilerBug, WorkflowError, WorkflowWarning
from .ir import WorkflowIR
from .source_text import split_lines
from .sources import SourceError, load_workflows

EXIT_STALE = 1
EXIT_ERROR = 2


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("sources", nargs=-1, required=True, metavar="SOURCE...")
@click.option(
    "-o",
    "--output",
    "output_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Directory for the generated modules.",
)
@click.option("--check", is_flag=True, help="Write nothing; exit 1 listing modules that are missing or stale.")
@click.option("--diff", "show_diff", is_flag=True, help="Print a unified diff of what would change; write nothing.")
@click.option("--stdout", "to_stdout", is_flag=True, help="Print the generated modules instead of writing them.")
@click.option(
    "--strict",
    is_flag=True,
    help="Make names that no connection, resource or import binds an error, and every warning too.",
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
    verbose: bool,
) -> None:
    """Compile workflows into standalone asyncio modules.

    SOURCE is path/to/file.py, path/to/file.py:attr or package.module:attr. Without
    :attr every module-level AsyncWorkflowBuilder or Workflow is compiled; attr may
    also name a zero-argument function returning one or several. Each workflow is
    written to DIR/<workflow name>.py.
    """
    if output_dir is None and not to_stdout:
        raise click.UsageError("give -o DIR (or --stdout)")
    if to_stdout and (check or show_diff):
        raise click.UsageError("--stdout prints the modules; it does not combine with --check or --diff")
    sys.path.insert(0, os.getcwd())
    modules = _compile_all(sources, strict, verbose)
    if to_stdout:
        for module in modules:
            click.echo(module.source, nl=False)
        return
    assert output_dir is not None
    changed = [m for m in modules if _read(output_dir / m.filename) != m.source]
    if check or show_diff:
        for module in changed:
            path = output_dir / module.filename
            if show_diff:
                old = split_lines(_read(path) or "", keepends=True)  # Python's lines: U+2028 breaks none
                new = split_lines(module.source, keepends=True)
                click.echo("".join(difflib.unified_diff(old, new, str(path), str(path))), nl=False)
            else:
                state = "stale" if path.exists() else "missing"
                click.echo(f"{state}: {path}", err=True)
        if changed and check:
            sys.exit(EXIT_STALE)
        return
    output_dir.mkdir(parents=True, exist_ok=True)
    for module in changed:
        write_atomically(output_dir / module.filename, module.source)
    click.echo(
        f"compiled {len(modules)} workflow(s) to {output_dir}: {len(changed)} written,"
        f" {len(modules) - len(changed)} unchanged",
        err=True,
    )


def _compile_all(sources: tuple[str, ...], strict: bool, verbose: bool) -> list[GeneratedModule]:
    """Every workflow of every source, compiled before anything is written."""
    modules: list[GeneratedModule] = []
    names: dict[str, str] = {}
    for source in sources:
        try:
            found = load_workflows(source)
            for item in found:
                module = _compile(item.workflow.ir, strict)
                if module.filename in names:
                    raise SourceError(
                        f"{source}: workflow {item.workflow.name!r} would be written to {module.filename},"
                        f" which {names[module.filename]} already writes; give the workflows distinct names"
                    )
                names[module.filename] = f"{item.source}:{item.attribute}"
                modules.append(module)
        except WorkflowError as exc:
            _fail(str(exc), exc if verbose else None)
        except SourceError as exc:
            if exc.cause is None:
                _fail(str(exc), None)
            traceback.print_exception(exc.cause, file=sys.stderr)
            _fail(f"{exc}\nhint: fix the error above in the workflow file; it must import cleanly", None)
        except CompilerBug as exc:
            _fail(f"internal error: {exc}", exc)
    return modules


def _compile(ir: WorkflowIR, strict: bool) -> GeneratedModule:
    """Compile one workflow, printing its warnings as ``warning: ...``."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", WorkflowWarning)
        module = compile_ir(ir, strict=strict, jobs=os.cpu_count() or 1)
    for warning in caught:
        if isinstance(warning.message, WorkflowWarning):
            click.echo(f"warning: {warning.message}", err=True)
        else:
            warnings.showwarning(warning.message, warning.category, warning.filename, warning.lineno)
    return module


def _fail(message: str, exc: BaseException | None) -> None:
    if exc is not None:
        traceback.print_exception(exc, file=sys.stderr)
    click.echo(f"error: {message}", err=True)
    sys.exit(EXIT_ERROR)


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None


if __name__ == "__main__":
    main()
