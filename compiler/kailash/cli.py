"""The ``kailash-compile`` command line."""

from __future__ import annotations

import contextlib
import difflib
import os
import sys
import traceback
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import click

from .config import SETTINGS, TABLE, ConfigError, ProjectConfig, load_config, toml_text
from .errors import CompilerBug, TemplateError, WorkflowError, WorkflowWarning

if TYPE_CHECKING:
    from .codegen import GeneratedModule

# The compiler's stages are imported where a command first needs them, not here: `--help`
# starts at once, a compile loads no graph code, and `graph` no code generator.

EXIT_STALE = 1
EXIT_ERROR = 2
_CONFIG = "kailash.config"  # where the --config callback leaves the ProjectConfig, in ctx.meta


def _read_config(ctx: click.Context, param: click.Parameter, value: Path | None) -> Path | None:
    """Load the project configuration before the other options, which take their defaults from it."""
    try:
        config = load_config(value)
        ctx.default_map = _defaults(ctx, config)
    except ConfigError as exc:
        _fail(str(exc), None)
    ctx.meta[_CONFIG] = config
    return value


def _defaults(ctx: click.Context, config: ProjectConfig) -> dict[str, object]:
    """The option defaults the configuration gives: each key is the option of the same name
    (``output`` is ``-o``), checked as the option checks its value. A key of an option this
    version lacks is an error unless its value asks for nothing (``vendor-runtime = false``)."""
    options = {param.name: param for param in ctx.command.params if isinstance(param, click.Option)}
    defaults: dict[str, object] = {}
    for key, value in config.values.items():
        if key == "sources":
            continue  # used when the command line names none (see main)
        name = "output_dir" if key == "output" else key.replace("-", "_")
        option = options.get(name)
        if option is None:
            if value == SETTINGS[key].off:
                continue
            raise ConfigError(
                f"{config.label}: [tool.{TABLE}] {key} = {toml_text(value)} asks for --{key},"
                " which this kailash-compile does not have\nhint: upgrade kailash-compile, or remove the key"
            )
        given = config.path(key) if SETTINGS[key].kind == "path" else value
        try:
            option.type_cast_value(ctx, given)
        except click.BadParameter as exc:
            raise ConfigError(f"{config.label}: [tool.{TABLE}] {key}: {exc.message}") from None
        defaults[name] = given
    return defaults


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
            from .graph_cli import graph

            return graph.main(argv[1:], f"{prog_name or self.name or 'kailash-compile'} graph", **extra)
        return super().main(argv, prog_name, **extra)


