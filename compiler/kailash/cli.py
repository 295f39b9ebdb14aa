"""The ``kailash-compile`` command line."""

from __future__ import annotations

import difflib
import os
import sys
import traceback
import warnings
from pathlib import Path
from typing import NoReturn

import click

from ._files import write_output
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
    help=(
        "Directory for the generated modules. A new module gets the permissions the umask allows, an existing"
        " one keeps its mode, and one that is a symbolic link is written through to its target."
    ),
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
    try:
        changed = _changed(modules, output_dir)
    except _OutputError as exc:
        _fail(str(exc), None)
    if check or show_diff:
        for module, old in changed:
            path = output_dir / module.filename
            if show_diff:
                lines = split_lines(old or "", keepends=True)  # Python's lines: U+2028 breaks none
                new = split_lines(module.source, keepends=True)
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
    for module, _ in changed:
        path = output_dir / module.filename
        try:
            write_output(path, module.source)
        except OSError as exc:
            _fail(f"cannot write {path}: {exc.strerror or exc}", None)
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


def _fail(message: str, exc: BaseException | None) -> NoReturn:
    if exc is not None:
        traceback.print_exception(exc, file=sys.stderr)
    click.echo(f"error: {message}", err=True)
    sys.exit(EXIT_ERROR)


class _OutputError(Exception):
    """An output path the modules cannot be written to; found before anything is written."""


def _changed(modules: list[GeneratedModule], output_dir: Path) -> list[tuple[GeneratedModule, str | None]]:
    """The modules whose file is missing or differs, each with the file's text (None if missing)."""
    limit = _name_max(output_dir)
    changed = []
    for module in modules:
        size = len(os.fsencode(module.filename))
        if size > limit:
            raise _OutputError(
                WorkflowError(
                    f"workflow {_abbreviated(module.plan.ir.name)!r} is written to a file name of {size} bytes;"
                    f" file names in {output_dir} may have at most {limit}",
                    location=module.plan.ir.location,
                    hint="give the workflow a shorter name (or print the module with --stdout)",
                ).render()
            )
        old = _read(output_dir / module.filename, output_dir)
        if old != module.source:
            changed.append((module, old))
    return changed


def _read(path: Path, output_dir: Path) -> str | None:
    """The text of an output file, None if there is none; _OutputError if it cannot be one."""
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except IsADirectoryError:
        raise _OutputError(
            f"{path} is a directory, so the module cannot be written there\nhint: move it away or choose another -o DIR"
        ) from None
    except NotADirectoryError:
        blocker = _file_on_the_way(output_dir)
        raise _OutputError(f"cannot use {output_dir} as the output directory: {blocker} is a file") from None
    except UnicodeDecodeError:
        raise _OutputError(
            f"{path} exists and is not UTF-8 text, so it is not a module kailash-compile wrote; it was left as it is"
            "\nhint: move it away or delete it, then compile again"
        ) from None
    except OSError as exc:
        raise _OutputError(f"cannot read {path}: {exc.strerror or exc}") from None


def _file_on_the_way(directory: Path) -> Path:
    """The first ancestor of ``directory`` (or itself) that exists and is not a directory."""
    for candidate in [*reversed(directory.parents), directory]:
        if candidate.exists() and not candidate.is_dir():
            return candidate
    return directory


def _abbreviated(name: str, length: int = 40) -> str:
    return name if len(name) <= length else name[:length] + "…"


def _name_max(directory: Path) -> int:
    """The longest file name, in bytes, the file system of ``directory`` (or its nearest
    existing ancestor) allows."""
    for candidate in [directory, *directory.parents]:
        try:
            return os.pathconf(candidate, "PC_NAME_MAX")
        except (OSError, ValueError):
            continue
    return 255


if __name__ == "__main__":
    main()
