"""``python module.py --inputs '<json>'``: run a generated module from the command line."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import signal
import sys
import traceback
from collections.abc import Callable, Coroutine, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from ._json_output import result_json
from ._observe import run_options
from ._run import InputError, UpstreamFailed

if TYPE_CHECKING:
    from ._progress import ProgressTerminal

RunFunction = Callable[..., Coroutine[Any, Any, dict[str, Any]]]

EXIT_NODE_FAILED = 1
EXIT_BAD_INPUT = 2

USAGE_NOTES = """
output:
  The result is printed as JSON: {"results": {node id: output}, "errors": {node id:
  message}}. Outputs JSON cannot hold are converted: datetime, date and time to ISO
  8601 text, timedelta to seconds, Decimal, UUID and paths to text, bytes to base64
  text, NaN and infinities to null, tuples and sets to lists, enum members to their
  value, keys that are not strings to text, anything else to its repr().

seeing a run:
  --trace run.json writes the run as Chrome trace-event JSON (open it in Perfetto or
  chrome://tracing): one event per node, per retry attempt and per map item.
  --log-level DEBUG shows each node's start and finish, retries, circuit breaker
  changes, fallbacks and rate-limit waits on stderr, each with the node id and run id.
  Long item work (parallel map, batch processor, scatter-gather) shows its progress
  on stderr when stderr is a terminal and no --log-level is given, else (with
  --log-level INFO or DEBUG) as an INFO record every 10 seconds
  (KAILASH_PROGRESS_INTERVAL=<seconds> changes how often).
  --traceback notes under an exception raised in node code the workflow file's line
  of that code.

exit status:
  0 every node succeeded, 1 a node failed (see "errors"), 2 the inputs were refused.
  SIGINT (Ctrl-C) and SIGTERM cancel the run: its nodes are cancelled and its
  resources closed (database queries included), then the process ends by that signal.
"""


def main(run: RunFunction, argv: Sequence[str] | None = None) -> None:
    """Parse ``--inputs``, run the workflow, print the result as JSON; exit 1 if a node errored."""
    module = sys.modules.get(run.__module__)
    parser = argparse.ArgumentParser(
        description=(module.__doc__ if module is not None else None) or "Run the compiled workflow.",
        epilog=USAGE_NOTES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--inputs",
        default="{}",
        help="workflow inputs as a JSON object, or @path to a UTF-8 JSON file",
    )
    parser.add_argument(
        "--traceback",
        action="store_true",
        help="print the traceback of every node that failed to stderr",
    )
    parser.add_argument(
        "--trace",
        metavar="PATH",
        type=Path,
        help="write the run as Chrome trace-event JSON to PATH (Perfetto, chrome://tracing)",
    )
    parser.add_argument(
        "--log-level",
        type=str.upper,
        choices=LOG_LEVELS,
        help="log run events at this level and above to stderr (DEBUG: every node's start and finish)",
    )
    args = parser.parse_args(argv)
    inputs = _inputs(args.inputs)
    if args.log_level is not None:
        logging.basicConfig(level=args.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # With --log-level the log has stderr: progress is then its records, not a line drawn among them.
    # Other output to stderr during the run goes through it too, to clear a drawn progress line first.
    progress = _progress_terminal() if args.log_level is None and _is_terminal(sys.stderr) else None
    stderr_during_run = contextlib.redirect_stderr(progress) if progress is not None else contextlib.nullcontext()
    try:
        with run_options(trace=args.trace is not None, progress=progress), stderr_during_run:
            result: dict[str, Any] = _run_until_signalled(run, inputs)
    except InputError as exc:
        _refuse(str(exc))
    if args.trace is not None:
        _write_trace(args.trace, getattr(result, "trace", None))
    if args.traceback:
        for node_id, failure in getattr(result, "exceptions", {}).items():
            if not isinstance(failure, UpstreamFailed):
                print(f"node {node_id!r} failed:", file=sys.stderr)
                traceback.print_exception(failure, file=sys.stderr)
    _print_result(result_json(result, warn=lambda message: print(f"warning: {message}", file=sys.stderr)))
    sys.exit(EXIT_NODE_FAILED if result["errors"] else 0)


LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


def _progress_terminal() -> ProgressTerminal:
    from ._progress import ProgressTerminal  # only a run on a terminal needs it

    return ProgressTerminal(sys.stderr)


def _is_terminal(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


def _write_trace(path: Path, trace: dict[str, Any] | None) -> None:
    """Write the run's trace; a path that cannot be written is reported, the result still printed."""
    if trace is None:
        print(f"warning: no trace of this run to write to {path}", file=sys.stderr)
        return
    try:
        path.write_text(json.dumps(trace), encoding="utf-8")
    except OSError as exc:
        print(f"warning: cannot write the trace to {path}: {exc.strerror or exc}", file=sys.stderr)


def _inputs(given: str) -> dict[str, Any]:
    """The ``--inputs`` object, from the argument or from the file ``@path`` names."""
    if given.startswith("@"):
        path = Path(given[1:])
        where = f"--inputs file {path}"
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            _refuse(f"--inputs names the file {path}, which does not exist")
        except IsADirectoryError:
            _refuse(f"--inputs names {path}, which is a directory, not a JSON file")
        except OSError as exc:
            _refuse(f"cannot read the --inputs file {path}: {exc.strerror or exc}")
    else:
        where = "--inputs"
        data = os.fsencode(given)  # undoes the surrogate escapes of bytes that are not UTF-8
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        _refuse(f"{where} is not UTF-8 text (byte {exc.start} is {data[exc.start : exc.start + 1]!r})")
    try:
        inputs = json.loads(text)
    except RecursionError:
        _refuse(f"{where} nests its JSON too deep to read")
    except json.JSONDecodeError as exc:
        _refuse(f"{where} is not valid JSON: {exc}")
    except ValueError as exc:  # an integer too long to convert
        _refuse(f"{where} cannot be read: {exc}")
    if not isinstance(inputs, dict):
        _refuse(f"{where} must be a JSON object, not {type(inputs).__name__}")
    return inputs


def _run_until_signalled(run: RunFunction, inputs: dict[str, Any]) -> dict[str, Any]:
    """``asyncio.run(run(inputs))``, except that SIGTERM, like Ctrl-C, cancels the run: its
    nodes are cancelled and its resources closed before the process ends by that signal."""
    received: list[int] = []

    async def cancellable() -> dict[str, Any]:
        loop = asyncio.get_running_loop()
        task = asyncio.current_task()
        assert task is not None

        def on_sigterm() -> None:
            received.append(signal.SIGTERM)
            loop.remove_signal_handler(signal.SIGTERM)  # a second SIGTERM ends the process at once
            task.cancel()

        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):  # no signals here
            loop.add_signal_handler(signal.SIGTERM, on_sigterm)
        return await run(inputs)

    try:
        result = asyncio.run(cancellable())
    except KeyboardInterrupt:
        _end_by(signal.SIGINT)
    except asyncio.CancelledError:
        if received:
            _end_by(signal.SIGTERM)
        raise
    if received:  # node code swallowed the cancellation; the run is still over
        _end_by(signal.SIGTERM)
    return result


def _end_by(signal_number: int) -> NoReturn:
    """End the process by ``signal_number``, as it would have ended without a handler."""
    name = signal.Signals(signal_number).name
    print(f"error: {name} received; the run was cancelled and its resources closed", file=sys.stderr)
    sys.stdout.flush()
    sys.stderr.flush()
    signal.signal(signal_number, signal.SIG_DFL)
    os.kill(os.getpid(), signal_number)
    sys.exit(128 + signal_number)  # where a signal does not end the process


def _print_result(text: str) -> None:
    """Print the result; a reader that stopped early (``| head``) ends the output, not in a traceback."""
    try:
        print(text)
        sys.stdout.flush()
    except BrokenPipeError:
        # Python flushes stdout again at exit: point it at devnull so that flush has nowhere to fail.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


def _refuse(message: str) -> NoReturn:
    print(f"error: {message}", file=sys.stderr)
    sys.exit(EXIT_BAD_INPUT)
