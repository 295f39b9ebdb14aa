"""Typed settings of each node kind and pattern: their defaults and range checks in one place.

The builder makes them and checks them (``check`` names the builder call's location and the
node), analysis and the targets read them by attribute. The IR keeps them as plain dicts in
field order (``to_dict``), so its JSON form is the same; ``settings_of(node)`` reads them back.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any, TypeVar

from .checks import check_number
from .errors import WorkflowError
from .ir import Location, NodeIR


@dataclass(frozen=True)
class Settings:
    """Base of every kind's settings."""

    def check(self, node_id: str, location: Location) -> None:
        """A WorkflowError at ``location`` for a setting out of its range (none by default)."""

    def to_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    def shown(self) -> tuple[tuple[str, Any], ...]:
        """The settings a generated module spells out: all but those marked ``hidden_default``
        when they hold their default (the runtime has the same default)."""
        return tuple(
            (f.name, getattr(self, f.name))
            for f in fields(self)
            if not (f.metadata.get("hidden_default") and getattr(self, f.name) == f.default)
        )


def _hidden(default: Any) -> Any:
    return field(default=default, metadata={"hidden_default": True})


MAP_OUTPUT_KEYS = ("statistics", "errors")  # beside the results, in every map's output


@dataclass(frozen=True)
class ParallelMapSettings(Settings):
    input_field: str = _hidden("items")
    output_field: str = _hidden("results")
    max_workers: int = 10
    batch_size: int | None = _hidden(None)
    timeout_per_item: float | None = _hidden(None)
    continue_on_error: bool = False

    def check(self, node_id: str, location: Location) -> None:
        if self.output_field in MAP_OUTPUT_KEYS:
            raise WorkflowError(
                f"output_field {self.output_field!r} is a key the map's output has already",
                location=location,
                node_id=node_id,
                hint=f"the output is {{<output_field>: [...], {', '.join(map(repr, MAP_OUTPUT_KEYS))}}};"
                " name the results differently",
            )
        check_number("max_workers", self.max_workers, integer=True, positive=True, node_id=node_id, location=location)
        if self.batch_size is not None:
            check_number("batch_size", self.batch_size, integer=True, positive=True, node_id=node_id, location=location)
        if self.timeout_per_item is not None:
            check_number("timeout_per_item", self.timeout_per_item, positive=True, node_id=node_id, location=location)


@dataclass(frozen=True)
class RetryWithBackoffSettings(Settings):
    max_retries: int = 3
    initial_backoff: float = 1.0
    backoff_factor: float = 2.0
    max_backoff: float = 60.0
    retry_on: tuple[str, ...] = ()  # exception names: builtins bare, others dotted

    def to_dict(self) -> dict[str, Any]:
        return {**super().to_dict(), "retry_on": list(self.retry_on)}

    def check(self, node_id: str, location: Location) -> None:
        check_number("max_retries", self.max_retries, integer=True, minimum=0, node_id=node_id, location=location)
        for name in ("initial_backoff", "backoff_factor", "max_backoff"):
            check_number(name, getattr(self, name), node_id=node_id, location=location)


@dataclass(frozen=True)
class RateLimitedSettings(Settings):
    requests_per_second: float = 10
    burst_size: int | None = None  # None: twice the rate

    def check(self, node_id: str, location: Location) -> None:
        check_number("requests_per_second", self.requests_per_second, positive=True, node_id=node_id, location=location)
        check_number("burst_size", self.burst, integer=True, minimum=1, node_id=node_id, location=location)

    @property
    def burst(self) -> Any:
        if self.burst_size is not None:
            return self.burst_size
        return max(1, int(min(self.requests_per_second * 2, 2**62)))


@dataclass(frozen=True)
class CircuitBreakerSettings(Settings):
    failure_threshold: int = 5
    reset_timeout: float = 60.0

    def check(self, node_id: str, location: Location) -> None:
        check_number(
            "failure_threshold", self.failure_threshold, integer=True, minimum=1, node_id=node_id, location=location
        )
        check_number("reset_timeout", self.reset_timeout, node_id=node_id, location=location)


