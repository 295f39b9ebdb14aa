"""The workflow IR: frozen, JSON round-trippable, independent of any compile target.

The builder appends to it; analysis and rendering read it. Every node, connection and
resource remembers the file:line of the builder call that made it.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from functools import cached_property
from typing import Any

from .source_text import DECIMAL_INT_LIMIT

IR_VERSION = 1


@dataclass(frozen=True)
class Location:
    file: str
    line: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}"


@dataclass(frozen=True)
class RetryIR:
    """Up to ``attempts`` tries, waiting ``delay * backoff**n`` (capped at ``max_delay``)."""

    attempts: int
    delay: float
    backoff: float = 2.0
    max_delay: float | None = None
    retry_on: tuple[str, ...] = ()  # exception names: builtins bare, others dotted


@dataclass(frozen=True)
class FallbackIR:
    value: Any
    log_level: str = "warning"


@dataclass(frozen=True)
class NodeIR:
    node_id: str
    kind: str  # "code", "parallel_map", ...: decides how the node is analysed and rendered
    code: str  # dedented code block
    location: Location
    settings: dict[str, Any] = field(default_factory=dict)  # literal settings of the kind
    description: str | None = None
    required_resources: tuple[str, ...] = ()
    timeout: float | None = None
    max_concurrent_tasks: int | None = None
    retry: RetryIR | None = None
    fallback: FallbackIR | None = None


@dataclass(frozen=True)
class ConnectionIR:
    from_node: str
    from_output: str
    to_node: str
    to_input: str
    location: Location


@dataclass(frozen=True)
class ResourceIR:
    name: str
    kind: str  # "postgres", "http", "cache", "factory"
    settings: dict[str, Any]
    location: Location
    description: str | None = None


@dataclass(frozen=True)
class WorkflowIR:
    name: str
    location: Location
    description: str | None = None
    nodes: tuple[NodeIR, ...] = ()
    connections: tuple[ConnectionIR, ...] = ()
    resources: tuple[ResourceIR, ...] = ()

    def to_json(self) -> str:
        data = asdict(self)
        for node in data["nodes"]:
            node["settings"] = encode_value(node["settings"])
            if node["fallback"] is not None:
                node["fallback"]["value"] = encode_value(node["fallback"]["value"])
        for resource in data["resources"]:
            resource["settings"] = encode_value(resource["settings"])
        # Key order is kept, not sorted: settings are written into the module in the order given.
        return json.dumps({"ir_version": IR_VERSION, **data})

    @classmethod
    def from_json(cls, text: str) -> WorkflowIR:
        data = json.loads(text)
        version = data.pop("ir_version", None)
        if version != IR_VERSION:
            raise ValueError(f"IR version {version!r} is not supported (this compiler reads {IR_VERSION})")
        return cls(
            name=data["name"],
            location=Location(**data["location"]),
            description=data["description"],
            nodes=tuple(_node_from_dict(n) for n in data["nodes"]),
            connections=tuple(
                ConnectionIR(**{**c, "location": Location(**c["location"])}) for c in data["connections"]
            ),
            resources=tuple(
                ResourceIR(**{**r, "location": Location(**r["location"]), "settings": decode_value(r["settings"])})
                for r in data["resources"]
            ),
        )

    def content_hash(self) -> str:
        """sha256 of the JSON form; computed once (the IR is frozen)."""
        return self._content_hash

    @cached_property
    def _content_hash(self) -> str:
        return hashlib.sha256(self.to_json().encode()).hexdigest()

    def node(self, node_id: str) -> NodeIR:
        for node in self.nodes:
            if node.node_id == node_id:
                return node
        raise KeyError(node_id)


def _node_from_dict(data: dict[str, Any]) -> NodeIR:
    retry = data.get("retry")
    fallback = data.get("fallback")
    return NodeIR(
        **{
            **data,
            "location": Location(**data["location"]),
            "settings": decode_value(data["settings"]),
            "required_resources": tuple(data["required_resources"]),
            "retry": RetryIR(**{**retry, "retry_on": tuple(retry["retry_on"])}) if retry else None,
            "fallback": FallbackIR(decode_value(fallback["value"]), fallback["log_level"]) if fallback else None,
        }
    )


# Literal values (settings, fallback values) keep their Python types through JSON: a tuple,
# or a dict whose keys are not all strings (or look like a tag), is written as a tagged object,
# and so is an int of 640 digits or more, in hexadecimal (its decimal text may exceed the
# digit limit of sys.set_int_max_str_digits, and json would fail to write it).
_TUPLE, _ITEMS, _INT = "$tuple", "$items", "$int"


def encode_value(value: Any) -> Any:
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= DECIMAL_INT_LIMIT:
        return {_INT: hex(value)}
    if isinstance(value, tuple):
        return {_TUPLE: [encode_value(v) for v in value]}
    if isinstance(value, list):
        return [encode_value(v) for v in value]
    if isinstance(value, dict):
        if all(isinstance(k, str) and not k.startswith("$") for k in value):
            return {k: encode_value(v) for k, v in value.items()}
        return {_ITEMS: [[encode_value(k), encode_value(v)] for k, v in value.items()]}
    return value


def decode_value(value: Any) -> Any:
    if isinstance(value, list):
        return [decode_value(v) for v in value]
    if isinstance(value, dict):
        if set(value) == {_TUPLE}:
            return tuple(decode_value(v) for v in value[_TUPLE])
        if set(value) == {_INT}:
            return int(value[_INT], 16)
        if set(value) == {_ITEMS}:
            return {_hashable(decode_value(k)): decode_value(v) for k, v in value[_ITEMS]}
        return {k: decode_value(v) for k, v in value.items()}
    return value


def _hashable(key: Any) -> Any:
    return tuple(_hashable(k) for k in key) if isinstance(key, list) else key
