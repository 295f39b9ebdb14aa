"""The guide's async patterns: ``AsyncPatterns.*`` and ``builder.add_scatter_gather``.

Each pattern records one or more nodes whose ``kind`` names the pattern and whose
``settings`` hold its literal settings; the code generator turns each into one visible
decorator of ``kailash_rt``. Nothing here runs code.

Node kinds and their settings:

- ``retry_with_backoff``: max_retries, initial_backoff, backoff_factor, max_backoff, retry_on
- ``rate_limited``: requests_per_second, burst_size
- ``circuit_breaker``: failure_threshold, reset_timeout
- ``batch_processor``: batch_size, flush_interval
- ``timeout_primary`` (timeout_seconds, fallback_id, fallback_code) and ``timeout_fallback`` (primary_id)
- ``cache_check`` / ``cache_fetch`` / ``cache_store``: cache_resource, cache_key_template,
  ttl_seconds and the ids of the other two stages
- ``parallel_fetch``: operations ({name: code}), timeout_per_operation, continue_on_error
- ``scatter`` / ``scatter_worker`` / ``gather``: worker_prefix, worker_count, the stage ids; each
  worker is connected to its shard (``items``) and the shard's first index in the input (``start``)
"""

from __future__ import annotations

import re
import string
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any, cast

from .._location import caller_location
from ..errors import WorkflowError
from ..ir import ConnectionIR, Location
from ..python_names import normal_form, python_identifier
from ..settings import (
    BatchProcessorSettings,
    CacheAsideSettings,
    CircuitBreakerSettings,
    ParallelFetchSettings,
    RateLimitedSettings,
    RetryWithBackoffSettings,
    ScatterGatherSettings,
    Settings,
    TimeoutFallbackSettings,
    TimeoutPrimarySettings,
)
from .policies import ExceptionSpec, exception_name, resolve_exception

if TYPE_CHECKING:
    from .builder import AsyncWorkflowBuilder


class PatternMethods:
    """Mixin of AsyncWorkflowBuilder: the pattern that the guide calls on the builder."""

    def add_scatter_gather(
        self,
        scatter_id: str,
        worker_prefix: str,
        gather_id: str,
        process_function: str,
        *,
        worker_count: int = 4,
        description: str | None = None,
    ) -> str:
        """Scatter ``items`` into ``worker_count`` shards, process each shard in its own node
        (``<worker_prefix>_0``, ...) with ``process_item``, gather the results in the original
        order. Returns the gather node's id, whose output is ``{"results", "statistics"}``."""
        builder = cast("AsyncWorkflowBuilder", self)
        return scatter_gather(
            builder,
            caller_location(),
            scatter_id,
            worker_prefix,
            gather_id,
            process_function,
            worker_count,
            description,
        )