@click.command(
    cls=_CompileCommand,
    name="kailash-compile",
    context_settings={"help_option_names": ["-h", "--help"]},
    epilog="kailash-compile graph SOURCE [--format mermaid|dot] prints a workflow's graph (see its --help).",
)
@click.argument("sources", nargs=-1, metavar="[SOURCE]...")
@click.option(
    "--config",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    is_eager=True,
    callback=_read_config,
    expose_value=False,
    help=(
        f"The pyproject.toml whose [tool.{TABLE}] table gives the defaults of these options; without"
        " --config the first one that has the table, from the current directory upwards."
    ),
)
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
    "--strict/--no-strict",
    default=False,
    help=(
        "Make a name a code block reads that nothing binds (no connection, declared input,"
        " resource, import or definition copied from the workflow file) an error, and every warning too."
    ),
)
@click.option(
    "--emit-ir",
    is_flag=True,
    help="Also write each workflow's IR to DIR/<module>.ir.json (secrets only as variable names).",
)
@click.option(
    "--vendor-runtime/--no-vendor-runtime",
    default=False,
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

    Without SOURCE, the sources of [tool.kailash-compile] in pyproject.toml are compiled;
    its other keys (output, strict, templates, ...) are the defaults of the options.
    """
    config: ProjectConfig = click.get_current_context().meta[_CONFIG]
    if not sources:
        try:
            sources = tuple(config.sources())
        except ConfigError as exc:
            _fail(str(exc), None)
    if not sources:
        raise click.UsageError(f"give SOURCE... (or sources in [tool.{TABLE}] of pyproject.toml)")
    if output_dir is None and not to_stdout:
        raise click.UsageError(f"give -o DIR (or --stdout, or output in [tool.{TABLE}] of pyproject.toml)")
    if to_stdout and (check or show_diff or emit_ir or vendor_runtime or write_graph):
        raise click.UsageError(
            "--stdout prints the modules; it does not combine with --check, --diff, --emit-ir,"
            " --vendor-runtime or --graph"
        )
    if templates is not None and target != "asyncio":
        raise click.UsageError("--templates replaces asyncio templates; it does not combine with --target temporal")
    from ._location import paths_relative_to
    from ._outputs import OutputError, changed_files, output_files, write_files
    from .source_text import split_lines

    for directory in dict.fromkeys([str(config.root), os.getcwd()]):  # for package.module sources
        sys.path.insert(0, directory)
    with paths_relative_to(config.root):
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
        write_files(changed, output_dir)
    except OutputError as exc:
        _fail(str(exc), None)
    click.echo(
        f"compiled {len(modules)} workflow(s) to {output_dir}: {len(changed)} written,"
        f" {len(files) - len(changed)} unchanged",
        err=True,
    )


def _compile_all(
    sources: tuple[str, ...], strict: bool, templates: Path | None, verbose: bool, target: str = "asyncio"
) -> list[GeneratedModule]:
    """Every workflow of every source, compiled before anything is written; warnings printed
    as ``warning: ...``."""
    from .compile_api import compile_sources
    from .sources import SourceError

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", WorkflowWarning)
        try:
            return compile_sources(sources, strict=strict, templates=templates, jobs=os.cpu_count() or 1, target=target)
        except (WorkflowError, TemplateError) as exc:
            _fail(str(exc), exc if verbose else None, caught)
        except SourceError as exc:
            if exc.cause is None:
                _fail(str(exc), exc if verbose else None, caught)
            _show_warnings(caught)
            traceback.print_exception(exc.cause, file=sys.stderr)
            _fail(f"{exc}\nhint: fix the error above in the workflow file; it must import cleanly", None)
        except CompilerBug as exc:
            _fail(f"internal error: {exc}", exc, caught)
        finally:
            _show_warnings(caught)


def _show_warnings(caught: list[warnings.WarningMessage]) -> None:
    """Print the warnings caught so far (once: the list is emptied)."""
    for warning in caught:
        if isinstance(warning.message, WorkflowWarning):
            click.echo(f"warning: {warning.message}", err=True)
        else:  # formatted, not shown: showwarning() would add it to ``caught`` again, while it is being read
            text = warnings.formatwarning(
                warning.message, warning.category, warning.filename, warning.lineno, warning.line
            )
            click.echo(text, err=True, nl=False)
    caught.clear()


def _fail(message: str, exc: BaseException | None, caught: list[warnings.WarningMessage] | None = None) -> NoReturn:
    _show_warnings(caught or [])
    if exc is not None:
        traceback.print_exception(exc, file=sys.stderr)
    click.echo(f"error: {message}", err=True)
    sys.exit(EXIT_ERROR)


def run() -> NoReturn:
    """The ``kailash-compile`` command as a program: ``main``, then an exit that skips freeing
    every object the compile made, one by one, which costs a large workflow's edit loop a tenth
    of its time (files written are closed by then; what is printed is flushed here). Black
    imports itself meanwhile in a process of its own, for the chunks an edit changed."""
    from . import black_helper

    black_helper.start()
    try:
        main()
    except SystemExit as exc:
        status = exc.code
    else:
        status = 0
    if status is None:
        status = 0
    elif not isinstance(status, int):  # as Python exits for sys.exit("message")
        print(status, file=sys.stderr)
        status = 1
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # a closed pipe: what it did not take is lost anyway
            stream.flush()
    if "logging" in sys.modules:
        sys.modules["logging"].shutdown()
    black_helper.stop()
    os._exit(status)


if __name__ == "__main__":
    run()
