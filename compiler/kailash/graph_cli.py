"""``kailash-compile graph SOURCE --format mermaid|dot``: print a workflow's graph for review."""

from __future__ import annotations

import os
import sys
import traceback
from typing import NoReturn

import click

from .analysis import analyse
from .errors import CompilerBug, TemplateError, WorkflowError
from .graphs import FORMATS, workflow_graph
from .sources import SourceError, compiling, load_irs

EXIT_ERROR = 2


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("source", metavar="SOURCE")
@click.option(
    "--format",
    "graph_format",
    type=click.Choice(sorted(FORMATS)),
    default="mermaid",
    show_default=True,
    help="Mermaid flowchart (renders in a ```mermaid block on GitHub) or Graphviz DOT.",
)
@click.option("-v", "--verbose", is_flag=True, help="Show tracebacks of internal errors.")
def graph(source: str, graph_format: str, verbose: bool) -> None:
    """Print the graph of the workflow SOURCE names.

    SOURCE is what the compile command takes (path/to/file.py[:attr], package.module:attr or
    path/to/file.ir.json) and must name one workflow. Nodes show their id, kind and patterns
    (retry, timeout, fallback, breaker, limiter, map width); arrows show each connection's
    output -> input; resources are cylinders with a dashed line to every node that uses them.
    """
    sys.path.insert(0, os.getcwd())
    try:
        found = load_irs(source)
        if len(found) > 1:
            names = ", ".join(f"{item.label} ({item.ir.name!r})" for item in found)
            raise SourceError(f"{source} holds {len(found)} workflows: {names}\nhint: name one as SOURCE:attr")
        with compiling(found[0]):
            plan = analyse(found[0].ir)
    except (WorkflowError, TemplateError) as exc:
        _fail(str(exc), exc if verbose else None)
    except SourceError as exc:
        if exc.cause is not None:
            traceback.print_exception(exc.cause, file=sys.stderr)
            _fail(f"{exc}\nhint: fix the error above in the workflow file; it must import cleanly", None)
        _fail(str(exc), exc if verbose else None)
    except CompilerBug as exc:
        _fail(f"internal error: {exc}", exc)
    click.echo(FORMATS[graph_format](workflow_graph(plan)), nl=False)


def _fail(message: str, exc: BaseException | None) -> NoReturn:
    if exc is not None:
        traceback.print_exception(exc, file=sys.stderr)
    click.echo(f"error: {message}", err=True)
    sys.exit(EXIT_ERROR)