class AsyncPatterns:
    """Reusable async patterns; each adds nodes to ``builder`` and returns the builder."""

    @staticmethod
    def retry_with_backoff(
        builder: AsyncWorkflowBuilder,
        node_id: str,
        operation_code: str,
        *,
        max_retries: int = 3,
        initial_backoff: float = 1.0,
        backoff_factor: float = 2.0,
        max_backoff: float = 60.0,
        retry_on: Sequence[ExceptionSpec] | None = None,
        description: str | None = None,
    ) -> AsyncWorkflowBuilder:
        """Retry ``operation_code`` up to ``max_retries`` times after the first attempt, with capped,
        jittered exponential backoff, on the ``retry_on`` exceptions (names or classes; default: any
        Exception). The output gains ``attempts`` and ``total_attempts``."""
        location = caller_location()
        settings = RetryWithBackoffSettings(max_retries, initial_backoff, backoff_factor, max_backoff)
        settings.check(node_id, location)
        settings = replace(settings, retry_on=tuple(_exception_names(retry_on, node_id, location)))
        _add(builder, node_id, "retry_with_backoff", operation_code, location, settings, description)
        return builder

    @staticmethod
    def rate_limited(
        builder: AsyncWorkflowBuilder,
        node_id: str,
        operation_code: str,
        *,
        requests_per_second: float = 10,
        burst_size: int | None = None,
        description: str | None = None,
    ) -> AsyncWorkflowBuilder:
        """Run the node at most ``requests_per_second`` times a second (``burst_size`` at once;
        default twice the rate), across every run in the process. Output gains ``_rate_limit_info``."""
        location = caller_location()
        settings = RateLimitedSettings(requests_per_second, burst_size)
        settings.check(node_id, location)
        settings = replace(settings, burst_size=settings.burst)  # the module spells out the burst it gets
        _add(builder, node_id, "rate_limited", operation_code, location, settings, description)
        return builder

    @staticmethod
    def timeout_with_fallback(
        builder: AsyncWorkflowBuilder,
        primary_node_id: str,
        fallback_node_id: str,
        primary_code: str,
        fallback_code: str,
        *,
        timeout_seconds: float = 5.0,
        description: str | None = None,
    ) -> AsyncWorkflowBuilder:
        """Run ``primary_code`` with a timeout; only when it times out or fails, ``fallback_code``.
        Both nodes output the answer, with ``_source`` "primary" or "fallback"."""
        location = caller_location()
        TimeoutPrimarySettings(timeout_seconds).check(primary_node_id, location)
        fallback = builder.make_node(
            fallback_node_id,
            "timeout_fallback",
            fallback_code,
            location,
            settings=TimeoutFallbackSettings(primary_node_id).to_dict(),
        )
        primary_settings = TimeoutPrimarySettings(timeout_seconds, fallback_node_id, fallback.code)
        _add(builder, primary_node_id, "timeout_primary", primary_code, location, primary_settings, description)
        builder.add_node_ir(fallback)
        _connect(builder, primary_node_id, "result", fallback_node_id, "answer", location)
        return builder

    @staticmethod
    def circuit_breaker(
        builder: AsyncWorkflowBuilder,
        node_id: str,
        operation_code: str,
        *,
        failure_threshold: int = 5,
        reset_timeout: float = 60.0,
        description: str | None = None,
    ) -> AsyncWorkflowBuilder:
        """Open after ``failure_threshold`` failures in a row and fail fast without running the code;
        after ``reset_timeout`` seconds let one probe through. Output gains ``_circuit_breaker_info``."""
        location = caller_location()
        settings = CircuitBreakerSettings(failure_threshold, reset_timeout)
        settings.check(node_id, location)
        _add(builder, node_id, "circuit_breaker", operation_code, location, settings, description)
        return builder

    @staticmethod
    def batch_processor(
        builder: AsyncWorkflowBuilder,
        node_id: str,
        process_batch_code: str,
        *,
        batch_size: int = 100,
        flush_interval: float = 5.0,
        description: str | None = None,
    ) -> AsyncWorkflowBuilder:
        """Process ``items`` in batches: the code sees one batch as ``items`` and sets ``batch_results``."""
        location = caller_location()
        settings = BatchProcessorSettings(batch_size, flush_interval)
        settings.check(node_id, location)
        _add(builder, node_id, "batch_processor", process_batch_code, location, settings, description)
        return builder

    @staticmethod
    def cache_aside(
        builder: AsyncWorkflowBuilder,
        cache_check_id: str,
        data_fetch_id: str,
        cache_store_id: str,
        fetch_code: str,
        *,
        cache_resource: str = "cache",
        cache_key_template: str = "key_{item_id}",
        ttl_seconds: int = 3600,
        description: str | None = None,
    ) -> AsyncWorkflowBuilder:
        """Check the cache (key formatted from the check node's inputs), run ``fetch_code`` only on a
        miss, store what was fetched as JSON for ``ttl_seconds``."""
        location = caller_location()
        CacheAsideSettings(ttl_seconds=ttl_seconds).check(cache_store_id, location)
        resource = python_identifier(cache_resource)
        if resource is None:
            raise WorkflowError(
                f"cache_resource must name a declared resource, not {cache_resource!r}",
                location=location,
                node_id=cache_check_id,
            )
        cache_resource = resource
        cache_key_template = _normal_template(cache_key_template, cache_check_id, location)
        if cache_resource in _key_fields(cache_key_template, cache_check_id, location):
            raise WorkflowError(
                f"cache_key_template {cache_key_template!r} has the field {{{cache_resource}}},"
                " the name of the cache resource",
                location=location,
                node_id=cache_check_id,
                hint="the check node receives the cache under that name; name the key field differently",
            )
        settings = CacheAsideSettings(
            cache_resource, cache_key_template, ttl_seconds, cache_check_id, data_fetch_id, cache_store_id
        ).to_dict()
        resources = [cache_resource]
        check = builder.make_node(
            cache_check_id, "cache_check", "", location, settings=settings, required_resources=resources
        )
        fetch = builder.make_node(
            data_fetch_id, "cache_fetch", fetch_code, location, settings=settings, description=description
        )
        store = builder.make_node(
            cache_store_id, "cache_store", "", location, settings=settings, required_resources=resources
        )
        for node in (check, fetch, store):
            builder.add_node_ir(node)
        _connect(builder, cache_check_id, "result", data_fetch_id, "cache_result", location)
        _connect(builder, data_fetch_id, "result", cache_store_id, "fetch_data", location)
        return builder

    @staticmethod
    def parallel_fetch(
        builder: AsyncWorkflowBuilder,
        node_id: str,
        fetch_operations: Mapping[str, str],
        *,
        timeout_per_operation: float = 10.0,
        continue_on_error: bool = True,
        description: str | None = None,
    ) -> AsyncWorkflowBuilder:
        """Run the named code blocks concurrently, each with its own timeout. Output:
        ``{"successful": {name: result}, "failed": {name: error}, "statistics": {...}}``."""
        location = caller_location()
        ParallelFetchSettings(timeout_per_operation=timeout_per_operation).check(node_id, location)
        if not isinstance(fetch_operations, Mapping) or not fetch_operations:
            raise WorkflowError(
                "fetch_operations must be a non-empty dict of {name: code}", location=location, node_id=node_id
            )
        operations: dict[str, str] = {}
        for name, code in fetch_operations.items():
            if not isinstance(name, str) or not name:
                raise WorkflowError(
                    f"operation names must be non-empty strings, not {name!r}", location=location, node_id=node_id
                )
            operations[name] = builder.make_node(f"{node_id} operation {name!r}", "code", code, location).code
        settings = ParallelFetchSettings(operations, timeout_per_operation, bool(continue_on_error))
        _add(builder, node_id, "parallel_fetch", "", location, settings, description)
        return builder


