"""The command line of a Temporal module: ``worker``, ``run``, ``start`` and ``result``.

``python out/<name>.py worker`` serves the workflow's task queue until SIGTERM or SIGINT;
``run --inputs '<json>'`` starts a run, waits and prints the result as the asyncio target
does (same JSON, same exit codes); ``start`` prints the id of a run it starts; ``result
--id ID`` waits for that run and prints its result.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib.util
import os
import signal
import sys
import uuid
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType
from typing import Any, NoReturn

from temporalio.client import Client, WorkflowFailureError
from temporalio.exceptions import ApplicationError
from temporalio.worker import Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from .._json_output import result_json
from .._main import EXIT_BAD_INPUT, EXIT_NODE_FAILED, _inputs
from ._activities import Nodes
from ._converter import data_converter

DEFAULT_ADDRESS = "localhost:7233"

USAGE_NOTES = """
commands:
  worker   run a worker for this workflow until SIGTERM or SIGINT (Ctrl-C)
  run      start a run, wait for it and print its result
  start    start a run and print its workflow id
  result   wait for the run --id names and print its result

The server is TEMPORAL_ADDRESS (default localhost:7233) unless --address is given.
The result is printed as JSON: {"results": {node id: output}, "errors": {node id: message}}.
exit status of run and result: 0 every node succeeded, 1 a node failed, 2 the inputs were
refused (or the run could not be found or did not finish).
"""


def main(workflow_class: type, nodes: Nodes, task_queue: str, argv: Sequence[str] | None = None) -> None:
    """Parse the command line and do what it says."""
    module = _importable(sys.modules[workflow_class.__module__])
    workflow_class = getattr(module, workflow_class.__name__)
    nodes = getattr(module, "NODES", nodes)
    args = _parser(module, task_queue).parse_args(argv)
    if args.command == "worker":
        asyncio.run(_serve(args, module, workflow_class, nodes))
        _exit(0)
    inputs = _inputs(args.inputs) if args.command in ("run", "start") else {}
    try:
        result = asyncio.run(_client_command(args, workflow_class, nodes, inputs))
    except _Refused as refused:  # sys.exit inside the loop would end the process under the SDK's threads
        _fail(str(refused))
    if result is not None:
        print(result_json(result, warn=lambda message: print(f"warning: {message}", file=sys.stderr)))
    _exit(EXIT_NODE_FAILED if result is not None and result["errors"] else 0)


def _exit(status: int) -> NoReturn:
    """End the process now: the SDK's native threads can crash the interpreter's finalization
    (SIGSEGV, or an abort) after the work is done, which would turn a result into a failure."""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)


def _parser(module: ModuleType, task_queue: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description=module.__doc__ or "Run the compiled workflow on Temporal.",
        epilog=USAGE_NOTES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="{worker,run,start,result}")
    for name, helped in [
        ("worker", "run a worker until SIGTERM or SIGINT"),
        ("run", "start a run, wait, print its result"),
        ("start", "start a run, print its workflow id"),
        ("result", "wait for a run, print its result"),
    ]:
        command = commands.add_parser(name, help=helped)
        command.add_argument(
            "--address", default=os.environ.get("TEMPORAL_ADDRESS") or DEFAULT_ADDRESS, help="HOST:PORT of the server"
        )
        command.add_argument("--namespace", default=os.environ.get("TEMPORAL_NAMESPACE") or "default")
        command.add_argument(
            "--task-queue", default=task_queue, help=f"default {task_queue} (from the workflow's IR hash)"
        )
        if name in ("run", "start"):
            command.add_argument("--inputs", default="{}", help="workflow inputs as a JSON object, or @path to a file")
            command.add_argument("--id", help="the workflow id (default: the workflow name and a random suffix)")
        if name == "worker":
            command.add_argument(
                "--max-concurrent-activities",
                type=int,
                default=None,
                help="most activities this worker runs at once (default: the SDK's, 100)",
            )
        if name == "result":
            command.add_argument("--id", required=True, help="the workflow id start printed")
    return parser


def _importable(module: ModuleType) -> ModuleType:
    """The module under its own name: run as a script it is ``__main__``, which the workflow
    sandbox cannot import again, so the file is imported as ``<stem>`` instead."""
    if module.__name__ != "__main__" or module.__file__ is None:
        return module
    path = Path(module.__file__).resolve()
    name = path.stem
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    imported = importlib.util.module_from_spec(spec)
    sys.modules[name] = imported
    spec.loader.exec_module(imported)
    return imported


def workflow_runner(module_name: str) -> SandboxedWorkflowRunner:
    """Temporal's sandbox with the module passed through (imported once, not again for every
    run), as is kailash_rt: the workflow code they hold does no I/O, time or randomness."""
    restrictions = SandboxRestrictions.default.with_passthrough_modules("kailash_rt", module_name)
    return SandboxedWorkflowRunner(restrictions=restrictions)


def worker_for(
    client: Client,
    module: ModuleType,
    workflow_class: type,
    nodes: Nodes,
    task_queue: str,
    max_concurrent_activities: int | None = None,
) -> Worker:
    """A worker of the workflow and its node activities."""
    return Worker(
        client,
        task_queue=task_queue,
        workflows=[workflow_class],
        activities=nodes.definitions(),
        workflow_runner=workflow_runner(module.__name__),
        max_concurrent_activities=max_concurrent_activities,
    )


async def _serve(args: argparse.Namespace, module: ModuleType, workflow_class: type, nodes: Nodes) -> None:
    try:
        client = await _connect(args)
    except _Refused as refused:
        _fail(str(refused))
    worker = worker_for(client, module, workflow_class, nodes, args.task_queue, args.max_concurrent_activities)
    loop = asyncio.get_running_loop()
    stopping = asyncio.Event()
    for signal_number in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(signal_number, stopping.set)
    print(f"worker: task queue {args.task_queue} on {args.address}", file=sys.stderr, flush=True)
    try:
        async with worker:
            await stopping.wait()
    finally:
        await nodes.aclose()  # the worker's resources, once its activities are done
    print("worker: stopped; resources closed", file=sys.stderr)


async def _connect(args: argparse.Namespace) -> Client:
    try:
        return await Client.connect(args.address, namespace=args.namespace, data_converter=data_converter)
    except RuntimeError as exc:
        raise _Refused(f"cannot connect to the Temporal server at {args.address}: {exc}") from None


async def _client_command(
    args: argparse.Namespace, workflow_class: type, nodes: Nodes, inputs: dict[str, Any]
) -> dict[str, Any] | None:
    client = await _connect(args)
    run_method = workflow_class.run  # type: ignore[attr-defined]
    if args.command == "result":
        handle = client.get_workflow_handle(args.id)
    else:
        workflow_id = args.id or f"{nodes.workflow}-{uuid.uuid4().hex}"
        handle = await client.start_workflow(run_method, inputs, id=workflow_id, task_queue=args.task_queue)
        if args.command == "start":
            print(workflow_id)
            return None
    try:
        result: dict[str, Any] = await handle.result()
    except WorkflowFailureError as failed:
        cause = failed.cause
        if isinstance(cause, ApplicationError) and cause.type == "InputError":
            raise _Refused(cause.message) from None
        raise _Refused(f"workflow {handle.id} failed: {cause or failed}") from None
    except Exception as exc:  # not found, or the server went away
        raise _Refused(f"cannot read the result of workflow {handle.id}: {exc}") from None
    return result


class _Refused(Exception):
    """A command that cannot be done: its message is printed and the process exits with status 2."""


def _fail(message: str) -> NoReturn:
    print(f"error: {message}", file=sys.stderr)
    _exit(EXIT_BAD_INPUT)