@dataclass(frozen=True)
class BatchProcessorSettings(Settings):
    batch_size: int = 100
    flush_interval: float = 5.0

    def check(self, node_id: str, location: Location) -> None:
        check_number("batch_size", self.batch_size, integer=True, minimum=1, node_id=node_id, location=location)
        check_number("flush_interval", self.flush_interval, positive=True, node_id=node_id, location=location)


@dataclass(frozen=True)
class TimeoutPrimarySettings(Settings):
    timeout_seconds: float = 5.0
    fallback_id: str = ""
    fallback_code: str = ""

    def check(self, node_id: str, location: Location) -> None:
        check_number("timeout_seconds", self.timeout_seconds, positive=True, node_id=node_id, location=location)


@dataclass(frozen=True)
class TimeoutFallbackSettings(Settings):
    primary_id: str = ""


@dataclass(frozen=True)
class CacheAsideSettings(Settings):
    """Shared by the three stages: check, fetch and store."""

    cache_resource: str = "cache"
    cache_key_template: str = "key_{item_id}"
    ttl_seconds: int = 3600
    check_id: str = ""
    fetch_id: str = ""
    store_id: str = ""

    def check(self, node_id: str, location: Location) -> None:
        check_number("ttl_seconds", self.ttl_seconds, integer=True, minimum=1, node_id=node_id, location=location)


@dataclass(frozen=True)
class ParallelFetchSettings(Settings):
    operations: Mapping[str, str] = field(default_factory=dict)  # name -> code
    timeout_per_operation: float = 10.0
    continue_on_error: bool = True

    def check(self, node_id: str, location: Location) -> None:
        check_number(
            "timeout_per_operation", self.timeout_per_operation, positive=True, node_id=node_id, location=location
        )


@dataclass(frozen=True)
class ScatterGatherSettings(Settings):
    """Shared by the scatter, worker and gather stages; ``index`` is a worker's."""

    scatter_id: str = ""
    gather_id: str = ""
    worker_prefix: str = ""
    worker_count: int = 4
    index: int | None = None

    def check(self, node_id: str, location: Location) -> None:
        check_number("worker_count", self.worker_count, integer=True, minimum=1, node_id=node_id, location=location)

    def to_dict(self) -> dict[str, Any]:
        found = super().to_dict()
        if self.index is None:
            del found["index"]  # only workers have one
        return found


@dataclass(frozen=True)
class ResourceNodeSettings(Settings):
    resource: str = ""
    operation: str = ""
    params: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class NoSettings(Settings):
    pass


SETTINGS: dict[str, type[Settings]] = {
    "code": NoSettings,
    "parallel_map": ParallelMapSettings,
    "retry_with_backoff": RetryWithBackoffSettings,
    "rate_limited": RateLimitedSettings,
    "circuit_breaker": CircuitBreakerSettings,
    "batch_processor": BatchProcessorSettings,
    "timeout_primary": TimeoutPrimarySettings,
    "timeout_fallback": TimeoutFallbackSettings,
    "cache_check": CacheAsideSettings,
    "cache_fetch": CacheAsideSettings,
    "cache_store": CacheAsideSettings,
    "parallel_fetch": ParallelFetchSettings,
    "scatter": ScatterGatherSettings,
    "scatter_worker": ScatterGatherSettings,
    "gather": ScatterGatherSettings,
    "resource": ResourceNodeSettings,
}

_S = TypeVar("_S", bound=Settings)


def settings_of(node: NodeIR, expected: type[_S]) -> _S:
    """The typed settings of ``node`` (a ``expected`` of its kind), read from the IR's dict."""
    cls = SETTINGS.get(node.kind, NoSettings)
    if not issubclass(cls, expected):
        raise TypeError(f"node {node.node_id!r} of kind {node.kind!r} has {cls.__name__}, not {expected.__name__}")
    values = dict(node.settings)
    if "retry_on" in values:
        values["retry_on"] = tuple(values["retry_on"])
    return cls(**values)