# -- helpers ---------------------------------------------------------------------------
SHARD_START = "start"  # a scatter-gather worker's input: the index of its shard's first item in the input


def scatter_gather(
    builder: AsyncWorkflowBuilder,
    location: Location,
    scatter_id: str,
    worker_prefix: str,
    gather_id: str,
    process_function: str,
    worker_count: int,
    description: str | None,
) -> str:
    from .builder import require_function

    settings = ScatterGatherSettings(scatter_id, gather_id, worker_prefix, worker_count)
    settings.check(scatter_id, location)
    if not isinstance(worker_prefix, str) or not worker_prefix.isidentifier():
        raise WorkflowError(
            f"worker_prefix must be a Python identifier, not {worker_prefix!r}",
            location=location,
            node_id=scatter_id,
            hint="the workers' ids are <worker_prefix>_0, <worker_prefix>_1, ... and it names their function",
        )
    workers = [f"{worker_prefix}_{index}" for index in range(worker_count)]
    scatter = builder.make_node(
        scatter_id, "scatter", process_function, location, settings=settings.to_dict(), description=description
    )
    require_function(scatter, "process_item")
    nodes = [scatter]
    for index, worker_id in enumerate(workers):
        nodes.append(
            builder.make_node(
                worker_id,
                "scatter_worker",
                process_function,
                location,
                settings=replace(settings, index=index).to_dict(),
            )
        )
    nodes.append(builder.make_node(gather_id, "gather", "", location, settings=settings.to_dict()))
    for node in nodes:
        builder.add_node_ir(node)
    for index, worker_id in enumerate(workers):
        _connect(builder, scatter_id, f"shard_{index}", worker_id, "items", location)
        _connect(builder, scatter_id, f"start_{index}", worker_id, SHARD_START, location)
        _connect(builder, worker_id, "results", gather_id, f"part_{index}", location)
    return gather_id


def _add(
    builder: AsyncWorkflowBuilder,
    node_id: str,
    kind: str,
    code: str,
    location: Location,
    settings: Settings,
    description: str | None,
) -> str:
    node = builder.make_node(node_id, kind, code, location, settings=settings.to_dict(), description=description)
    return builder.add_node_ir(node)


def _connect(
    builder: AsyncWorkflowBuilder, from_node: str, from_output: str, to_node: str, to_input: str, location: Location
) -> None:
    builder._connections.append(ConnectionIR(from_node, from_output, to_node, to_input, location))


def _exception_names(retry_on: Sequence[ExceptionSpec] | None, node_id: str, location: Location) -> list[str]:
    names: list[str] = []
    for spec in retry_on or ():
        try:
            name = exception_name(spec)
            resolve_exception(name)
        except ValueError as exc:
            raise WorkflowError(
                f"retry_on: {exc}",
                location=location,
                node_id=node_id,
                hint=(
                    "name a built-in exception (ConnectionError), an importable one (aiohttp.ClientError)"
                    " or a class the workflow file defines at its top level"
                ),
            ) from None
        names.append(name)
    return names


def _normal_template(template: Any, node_id: str, location: Location) -> Any:
    """The key template with its field names in normal form, as the check node's inputs (Python
    keywords) are named: ``"key_{\u210c}"`` (black-letter H) formats the input ``H``. It formats the
    same keys."""
    if not isinstance(template, str) or template.isascii():
        return template
    _key_fields(template, node_id, location)  # a template that does not parse is reported as it was written
    parts = []
    for literal, field, spec, conversion in string.Formatter().parse(template):
        parts.append(literal.replace("{", "{{").replace("}", "}}"))
        if field is not None:
            head = re.match(r"[^.\[]*", field)
            assert head is not None
            parts.append("{" + normal_form(head.group()) + field[head.end() :])
            parts.append(f"!{conversion}" if conversion else "")
            parts.append(f":{spec}}}" if spec else "}")
    return "".join(parts)


def _key_fields(template: Any, node_id: str, location: Location) -> list[str]:
    """The names the key template formats; a WorkflowError for a template that is not one."""
    problem = None
    names: list[str] = []
    if not isinstance(template, str):
        problem = "must be a string"
    else:
        try:
            for _, field, _, _ in string.Formatter().parse(template):
                if field is None:
                    continue
                name = field.split(".", 1)[0].split("[", 1)[0]
                if not name.isidentifier():
                    problem = "has an unnamed field; name every field, like {item_id}"
                elif python_identifier(name) is None:
                    problem = f"has the field {{{name}}}, a Python keyword; the fields are the node's input names"
                names.append(normal_form(name))
        except ValueError as exc:
            problem = f"is not a valid format string ({exc})"
    if problem:
        raise WorkflowError(f"cache_key_template {template!r} {problem}", location=location, node_id=node_id)
    return names
