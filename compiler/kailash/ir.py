"""The workflow IR: frozen, JSON round-trippable, independent of any compile target.

The builder appends to it; analysis and rendering read it. Every node, connection and
resource remembers the file:line of the builder call that made it.

The IR never holds a secret as a plain value. A resource's settings and a resource node's
parameters are checked when the IR is made (``kailash_rt._secrets`` decides what a secret
is) and each secret becomes an ``EnvRef``: the environment variable a compiled module
reads it from. The real value stays in the ``EnvRef`` for in-process runs, but it is not
part of the IR's JSON form, ``repr``, equality or content hash.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from functools import cached_property
from typing import Any

from kailash_rt._secrets import replace_secrets
from kailash_rt._settings import env_name

from .source_text import DECIMAL_INT_LIMIT

IR_VERSION = 3
# Version 1 had no EnvRef (its secrets are found again when read); versions 1 and 2 had no
# declared inputs and no definitions of the workflow file (read as none).
READABLE_IR_VERSIONS = (1, 2, 3)


class EnvRef:
    """A secret setting: the compiled module reads it from environment variable ``variable``
    as ``kind`` ("str", "int" or "float", the type of the declared value).

    ``value`` is the value the builder was given, kept in memory for in-process runs; it is
    never written anywhere: not in ``repr``, the JSON form, ``==`` or ``hash``.
    """

    __slots__ = ("kind", "value", "variable")
    KINDS = ("str", "int", "float")

    def __init__(self, variable: str, kind: str = "str", value: Any = None) -> None:
        if kind not in self.KINDS:
            raise ValueError(f"EnvRef kind must be one of {self.KINDS}, not {kind!r}")
        self.variable = variable
        self.kind = kind
        self.value = value

    @classmethod
    def of(cls, variable: str, value: Any) -> EnvRef:
        """The reference to a secret ``value`` (str, int or float) read from ``variable``."""
        kind = next(name for name, type_ in _KIND_TYPES if isinstance(value, type_))
        return cls(variable, kind, value)

    def __repr__(self) -> str:
        return f"EnvRef({self.variable!r})" if self.kind == "str" else f"EnvRef({self.variable!r}, {self.kind!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, EnvRef) and (other.variable, other.kind) == (self.variable, self.kind)

    def __hash__(self) -> int:
        return hash(("EnvRef", self.variable, self.kind))

    def __copy__(self) -> EnvRef:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> EnvRef:
        return self


_KIND_TYPES: tuple[tuple[str, type], ...] = (("int", int), ("float", float), ("str", str))


def with_env_refs(owner: tuple[str, ...], path: tuple[str, ...], value: Any) -> Any:
    """``value`` (a setting at ``path``) with each secret in it replaced by an ``EnvRef``
    named after ``owner`` and the secret's path: ``MAIN_DB_PASSWORD``, ``Q_PARAMS_TOKEN``."""
    return replace_secrets(path, value, lambda at, secret: EnvRef.of(env_name(*owner, *at), secret))


def _settings_with_env_refs(owner: tuple[str, ...], settings: dict[Any, Any]) -> dict[Any, Any]:
    """Settings by name, each checked from its own value down (as the literal check counts depth)."""
    return {key: with_env_refs(owner, (str(key),), value) for key, value in settings.items()}


def env_refs(value: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], EnvRef]]:
    """Every ``EnvRef`` in a setting, with its path."""
    if isinstance(value, EnvRef):
        yield path, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from env_refs(item, (*path, str(key)))
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            yield from env_refs(item, (*path, str(index)))


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
    # The workflow file's line of the code block's first line, when the block is a string
    # literal there line for line; written to JSON only when known (IR files without it stay valid).
    code_line: int | None = None

    def __post_init__(self) -> None:
        params = self.settings.get("params") if self.kind == "resource" else None
        if isinstance(params, dict):
            params = _settings_with_env_refs((self.node_id, "params"), params)
            object.__setattr__(self, "settings", {**self.settings, "params": params})


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

    def __post_init__(self) -> None:
        settings = self.settings
        if self.kind != "factory":
            settings = _settings_with_env_refs((self.name,), settings)
        elif isinstance(settings.get("args"), list) and isinstance(settings.get("kwargs"), dict):
            args = [with_env_refs((self.name,), (f"arg{i}",), arg) for i, arg in enumerate(settings["args"])]
            settings = {**settings, "args": args, "kwargs": _settings_with_env_refs((self.name,), settings["kwargs"])}
        object.__setattr__(self, "settings", settings)


@dataclass(frozen=True)
class InputIR:
    """A workflow input the builder declared (``add_input``): its name, and its default when it has one."""

    name: str
    location: Location
    has_default: bool = False
    default: Any = None  # a literal; meaningful only when has_default
    description: str | None = None


