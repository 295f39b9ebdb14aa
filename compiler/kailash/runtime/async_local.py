"""AsyncLocalRuntime: compile a workflow (cached by content), load it, run it in process."""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from types import ModuleType, TracebackType
from typing import Any, Self

from kailash_rt import UpstreamFailed
from kailash_rt._observe import run_options
from kailash_rt._settings import given_secrets

from .._lru import LRU, WORKFLOWS_KEPT
from ..codegen import GeneratedModule, compile_ir
from ..resources import ResourceRegistry
from ..resources.specs import run_resources, run_secrets
from ..workflow import Workflow
from .loader import load_module

logger = logging.getLogger("kailash.workflow.runtime")
# The logger of run events (nodes, retries, fallbacks, breakers, rate-limit waits, progress) of
# in-process runs: under "kailash.workflow", which the guide's "Debug Mode" turns on.
RUN_LOGGER = "kailash.workflow.run"
# Per workflow content (its hash, which covers no secret value): the generated module, for
# the most recently used workflows only.
_compiled: LRU[str, GeneratedModule] = LRU(WORKFLOWS_KEPT)


def compiled_module(workflow: Workflow, key: str | None = None) -> tuple[GeneratedModule, ModuleType]:
    """The generated module of ``workflow``, compiled and loaded once per content while it is
    one of the most recently used."""
    key = key if key is not None else workflow.ir.content_hash()
    generated = _compiled.get(key)
    if generated is None:
        started = time.perf_counter()
        generated = _compiled[key] = compile_ir(workflow.ir)
        logger.debug("%s: compiled in %.3fs", workflow.name, time.perf_counter() - started)
    return generated, load_module(generated, key)


class AsyncLocalRuntime:
    """Runs workflows in this process with exactly the code ``kailash-compile`` would write.

    ``async with AsyncLocalRuntime(resource_registry=registry) as runtime:`` closes the live
    resources of ``registry`` (HTTP sessions, pools, cache clients) when the block ends, as
    ``await runtime.aclose()`` does. Without a registry each run creates and closes its own.

    ``raise_on_error=True``: a run in which a node failed raises that node's exception (the
    first failed node in the module's node order, skipped nodes aside) instead of returning
    it in ``errors``; the run has finished by then and its resources are closed.

    ``trace=True``: each result carries its run as Chrome trace-event JSON in ``result.trace``.
    """

    def __init__(
        self,
        resource_registry: ResourceRegistry | None = None,
        *,
        raise_on_error: bool = False,
        trace: bool = False,
    ) -> None:
        self.resource_registry = resource_registry
        self.raise_on_error = raise_on_error
        self.trace = trace

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the live resources of the registry this runtime was given (none without one)."""
        if self.resource_registry is not None:
            await self.resource_registry.aclose()

    async def execute_workflow_async(
        self, workflow: Workflow, inputs: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        """``{"results": {node_id: output}, "errors": {node_id: "ExcType: message"}}``, a
        ``kailash_rt.RunResult`` whose ``.exceptions`` holds the exception behind each error
        (``kailash_rt.UpstreamFailed`` for a node skipped because a node it needs failed)."""
        key = workflow.ir.content_hash()
        _, module = compiled_module(workflow, key)
        resources = run_resources(workflow, self.resource_registry, key=key)
        started = time.perf_counter()
        with given_secrets(run_secrets(workflow)), run_options(logger=RUN_LOGGER, trace=self.trace):
            result: dict[str, Any] = await module.run(inputs or {}, resources=resources)
        if logger.isEnabledFor(logging.DEBUG):
            _log_run(workflow.name, result, time.perf_counter() - started)
        if self.raise_on_error:
            _raise_first(workflow.name, result)
        return result


def _raise_first(name: str, result: dict[str, Any]) -> None:
    """Raise the exception of the first node that failed on its own (not skipped), if any."""
    exceptions: dict[str, BaseException] = getattr(result, "exceptions", {})
    failed = [(node_id, exc) for node_id, exc in exceptions.items() if not isinstance(exc, UpstreamFailed)]
    if failed:
        node_id, exc = failed[0]
        exc.add_note(f"raised by node {node_id!r} of workflow {name!r} (AsyncLocalRuntime(raise_on_error=True))")
        raise exc


def _log_run(name: str, result: dict[str, Any], seconds: float) -> None:
    logger.debug("%s: ran in %.3fs: %d ok, %d errors", name, seconds, len(result["results"]), len(result["errors"]))
    for node_id, error in result["errors"].items():
        logger.debug("%s: node %r: %s", name, node_id, error)
