"""OpenTelemetry spans of a run: one span per run, named after the workflow, and one child span
per node with ``kailash.*`` attributes; failures are recorded as exception events.

Imported only when the program has imported ``opentelemetry.trace`` itself (see
``_observe.observe_run``), and used only when a tracer provider is configured.
"""

from __future__ import annotations

from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import trace

_tracer: tuple[Any, Any] | None = None  # (provider, its tracer for kailash_rt)


def configured_tracer() -> Any:
    """The tracer of the configured tracer provider, or None when none is configured."""
    global _tracer
    provider = trace.get_tracer_provider()
    if isinstance(provider, (trace.ProxyTracerProvider, trace.NoOpTracerProvider)):
        return None
    if _tracer is None or _tracer[0] is not provider:
        _tracer = (provider, provider.get_tracer("kailash_rt"))
    return _tracer[1]


class RunSpans:
    """The spans of one run."""

    def __init__(self, tracer: Any, workflow: str, run_id: str) -> None:
        self.tracer = tracer
        self.run_id = run_id
        self.run_span = tracer.start_span(workflow, attributes={"kailash.workflow": workflow, "kailash.run_id": run_id})
        self.parent = trace.set_span_in_context(self.run_span)

    def start_node(self, node_id: str) -> Any:
        attributes = {"kailash.node_id": node_id, "kailash.run_id": self.run_id}
        return self.tracer.start_span(node_id, context=self.parent, attributes=attributes)

    def enter(self, span: Any) -> Any:
        """Make ``span`` current (for spans the node's own code starts); the token to ``leave``."""
        return otel_context.attach(trace.set_span_in_context(span))

    def leave(self, token: Any) -> None:
        otel_context.detach(token)

    def end_node(self, span: Any, attributes: dict[str, Any], error: BaseException | None) -> None:
        span.set_attributes(attributes)
        if error is not None:
            span.record_exception(error)
            span.set_status(trace.Status(trace.StatusCode.ERROR, _describe(error)))
        span.end()

    def attempt_failed(self, span: Any, number: int, error: BaseException) -> None:
        span.record_exception(error, attributes={"kailash.attempt": number})

    def fallback(self, span: Any, error: BaseException) -> None:
        span.record_exception(error, attributes={"kailash.fallback": True})

    def event(self, span: Any, name: str, attributes: dict[str, Any]) -> None:
        span.add_event(name, attributes)

    def skipped(self, node_id: str, error: BaseException) -> None:
        """A node that did not run: a span of its own, ended at once, with the reason."""
        span = self.start_node(node_id)
        span.set_attributes({"kailash.outcome": "skipped", "kailash.skipped_because": _describe(error)})
        span.set_status(trace.Status(trace.StatusCode.ERROR, _describe(error)))
        span.end()

    def end_run(self, errors: dict[str, str], failure: BaseException | None) -> None:
        span = self.run_span
        span.set_attribute("kailash.errors", len(errors))
        if failure is not None:
            span.record_exception(failure)
            span.set_status(trace.Status(trace.StatusCode.ERROR, _describe(failure)))
        elif errors:
            span.set_status(trace.Status(trace.StatusCode.ERROR, f"{len(errors)} nodes failed"))
        span.end()


def _describe(exc: BaseException) -> str:
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