@dataclass(frozen=True)
class DefinitionIR:
    """A name a node's code reads that the workflow file binds at its top level (a function, class,
    constant or import): the statement a compiled module copies, or why it cannot be copied.

    ``reads``: the other definitions of the same file the statement needs (copied with it).
    """

    name: str
    kind: str  # "function", "class", "constant", "import", "other"
    location: Location  # the file and line of the statement that binds it
    source: str = ""  # the statement (one import line for an import), "" when it cannot be copied
    reads: tuple[str, ...] = ()
    problem: str | None = None  # why the statement cannot be copied into a compiled module


@dataclass(frozen=True)
class WorkflowIR:
    name: str
    location: Location
    description: str | None = None
    nodes: tuple[NodeIR, ...] = ()
    connections: tuple[ConnectionIR, ...] = ()
    resources: tuple[ResourceIR, ...] = ()
    inputs: tuple[InputIR, ...] = ()
    definitions: tuple[DefinitionIR, ...] = ()

    def to_json(self, *, indent: int | None = None) -> str:
        """The JSON form (one line; ``indent`` spaces a level for a file people read)."""
        data = asdict(self)
        for node in data["nodes"]:
            if node["code_line"] is None:
                del node["code_line"]
            node["settings"] = encode_value(node["settings"])
            if node["fallback"] is not None:
                node["fallback"]["value"] = encode_value(node["fallback"]["value"])
        for resource in data["resources"]:
            resource["settings"] = encode_value(resource["settings"])
        for declared in data["inputs"]:
            declared["default"] = encode_value(declared["default"])
        # Key order is kept, not sorted: settings are written into the module in the order given.
        return json.dumps({"ir_version": IR_VERSION, **data}, indent=indent)

    @classmethod
    def from_json(cls, text: str) -> WorkflowIR:
        return cls.from_dict(json.loads(text))

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> WorkflowIR:
        """The IR from the parsed JSON form (see ``kailash.ir_files`` for checking a file's shape first)."""
        data = dict(data)
        version = data.pop("ir_version", None)
        if version not in READABLE_IR_VERSIONS:
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
            inputs=tuple(
                InputIR(**{**i, "location": Location(**i["location"]), "default": decode_value(i["default"])})
                for i in data.get("inputs", [])
            ),
            definitions=tuple(
                DefinitionIR(**{**d, "location": Location(**d["location"]), "reads": tuple(d["reads"])})
                for d in data.get("definitions", [])
            ),
        )

    def content_hash(self) -> str:
        """sha256 of the JSON form; computed once (the IR is frozen)."""
        return self._content_hash

    @cached_property
    def _content_hash(self) -> str:
        return hashlib.sha256(self.to_json().encode()).hexdigest()

    def secret_values(self) -> dict[str, Any]:
        """The real values of the secrets the builder was given, by environment variable."""
        return dict(self._secret_values)

    def resource_secret_values(self) -> tuple[tuple[str, Any], ...]:
        """The real values of the resources' secrets, sorted by variable: an in-memory cache key."""
        return self._resource_secret_values

    @cached_property
    def _resource_secret_values(self) -> tuple[tuple[str, Any], ...]:
        found = (item for resource in self.resources for item in resource_secret_values(resource).items())
        return tuple(sorted(found, key=lambda item: item[0]))

    @cached_property
    def _secret_values(self) -> dict[str, Any]:
        found = dict(self._resource_secret_values)
        for node in self.nodes:
            if node.kind == "resource":
                refs = env_refs(node.settings["params"])
                found.update((ref.variable, ref.value) for _, ref in refs if ref.value is not None)
        return found

    def node(self, node_id: str) -> NodeIR:
        for node in self.nodes:
            if node.node_id == node_id:
                return node
        raise KeyError(node_id)


def resource_secret_values(resource: ResourceIR) -> dict[str, Any]:
    """The real values of one resource's secrets, by environment variable."""
    return {ref.variable: ref.value for _, ref in env_refs(resource.settings) if ref.value is not None}


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
# A secret is written as {"$env": [variable, kind]}, without its value.
_TUPLE, _ITEMS, _ENV, _INT = "$tuple", "$items", "$env", "$int"


def encode_value(value: Any) -> Any:
    if isinstance(value, EnvRef):
        return {_ENV: [value.variable, value.kind]}
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
        if set(value) == {_ENV}:
            variable, kind = value[_ENV]
            return EnvRef(variable, kind)
        if set(value) == {_INT}:
            return int(value[_INT], 16)
        if set(value) == {_ITEMS}:
            return {_hashable(decode_value(k)): decode_value(v) for k, v in value[_ITEMS]}
        return {k: decode_value(v) for k, v in value.items()}
    return value


def _hashable(key: Any) -> Any:
    return tuple(_hashable(k) for k in key) if isinstance(key, list) else key
