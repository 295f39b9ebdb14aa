"""Random workflows of every node kind the builder offers, and what each node must output.

A ``Program`` is a list of builder calls (printable as the few lines of Python that make
the workflow: the reproducer of a failure), the inputs to run it with, what every node
must output, the secret values that must never reach a file, and the reasons, if any, a
clear refusal (``WorkflowError``) is acceptable or required. Expected outputs come from
CPython running each code block (see hostile_code.py) and from the documented shapes of
the patterns' outputs; values flow along the connections, so a node's expected output is
computed from what its upstream nodes must output.
"""

from __future__ import annotations

import ast
import builtins
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from hypothesis import strategies as st
from kailash.workflow import AsyncPatterns, AsyncRetryPolicy, AsyncWorkflowBuilder, ErrorHandler, RetryPolicy

from .hostile_code import (
    Block,
    Outcome,
    batch_statements,
    block_of,
    code_statements,
    comment_text,
    described,
    evaluate,
    evaluate_map,
    map_statements,
)
from .hostile_factories import INLINE_DEFAULT_TOKEN, INLINE_ECHO_FACTORY, EchoFactory, Outer
from .hostile_text import (
    Draw,
    contains_huge_int,
    encodable,
    hostile_text,
    identifier_like,
    is_name,
    literal_values,
    mostly,
    nfkc,
    same,
    setting_values,
    shown,
    spell_string,
    strings_without_surrogates,
)

# Names a code block may read that something else binds first (a builtin, a module the
# generated module imports for the code): never used as resource or workflow-input names.
_BOUND_ELSEWHERE = frozenset(dir(builtins)) | {
    "asyncio",
    "json",
    "math",
    "string",
    "time",
    "random",
    "os",
    "re",
    "get_resource",
    "aiohttp",
    "asyncpg",
    "redis",
}

# Setting names that hold secrets, as the guide's users spell them; each must be treated as one.
SECRET_NAMES = (
    "password",
    "passwd",
    "token",
    "api_key",
    "X-Api-Key",
    "access_token",
    "passcode",
    "bearer",
    "signing_key",
    "db_creds",
    "creds",
    "subscription-key",
    "Ocp-Apim-Subscription-Key",
    "client_secret",
    "private_key",
    "Authorization",
    "session_id",
    "pwd",
    "auth",
)

# Values that are secrets whatever the name of the setting holding them.
SECRET_URLS: tuple[Callable[[str], str], ...] = (
    lambda t: f"https://user:{t}@example.com/v1",
    lambda t: f"https://{t}@example.com/",
    lambda t: f"redis://{t}@localhost:6379/0",
    lambda t: f"postgresql://app:{t}@db.example.com/app",
    lambda t: f"  https://user:{t}@example.com/  ",
    lambda t: f"https://user:{t}@[::1",
    lambda t: f"https://api.example.com/v1?key={t}",
    lambda t: f"https://api.example.com/v1?sig={t}&page=1",
    lambda t: f"https://api.example.com/v1?access_token={t}",
    lambda t: f"/relative/path?token={t}",
    lambda t: f"host=db.example.com password={t} dbname=app",
)
INNOCENT_NAMES = ("url", "dsn", "endpoint", "target", "link", "base")

# Settings each backend takes (asyncpg.create_pool, aiohttp.ClientSession, redis.asyncio.Redis), beyond which
# a builder may refuse a setting as a typo.
KNOWN_SETTINGS = {
    "postgres": ("host", "port", "database", "user", "password", "min_size", "max_size", "dsn", "server_settings"),
    "http": ("base_url", "headers", "timeout", "cookies"),
    "cache": ("backend", "host", "port", "db", "password", "username", "decode_responses"),
}

SHARED_NAMES = ("price\u00e9", "q\u00e9")  # workflow inputs of code nodes, and map helpers, may share them


# -- the program ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Made:
    """An argument built by a call (a policy, a factory, an exception class): shown as ``text``."""

    text: str
    make: Callable[[], Any]

    def __repr__(self) -> str:
        return self.text


def _made(value: Any) -> Any:
    if isinstance(value, Made):
        return value.make()
    if isinstance(value, list):
        return [_made(v) for v in value]
    if isinstance(value, dict):
        return {k: _made(v) for k, v in value.items()}
    return value


@dataclass(frozen=True)
class Call:
    method: str
    args: tuple[Any, ...] = ()
    kwargs: dict[str, Any] = field(default_factory=dict)
    pattern: bool = False  # an AsyncPatterns static method, called with the builder first

    def source(self) -> str:
        arguments = [shown(a) for a in self.args]
        arguments += [
            f"{k}={shown(v)}" if k.isidentifier() else f"**{{{k!r}: {shown(v)}}}" for k, v in self.kwargs.items()
        ]
        if self.pattern:
            return f"AsyncPatterns.{self.method}(builder, {', '.join(arguments)})"
        return f"builder.{self.method}({', '.join(arguments)})"

    def perform(self, builder: AsyncWorkflowBuilder) -> Any:
        args = [_made(a) for a in self.args]
        kwargs = {k: _made(v) for k, v in self.kwargs.items()}
        if self.pattern:
            return getattr(AsyncPatterns, self.method)(builder, *args, **kwargs)
        return getattr(builder, self.method)(*args, **kwargs)


Check = Callable[[Any, int], str | None]  # (node output, run number) -> what is wrong, or None


@dataclass(frozen=True)
class Expectation:
    """A node's output must pass ``check``; or, with ``error`` set, the node must fail so."""

    check: Check | None = None
    error: str | None = None  # the exact error; "" for any error


@dataclass(frozen=True)
class Declared:
    """A declared resource: the settings its ``RESOURCES`` entry must hold, and which are secret."""

    name: str
    kind: str
    settings: dict[str, Any]
    secret_keys: frozenset[str]


@dataclass
class Program:
    name: Any
    description: Any
    calls: list[Call]
    inputs: dict[str, Any]
    expectations: dict[str, Expectation]
    secrets: list[str]
    declared: list[Declared]
    may_refuse: list[str]  # why a WorkflowError is an acceptable answer
    must_refuse: list[str]  # why a WorkflowError is the only acceptable answer

    def __repr__(self) -> str:
        return "\n" + self.source() + "\n"

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        """How hypothesis shows a failing example: the builder calls that reproduce it."""
        printer.text(repr(self))

    def source(self) -> str:
        lines = [f"builder = AsyncWorkflowBuilder({shown(self.name)}, description={shown(self.description)})"]
        lines += [call.source() for call in self.calls]
        lines.append(f"inputs = {shown(self.inputs)}")
        return "\n".join(lines)

    def build(self) -> AsyncWorkflowBuilder:
        builder = AsyncWorkflowBuilder(self.name, description=self.description)
        for call in self.calls:
            call.perform(builder)
        return builder


# -- checks of outputs ----------------------------------------------------------------------
def _problem(label: str, actual: Any, expected: Any) -> str:
    """``label``: what was got and what was expected, around the first place they differ."""
    got, wanted = shown(actual), shown(expected)
    if got == wanted:  # same text, other types or order
        got, wanted = f"{type(actual).__name__} {got}", f"{type(expected).__name__} {wanted}"
    at = next((i for i, (a, b) in enumerate(zip(got, wanted, strict=False)) if a != b), min(len(got), len(wanted)))
    start = max(at - 100, 0)
    prefix = "..." if start else ""
    return f"{label}: got {prefix}{got[start : at + 200]}, expected {prefix}{wanted[start : at + 200]}"


def exactly(expected: Any, *, ordered: bool = True) -> Check:
    def check(actual: Any, run: int) -> str | None:
        return None if same(actual, expected, ordered=ordered) else _problem("output", actual, expected)

    return check


def with_fields(expected: dict[str, Any], per_run: dict[int, dict[str, Any]] | None = None) -> Check:
    """The output is a dict holding these keys with exactly these values (on run n: ``per_run[n]`` if given)."""

    def check(actual: Any, run: int) -> str | None:
        wanted = (per_run or {}).get(run, expected)
        if not isinstance(actual, dict):
            return _problem("output is not a dict", actual, wanted)
        for key, value in wanted.items():
            if key not in actual:
                return f"output has no key {key!r} (keys: {list(actual)!r})"
            if not same(actual[key], value):
                return _problem(f"output[{key!r}]", actual[key], value)
        return None

    return check


def merged(value: Any, added: Sequence[str], *, wrap: str) -> Check:
    """A pattern's output: the node's value with ``added`` keys (whose values vary), as the runtime documents.

    ``wrap``: "retry" (None -> {}, other non-dicts -> {"value": v}), "keep" (non-dicts unchanged).
    """
    if isinstance(value, dict):
        base: Any = dict(value)
    elif wrap == "retry":
        base = {} if value is None else {"value": value}
    else:
        base = value

    def check(actual: Any, run: int) -> str | None:
        if not isinstance(base, dict):
            return None if same(actual, base) else _problem("output", actual, base)
        if not isinstance(actual, dict) or any(key not in actual for key in added):
            return _problem(f"output (with keys {list(added)})", actual, base)
        rest = {k: v for k, v in actual.items() if k not in added}
        wanted = {k: v for k, v in base.items() if k not in added}
        return None if same(rest, wanted) else _problem("output", rest, wanted)

    return check


def succeeds(actual: Any, run: int) -> str | None:
    return None


ANYTHING = Expectation()  # a node whose outcome the test does not predict


# -- drawing a program ------------------------------------------------------------------------
NODE_KINDS = (
    "code",
    "code",
    "code",
    "add_node",
    "parallel_map",
    "parallel_map",
    "scatter_gather",
    "retry_with_backoff",
    "rate_limited",
    "timeout_with_fallback",
    "circuit_breaker",
    "batch_processor",
    "cache_aside",
    "parallel_fetch",
    "resource_node",
    "cache_node",
)
RESOURCE_KINDS = ("database", "http_client", "redis_cache", "memory_cache", "factory")


@dataclass
class Source:
    """An upstream node whose output is known: the (output key, value) pairs a connection may take."""

    node_id: str
    choices: list[tuple[str, Any]]


def selections(output: Any) -> list[tuple[str, Any]]:
    """What ``add_connection(node, key, ...)`` may pass from ``output``: keys, "result", dotted paths."""
    found: list[tuple[str, Any]] = []
    if not isinstance(output, dict):
        return [("result", output)]
    found.append(("result", output.get("result", output)))
    for key, value in output.items():
        if not isinstance(key, str):
            continue
        if key != "result":
            found.append((key, value))
        if "." not in key and isinstance(value, dict):
            for inner, item in value.items():
                path = f"{key}.{inner}"
                if isinstance(inner, str) and "." not in inner and path not in output and inner != "result":
                    found.append((path, item))
    return found


class Draft:
    """A program being drawn: nodes are added in builder order, each fed from earlier ones."""

    def __init__(self, draw: Draw) -> None:
        self.draw = draw
        self.calls: list[Call] = []
        self.connections: list[Call] = []
        self.ids: list[str] = []
        self.sources: list[Source] = []
        self.inputs: dict[str, dict[str, Any]] = {}
        self.expectations: dict[str, Expectation] = {}
        self.secrets: list[str] = []
        self.declared: list[Declared] = []
        self.resource_names: list[str] = []
        self.memory_caches: dict[str, bool] = {}  # name -> decode_responses
        self.echoes: dict[str, dict[str, Any]] = {}  # name -> the factory's settings
        self.may_refuse: list[str] = []
        self.must_refuse: list[str] = []
        self.unpredictable: set[str] = set()  # nodes whose output the test does not predict
        self.map_index = 0

    # -- names and values --------------------------------------------------------------
    def node_id(self) -> str:
        draw = self.draw
        node_id: str = draw(
            st.one_of(
                hostile_text(1, 5),
                identifier_like(),
                st.sampled_from(
                    ("__1", "((1))", "\x1b[31m", "}}", "../x", "1abc", "rt", "run", "items", "\u210c", "H")
                ),
            )
        )
        if node_id in self.ids and not draw(mostly(st.just(False), st.just(True), 10)):
            node_id += f"\u00b7{len(self.ids)}"  # a duplicate id now and then, not every time one is drawn twice
        self.claim_id(node_id)
        return node_id

    def claim_id(self, node_id: str) -> None:
        if node_id in self.ids:
            self.may_refuse.append(f"duplicate node id {node_id!r}")
        if not node_id:
            self.may_refuse.append("empty node id")
        self.ids.append(node_id)

    def resource_name(self) -> str:
        name: str = self.draw(identifier_like())
        if is_name(name) and nfkc(name) in _BOUND_ELSEWHERE:
            name = "rs_" + name
        if not is_name(name):
            self.may_refuse.append(f"resource name {name!r} is not a name")
        if any(nfkc(other) == nfkc(name) for other in self.resource_names):
            self.may_refuse.append(f"resource {name!r} declared twice (after NFKC)")
        self.resource_names.append(name)
        return name

    def secret(self, *, scalar_kinds: bool = True) -> Any:
        """A unique secret value: a token, or (a secret whatever its type) an int or a float."""
        index = len(self.secrets) + 1
        digits = self.draw(st.integers(0, 10**9))
        kind = self.draw(st.sampled_from(("str", "str", "int", "float"))) if scalar_kinds else "str"
        if kind == "int":
            value: Any = int(f"{index}7319{digits:09d}")
            self.secrets.append(str(value))
        elif kind == "float":
            value = float(f"{index}7319{digits:09d}.5")
            self.secrets.append(repr(value))
        else:
            value = f"tok{index}S{digits:09d}x"
            self.secrets.append(value)
        return value

    def secret_url(self) -> str:
        token = self.secret(scalar_kinds=False)
        return self.draw(st.sampled_from(SECRET_URLS))(token)

    def number(self, name: str, valid: st.SearchStrategy[Any], *, integer: bool) -> Any:
        """Mostly a valid setting; now and then one the builder must refuse (or take correctly)."""
        invalid: tuple[Any, ...] = (0, -1, float("nan"), float("inf"), 10**400, True, "5", None)
        if not integer:
            invalid = (-1, float("nan"), float("inf"), 10**400, True, "5")
        if self.draw(mostly(st.just(False), st.just(True), 60)):
            value = self.draw(st.sampled_from(invalid))
            self.may_refuse.append(f"{name}={value!r}")
            return value
        return self.draw(valid)

    def description(self) -> Any:
        value = self.draw(mostly(st.one_of(st.none(), hostile_text(0, 6)), st.sampled_from((123, b"bytes")), 30))
        if value is not None and not isinstance(value, str):
            self.may_refuse.append(f"description={value!r}")
        return value

    # -- connections --------------------------------------------------------------------
    def connect_into(
        self,
        node_id: str,
        most: int,
        *,
        name: str | None = None,
        avoid: Sequence[str] = (),
        normal_names: bool = False,
    ) -> dict[str, Any]:
        """Connect up to ``most`` upstream values into ``node_id``; {input name: value} the node receives."""
        draw = self.draw
        received: dict[str, Any] = {}
        taken = {nfkc(a) for a in avoid}
        for _ in range(draw(st.integers(0, most)) if name is None else 1):
            if not self.sources:
                break
            source = draw(st.sampled_from(self.sources))
            key, value = draw(st.sampled_from(source.choices))
            to_input = name if name is not None else draw(identifier_like())
            if normal_names:
                to_input = nfkc(to_input)
            if not is_name(to_input):
                self.may_refuse.append(f"connection into input {to_input!r}, which is not a name")
                self.connections.append(Call("add_connection", (source.node_id, key, node_id, to_input)))
                continue
            if nfkc(to_input) in taken and draw(mostly(st.just(False), st.just(True), 8)):
                # Two inputs that are one name to Python: to be refused, or one of them wins.
                self.may_refuse.append(f"inputs of node {node_id!r} that are one name after NFKC")
                self.unpredictable.add(node_id)
                self.connections.append(Call("add_connection", (source.node_id, key, node_id, to_input)))
                continue
            while nfkc(to_input) in taken:
                to_input += "_"
            taken.add(nfkc(to_input))
            self.connections.append(Call("add_connection", (source.node_id, key, node_id, to_input)))
            received[to_input] = value
        return received

    def items_into(self, node_id: str, field_name: str) -> list[Any] | tuple[Any, ...]:
        """Items for a map-like node: from an upstream list, or as the node's own workflow input."""
        lists = [(s, k, v) for s in self.sources for k, v in s.choices if isinstance(v, (list, tuple))]
        if lists and self.draw(st.booleans()):
            source, key, value = self.draw(st.sampled_from(lists))
            self.connections.append(Call("add_connection", (source.node_id, key, node_id, field_name)))
            return value  # type: ignore[no-any-return]
        items: list[Any] = self.draw(st.lists(literal_values(), max_size=4))
        if nfkc(field_name) != field_name:
            # A workflow input is named as Python reads the name; a look-alike is connected instead.
            feeder = self.feeder({"items": items})
            self.connections.append(Call("add_connection", (feeder, "items", node_id, field_name)))
        else:
            self.inputs.setdefault(node_id, {})[field_name] = items
        return items

    def feeder(self, value: dict[str, Any]) -> str:
        """A plain code node outputting ``value``."""
        node_id = self.node_id()
        statements = code_statements(self.draw, value, (), fails=False)
        block = block_of(self.draw, statements, lambda b: evaluate(b, {}), mutate=False)
        self.code_call("add_async_code", node_id, block, {})
        outcome = evaluate(block, {})
        if not block.valid or outcome.error is not None or not same(outcome.value, value):
            raise AssertionError(f"the test drew a feeder that does not output {value!r}: {block!r} {outcome!r}")
        self.expect(node_id, block, outcome)
        return node_id

    # -- recording --------------------------------------------------------------------------
    def code_call(self, method: str, node_id: str, block: Block, kwargs: dict[str, Any]) -> None:
        self.note_block(node_id, block)
        self.calls.append(Call(method, (node_id, block.source), kwargs))

    def note_block(self, node_id: str, block: Block) -> None:
        if not block.valid:
            self.must_refuse.append(f"node {node_id!r}: CPython does not compile its code")
        if block.uses_global:
            self.may_refuse.append(f"node {node_id!r}: a `global` statement")
        if _docstring_with_surrogate(block.source):
            # Python 3.13 cannot compile such a docstring, so the compiler refuses it on every version.
            self.may_refuse.append(f"node {node_id!r}: a docstring holding a lone surrogate")

    def expect(self, node_id: str, block: Block | None, outcome: Outcome, *, source: bool = True) -> None:
        if block is not None and not block.valid:
            return
        if outcome.error is not None:
            self.expectations[node_id] = Expectation(error=outcome.error)
            return
        self.expectations[node_id] = Expectation(check=exactly(outcome.value))
        if source:
            self.sources.append(Source(node_id, selections(outcome.value)))

    def flush_connections(self) -> None:
        self.calls.extend(self.connections)
        self.connections = []

    # -- node kinds -------------------------------------------------------------------------
    def code_block(self, reads: dict[str, Any], *, fails: bool = False, value: Any = None) -> tuple[Block, Outcome]:
        draw = self.draw
        if value is None:
            value = draw(literal_values())
        statements = code_statements(draw, value, list(reads), fails=fails)
        block = block_of(draw, statements, lambda b: evaluate(b, reads))
        return block, evaluate(block, reads) if block.valid else Outcome()

    def add_code(self) -> None:
        draw = self.draw
        node_id = self.node_id()
        reads = self.connect_into(node_id, 2)
        if draw(st.integers(0, 3)) == 1:
            name = draw(st.sampled_from(SHARED_NAMES))
            if name not in reads:
                reads[name] = draw(literal_values())
                self.inputs.setdefault(node_id, {})[name] = reads[name]
        block, outcome = self.code_block(reads, fails=draw(st.integers(0, 5)) == 1)
        kwargs: dict[str, Any] = {}
        if draw(st.booleans()):
            kwargs["timeout"] = self.number("timeout", st.floats(5, 60), integer=False)
        if draw(st.integers(0, 3)) == 1:
            kwargs["max_concurrent_tasks"] = self.number("max_concurrent_tasks", st.integers(1, 5), integer=True)
        if draw(st.integers(0, 3)) == 1:
            kwargs["retry_policy"] = self.retry_policy()
        if draw(st.integers(0, 2)) == 1:
            fallback = self.fallback_value()
            level = draw(st.sampled_from(("warning", "error", "INFO", "debug", "critical")))
            kwargs["error_handler"] = Made(
                f"ErrorHandler('fallback', fallback_value={shown(fallback)}, log_level={level!r})",
                lambda: ErrorHandler("fallback", fallback_value=fallback, log_level=level),
            )
            if outcome.error is not None:
                outcome = Outcome(value=fallback)
        if self.resource_names and draw(st.integers(0, 3)) == 1:
            kwargs["required_resources"] = [draw(st.sampled_from(self.resource_names))]
        if draw(st.booleans()):
            kwargs["description"] = self.description()
        self.code_call("add_async_code", node_id, block, kwargs)
        self.expect(node_id, block, outcome)

    def add_node(self) -> None:
        draw = self.draw
        node_id = self.node_id()
        reads = self.connect_into(node_id, 2)
        block, outcome = self.code_block(reads)
        node_type = draw(mostly(st.sampled_from(("PythonCodeNode", "AsyncPythonCodeNode")), st.just("HttpNode"), 20))
        if node_type == "HttpNode":
            self.may_refuse.append(f"node type {node_type}")
        config: dict[str, Any] = {"code": block.source}
        if draw(st.booleans()):
            config["timeout"] = self.number("timeout", st.floats(5, 60), integer=False)
        if draw(st.booleans()):
            config["description"] = self.description()
        self.note_block(node_id, block)
        self.calls.append(Call("add_node", (node_type, node_id, config)))
        self.expect(node_id, block, outcome)

    def retry_policy(self) -> Made:
        draw = self.draw
        names = draw(st.lists(st.sampled_from(self.exception_names()), max_size=2))
        exceptions = [self.exception(name) for name in names]
        if draw(st.booleans()):
            retries = self.number("max_retries", st.integers(0, 2), integer=True)
            return Made(
                f"RetryPolicy(max_retries={retries!r}, base_delay=0.0, retry_on={exceptions!r})",
                lambda: RetryPolicy(max_retries=retries, base_delay=0.0, retry_on=_made(exceptions)),
            )
        attempts = self.number("max_attempts", st.integers(1, 3), integer=True)
        return Made(
            f"AsyncRetryPolicy(max_attempts={attempts!r}, initial_delay=0.0, retry_exceptions={exceptions!r})",
            lambda: AsyncRetryPolicy(max_attempts=attempts, initial_delay=0.0, retry_exceptions=_made(exceptions)),
        )

    @staticmethod
    def exception_names() -> tuple[str, ...]:  # the last one does not exist
        return (
            "ValueError",
            "ConnectionError",
            "TimeoutError",
            "aiohttp.ClientError",
            "json.JSONDecodeError",
            "tests.hostile_factories.Outer.Inner",
            "class:ValueError",
            "class:Outer.Inner",
            "NoSuchError",
        )

    def exception(self, name: str) -> Any:
        if name == "NoSuchError":
            self.may_refuse.append("retry on an exception that does not exist")
        if name == "class:ValueError":
            return Made("ValueError", lambda: ValueError)
        if name == "class:Outer.Inner":
            return Made("Outer.Inner", lambda: Outer.Inner)
        return name

    def fallback_value(self) -> Any:
        value = self.draw(mostly(setting_values(str_keys=False), st.sampled_from((float("nan"), b"raw", {1, 2})), 15))
        if not _plain_literal(value, str_keys=False) or contains_huge_int(value):
            self.may_refuse.append(f"fallback value {shown(value)[:80]} is not a plain literal")
        return value

    def add_parallel_map(self) -> None:
        draw = self.draw
        node_id = self.node_id()
        input_field: str = draw(st.one_of(st.just("items"), identifier_like()))
        if not is_name(input_field):
            self.may_refuse.append(f"input_field {input_field!r}")
            input_field = "items"
        output_field: str = draw(st.one_of(hostile_text(0, 4), st.sampled_from(("statistics", "errors", "results"))))
        if output_field in ("statistics", "errors"):
            self.may_refuse.append(f"output_field {output_field!r}, a key the map's output has already")
        items = self.items_into(node_id, input_field)
        extras = self.connect_into(node_id, 1, avoid=(input_field, "item"))
        block, outcome = self.map_block(extras, items)
        kwargs: dict[str, Any] = {"input_field": input_field, "output_field": output_field}
        kwargs["max_workers"] = self.number("max_workers", st.integers(1, 4), integer=True)
        if draw(st.booleans()):
            kwargs["batch_size"] = self.number("batch_size", st.integers(1, 3), integer=True)
        if draw(st.booleans()):
            kwargs["timeout_per_item"] = self.number("timeout_per_item", st.floats(10, 60), integer=False)
        kwargs["continue_on_error"] = draw(st.booleans())
        if draw(st.booleans()):
            kwargs["description"] = self.description()
        self.code_call("add_parallel_map", node_id, block, kwargs)
        if not block.valid:
            return
        if outcome.error is not None:
            self.expectations[node_id] = (
                Expectation(check=succeeds) if kwargs["continue_on_error"] else Expectation(error="")
            )
            return
        self.expectations[node_id] = Expectation(check=with_fields({output_field: outcome.value, "errors": []}))
        self.sources.append(Source(node_id, [(output_field, outcome.value)]))

    def map_block(self, extras: dict[str, Any], items: Sequence[Any]) -> tuple[Block, Outcome]:
        draw = self.draw
        self.map_index += 1
        if self.map_index > 1:  # module-level helpers of two map blocks may clash (a clear refusal)
            self.may_refuse.append("map blocks whose module-level helpers may share a name")
        statements = map_statements(draw, draw(literal_values()), list(extras), SHARED_NAMES, self.map_index)
        block = block_of(draw, statements, lambda b: evaluate_map(b, extras, items))
        return block, evaluate_map(block, extras, items) if block.valid else Outcome()

    def add_scatter_gather(self) -> None:
        draw = self.draw
        scatter_id, gather_id = self.node_id(), self.node_id()
        prefix: str = draw(identifier_like())
        if not is_name(prefix):
            self.may_refuse.append(f"worker_prefix {prefix!r}")
        count = self.number("worker_count", st.integers(1, 3), integer=True)
        workers = [f"{prefix}_{i}" for i in range(count)] if isinstance(count, int) and 0 < count < 10 else []
        for worker in workers:
            self.claim_id(worker)
        items = self.items_into(scatter_id, "items")
        block, outcome = self.map_block({}, items)
        kwargs: dict[str, Any] = {"worker_count": count}
        if draw(st.booleans()):
            kwargs["description"] = self.description()
        self.note_block(scatter_id, block)
        self.calls.append(Call("add_scatter_gather", (scatter_id, prefix, gather_id, block.source), kwargs))
        if not block.valid:
            return
        if outcome.error is not None:
            for node_id in (scatter_id, *workers, gather_id):
                self.expectations[node_id] = ANYTHING
            return
        for node_id in (scatter_id, *workers):
            self.expectations.setdefault(node_id, Expectation(check=succeeds))
        self.expectations[gather_id] = Expectation(check=with_fields({"results": outcome.value}))
        self.sources.append(Source(gather_id, [("results", outcome.value)]))

    def add_single_node_pattern(self, pattern: str) -> None:
        draw = self.draw
        node_id = self.node_id()
        reads = self.connect_into(node_id, 2)
        block, outcome = self.code_block(reads)
        kwargs: dict[str, Any] = {}
        if pattern == "retry_with_backoff":
            kwargs["max_retries"] = self.number("max_retries", st.integers(0, 2), integer=True)
            kwargs["initial_backoff"] = 0.0
            kwargs["backoff_factor"] = self.number("backoff_factor", st.floats(1, 3), integer=False)
            kwargs["max_backoff"] = 0.0
            names = draw(st.lists(st.sampled_from(self.exception_names()), max_size=2))
            kwargs["retry_on"] = [self.exception(name) for name in names]
            added, wrap = ("attempts", "total_attempts"), "retry"
        elif pattern == "rate_limited":
            kwargs["requests_per_second"] = self.number("requests_per_second", st.floats(1, 1000), integer=False)
            kwargs["burst_size"] = draw(st.sampled_from((None, 2, 3, 5)))
            added, wrap = ("_rate_limit_info",), "keep"
        else:
            kwargs["failure_threshold"] = self.number("failure_threshold", st.integers(1, 5), integer=True)
            kwargs["reset_timeout"] = self.number("reset_timeout", st.floats(0, 60), integer=False)
            added, wrap = ("_circuit_breaker_info",), "keep"
        if draw(st.booleans()):
            kwargs["description"] = self.description()
        self.note_block(node_id, block)
        self.calls.append(Call(pattern, (node_id, block.source), kwargs, pattern=True))
        if not block.valid:
            return
        if outcome.error is not None:
            self.expectations[node_id] = Expectation(error="")
            return
        self.expectations[node_id] = Expectation(check=merged(outcome.value, added, wrap=wrap))

    def add_timeout_with_fallback(self) -> None:
        draw = self.draw
        primary, fallback = self.node_id(), self.node_id()
        reads = self.connect_into(primary, 2)
        primary_block, primary_outcome = self.code_block(reads, fails=draw(st.booleans()))
        fallback_reads = {k: v for k, v in reads.items() if draw(st.booleans())}
        fallback_block, fallback_outcome = self.code_block(fallback_reads)
        kwargs: dict[str, Any] = {"timeout_seconds": self.number("timeout_seconds", st.floats(5, 30), integer=False)}
        if draw(st.booleans()):
            kwargs["description"] = self.description()
        self.note_block(primary, primary_block)
        self.note_block(fallback, fallback_block)
        args = (primary, fallback, primary_block.source, fallback_block.source)
        self.calls.append(Call("timeout_with_fallback", args, kwargs, pattern=True))
        if not (primary_block.valid and fallback_block.valid):
            return
        if primary_outcome.error is None:
            answer = _with_key(primary_outcome.value, "_source", "primary")
        elif fallback_outcome.error is None:
            answer = _with_key(fallback_outcome.value, "_source", "fallback")
            answer["_primary_error"] = _runtime_describe(primary_outcome.error)
        else:
            for node_id in (primary, fallback):
                self.expectations[node_id] = Expectation(error="")
            return
        for node_id in (primary, fallback):
            self.expectations[node_id] = Expectation(check=exactly(answer))
            self.sources.append(Source(node_id, selections(answer)))

    def add_batch_processor(self) -> None:
        draw = self.draw
        node_id = self.node_id()
        items = self.items_into(node_id, "items")
        reads = self.connect_into(node_id, 1, avoid=("items",))
        value = draw(literal_values())
        block = block_of(
            draw,
            batch_statements(draw, value, list(reads)),
            lambda b: evaluate(b, {**reads, "items": list(items)}, target="batch_results"),
        )
        size = self.number("batch_size", st.integers(1, 3), integer=True)
        kwargs: dict[str, Any] = {"batch_size": size}
        kwargs["flush_interval"] = self.number("flush_interval", st.floats(1, 10), integer=False)
        if draw(st.booleans()):
            kwargs["description"] = self.description()
        self.note_block(node_id, block)
        self.calls.append(Call("batch_processor", (node_id, block.source), kwargs, pattern=True))
        if not block.valid or not isinstance(size, int) or isinstance(size, bool) or size < 1:
            return
        results: list[Any] = []
        reasons = []
        for start in range(0, len(items), size):
            end = start + size
            batch = list(items[start:end])
            outcome = evaluate(block, {**reads, "items": batch}, target="batch_results")
            if outcome.error is not None:
                self.expectations[node_id] = Expectation(error=outcome.error)
                return
            if isinstance(outcome.value, (list, tuple)):
                results.extend(outcome.value)
            elif outcome.value is not None:
                results.append(outcome.value)
            reasons.append("batch_full" if end <= len(items) else "end")
        output = {
            "processed_count": len(results),
            "results": results,
            "batch_count": len(reasons),
            "flush_reasons": reasons,
        }
        self.expectations[node_id] = Expectation(check=exactly(output))
        self.sources.append(Source(node_id, selections(output)))

    def add_cache_aside(self) -> None:
        draw = self.draw
        cache = self.declare_memory_cache()  # a cache of its own: another pattern's key would be a hit
        check_id, fetch_id, store_id = self.node_id(), self.node_id(), self.node_id()
        fields = draw(st.lists(identifier_like().filter(is_name), max_size=2, unique_by=nfkc))
        fields = [f for f in fields if nfkc(f) != nfkc(cache)]
        pieces = [draw(hostile_text(0, 3)).replace("{", "{{").replace("}", "}}")]
        for name in fields:
            pieces.append("{" + name + draw(st.sampled_from(("", "", "!r", ":>3", "!s"))) + "}")
            pieces.append(draw(hostile_text(0, 3)).replace("{", "{{").replace("}", "}}"))
        template = "".join(pieces)
        values: dict[str, Any] = {}
        connected: dict[str, Any] = {}
        for name in fields:
            if draw(st.booleans()) and self.sources:
                connected.update(self.connect_into(check_id, 1, name=name))
            if name not in connected:
                if nfkc(name) != name:
                    feeder = self.feeder({"v": draw(strings_without_surrogates())})
                    self.connections.append(Call("add_connection", (feeder, "v", check_id, name)))
                    connected[name] = self.expectations_value(feeder, "v")
                else:
                    values[name] = draw(st.one_of(hostile_text(0, 4), st.integers()))
                    self.inputs.setdefault(check_id, {})[name] = values[name]
        key_error = ""
        try:
            key = template.format(**connected, **values)
        except Exception as exc:  # the check node fails the same way
            key = None
            key_error = described(exc)
        # Inputs connected to the pattern's entry node reach every stage that reads them.
        reads = {name: value for name, value in connected.items() if draw(st.booleans())}
        block, outcome = self.code_block(reads)
        ttl = self.number("ttl_seconds", st.integers(1, 3600), integer=True)
        kwargs: dict[str, Any] = {"cache_resource": cache, "cache_key_template": template, "ttl_seconds": ttl}
        if draw(st.booleans()):
            kwargs["description"] = self.description()
        self.note_block(fetch_id, block)
        args = (check_id, fetch_id, store_id, block.source)
        self.calls.append(Call("cache_aside", args, kwargs, pattern=True))
        if not block.valid:
            return
        if key is None:
            self.expectations[check_id] = Expectation(error=key_error)
            for node_id in (fetch_id, store_id):
                self.expectations[node_id] = Expectation(error="")
            return
        if outcome.error is not None:
            self.expectations[check_id] = Expectation(check=succeeds)
            for node_id in (fetch_id, store_id):
                self.expectations[node_id] = Expectation(error="")
            return
        data = outcome.value
        stored = _json_round_trip(data) if encodable(key) else None
        again = stored[0] if stored is not None else data
        hit = stored is not None
        first = {"found_in_cache": False, "cache_key": key}
        second = {"found_in_cache": True, "cache_key": key, "data": again} if hit else first
        self.expectations[check_id] = Expectation(check=with_fields(first, {2: second}))
        fetched = {"needs_caching": True, "cache_key": key, "data": data}
        fetched_again = {"needs_caching": not hit, "cache_key": key, "data": again}
        self.expectations[fetch_id] = Expectation(check=with_fields(fetched, {2: fetched_again}))
        self.expectations[store_id] = Expectation(
            check=with_fields({"data": data, "cache_key": key}, {2: {"data": again, "cache_key": key}})
        )

    def expectations_value(self, node_id: str, key: str) -> Any:
        for source in self.sources:
            if source.node_id == node_id:
                return dict(source.choices)[key]
        raise AssertionError(f"no known output of {node_id!r}")

    def add_parallel_fetch(self) -> None:
        draw = self.draw
        node_id = self.node_id()
        reads = self.connect_into(node_id, 2)
        names = draw(st.lists(mostly(hostile_text(1, 4), st.just(""), 20), min_size=1, max_size=3, unique=True))
        if "" in names:
            self.may_refuse.append("an operation with an empty name")
        mangled = [re.sub(r"\W", "_", name, flags=re.ASCII) for name in names]
        if len(set(mangled)) < len(mangled):
            self.may_refuse.append("operation names that become the same identifier")
        operations: dict[str, str] = {}
        successful: dict[str, Any] = {}
        failed: dict[str, str] = {}
        valid = True
        for name in names:
            own = {k: v for k, v in reads.items() if draw(st.booleans())}
            block, outcome = self.code_block(own)
            self.note_block(node_id, block)
            valid = valid and block.valid
            operations[name] = block.source
            if outcome.error is None:
                successful[name] = outcome.value
            else:
                failed[name] = _runtime_describe(outcome.error)
        go_on = draw(st.booleans())
        kwargs: dict[str, Any] = {"timeout_per_operation": self.number("timeout", st.floats(5, 30), integer=False)}
        kwargs["continue_on_error"] = go_on
        if draw(st.booleans()):
            kwargs["description"] = self.description()
        self.calls.append(Call("parallel_fetch", (node_id, operations), kwargs, pattern=True))
        if not valid:
            return
        if failed and not go_on:
            self.expectations[node_id] = Expectation(error="")
            return
        self.expectations[node_id] = Expectation(check=with_fields({"successful": successful, "failed": failed}))
        if not failed:
            self.sources.append(Source(node_id, [("successful", successful)]))

    def add_resource_node(self) -> None:
        draw = self.draw
        resource = draw(st.sampled_from(sorted(self.echoes))) if self.echoes else self.declare_factory()
        node_id = self.node_id()
        operation = draw(
            mostly(
                st.sampled_from(("echo", "echo_async", "inner.echo", "configured")),
                st.sampled_from(("no such", "1x")),
                20,
            )
        )
        if operation in ("no such", "1x"):
            self.may_refuse.append(f"operation {operation!r}")
        params: dict[str, Any] = {}
        if operation != "configured":
            params = self.params()
        # Connected inputs are passed as keyword arguments, which Python names in NFKC form.
        connected = self.connect_into(node_id, 1, normal_names=True) if operation != "configured" else {}
        for name in connected:
            if nfkc(name) in ("rt", nfkc(resource)):
                self.may_refuse.append(f"resource node input {name!r}")
        kwargs: dict[str, Any] = {}
        if draw(st.booleans()):
            kwargs["timeout"] = self.number("timeout", st.floats(5, 60), integer=False)
        if draw(st.booleans()):
            kwargs["description"] = self.description()
        if resource == "rt":
            self.may_refuse.append("a resource named 'rt'")
        self.calls.append(Call("add_resource_node", (node_id, resource, operation, params), kwargs))
        echoed = self.echoes[resource] if operation == "configured" else {**params, **connected}
        # Resource names are one name to Python after NFKC: the builder records them in that form.
        expected = {"result": echoed, "resource": nfkc(resource), "operation": nfkc(operation)}
        self.expectations[node_id] = Expectation(check=_echoed(expected, set(self.secrets)))

    def params(self) -> dict[str, Any]:
        """Parameters of a resource node: hostile keys and values, and secrets among them."""
        draw = self.draw
        params: dict[str, Any] = draw(st.dictionaries(hostile_text(0, 4), setting_values(str_keys=True), max_size=3))
        for _ in range(draw(st.integers(0, 2))):
            where = draw(st.sampled_from(("named", "url", "nested")))
            if where == "named":
                params[draw(st.sampled_from(SECRET_NAMES))] = self.secret()
            elif where == "url":
                params[draw(st.sampled_from(INNOCENT_NAMES))] = self.secret_url()
            else:
                params["headers"] = {"Accept": "*/*", draw(st.sampled_from(SECRET_NAMES)): self.secret()}
        if not _plain_literal(params, str_keys=True) or contains_huge_int(params):
            self.may_refuse.append("resource node parameters a module cannot hold")
        return params

    def add_cache_node(self) -> None:
        """A resource node writing into a memory cache, and a code node reading it back."""
        draw = self.draw
        cache = draw(st.sampled_from(sorted(self.memory_caches))) if self.memory_caches else self.declare_memory_cache()
        writer, reader = self.node_id(), self.node_id()
        key: str = f"w{len(self.ids)}:" + draw(strings_without_surrogates())  # no other writer uses this key
        value: Any = draw(st.one_of(strings_without_surrogates(), st.integers(-(10**30), 10**30), st.floats(-1e9, 1e9)))
        self.calls.append(Call("add_resource_node", (writer, cache, "set", {"key": key, "value": value})))
        self.expectations[writer] = Expectation(
            check=exactly({"result": True, "resource": nfkc(cache), "operation": "set"})
        )
        encoded = value.encode() if isinstance(value, str) else repr(value).encode()
        got: Any = encoded.decode() if self.memory_caches[cache] else encoded
        client = cache if draw(st.booleans()) else f"(await get_resource({spell_string(draw, cache)}))"
        statements = "\n".join(
            (
                f"got_\u00e9 = await {client}.get({spell_string(draw, key)})",
                comment_text(draw),
                "result = [got_\u00e9, written_\u00e9]",
            )
        )
        block = block_of(draw, statements, lambda b: Outcome(value=[got, True]), mutate=False)
        self.connections.append(Call("add_connection", (writer, "result", reader, "written_\u00e9")))
        self.code_call("add_async_code", reader, block, {})
        if block.valid:
            self.expectations[reader] = Expectation(check=exactly([got, True]))

    # -- resources --------------------------------------------------------------------------
    def declare(self, kind: str) -> str:
        return {
            "database": self.declare_database,
            "http_client": self.declare_http_client,
            "redis_cache": self.declare_redis_cache,
            "memory_cache": self.declare_memory_cache,
            "factory": self.declare_factory,
        }[kind]()

    def secret_settings(self, kind: str, secret_keys: set[str], settings: dict[str, Any]) -> None:
        """Secret-named settings, and secret URLs under innocent names; their keys go in ``secret_keys``."""
        draw = self.draw
        for _ in range(draw(st.integers(0, 2))):
            if draw(st.booleans()):
                key = draw(st.sampled_from(SECRET_NAMES))
                settings[key] = self.secret()
            else:
                key = draw(st.sampled_from(INNOCENT_NAMES))
                settings[key] = self.secret_url()
            secret_keys.add(key)
        unknown = [k for k in settings if k not in KNOWN_SETTINGS.get(kind, ())]
        if unknown:
            self.may_refuse.append(f"settings {unknown!r}, which the backend may not know")

    def declare_database(self) -> str:
        draw = self.draw
        name = self.resource_name()
        secret_keys: set[str] = set()
        settings: dict[str, Any] = {
            "host": draw(hostile_text(0, 4)),
            "port": self.number("port", st.integers(1, 65535), integer=True),
            "database": draw(hostile_text(0, 4)),
            "user": draw(hostile_text(0, 4)),
        }
        if draw(st.booleans()):
            settings["password"] = self.secret()
            secret_keys.add("password")
        if draw(st.booleans()):
            inner = {
                draw(hostile_text(0, 3)): draw(hostile_text(0, 3)),
                draw(st.sampled_from(SECRET_NAMES)): self.secret(),
            }
            settings["server_settings"] = inner
            secret_keys.add("server_settings")
        self.secret_settings("postgres", secret_keys, settings)
        self.record("with_database", name, "postgres", settings, secret_keys)
        return name

    def declare_http_client(self) -> str:
        draw = self.draw
        name = self.resource_name()
        secret_keys: set[str] = set()
        settings: dict[str, Any] = {}
        if draw(st.booleans()):
            settings["base_url"] = self.secret_url()
            secret_keys.add("base_url")
        else:
            settings["base_url"] = draw(st.one_of(st.none(), hostile_text(0, 5)))
        headers: dict[str, Any] = draw(st.dictionaries(hostile_text(0, 3), hostile_text(0, 3), max_size=2))
        for _ in range(draw(st.integers(0, 2))):
            headers[draw(st.sampled_from(SECRET_NAMES))] = self.secret()
        settings["headers"] = headers
        if any(k in SECRET_NAMES for k in headers):
            secret_keys.add("headers")
        settings["timeout"] = self.number("timeout", st.floats(1, 60), integer=False)
        if draw(st.booleans()):
            settings["cookies"] = {"session_id": self.secret(scalar_kinds=False)}
            secret_keys.add("cookies")
        self.secret_settings("http", secret_keys, settings)
        self.record("with_http_client", name, "http", settings, secret_keys)
        return name

    def declare_redis_cache(self) -> str:
        draw = self.draw
        name = self.resource_name()
        secret_keys: set[str] = set()
        settings: dict[str, Any] = {
            "backend": "redis",
            "host": draw(hostile_text(0, 4)),
            "port": self.number("port", st.integers(1, 65535), integer=True),
            "db": draw(st.integers(0, 15)),
        }
        if draw(st.booleans()):
            settings["password"] = self.secret()
            secret_keys.add("password")
        if draw(st.booleans()):
            settings["username"] = draw(hostile_text(0, 4))
        self.secret_settings("cache", secret_keys, settings)
        self.record("with_cache", name, "cache", settings, secret_keys)
        return name

    def declare_memory_cache(self) -> str:
        draw = self.draw
        name = self.resource_name()
        decode = draw(st.booleans())
        settings: dict[str, Any] = {"backend": "memory"}
        if decode:
            settings["decode_responses"] = True
        self.record("with_cache", name, "cache", settings, set())
        self.memory_caches[name] = decode
        return name

    def declare_factory(self) -> str:
        draw = self.draw
        name = self.resource_name()
        secret_keys: set[str] = set()
        settings: dict[str, Any] = draw(st.dictionaries(hostile_text(0, 3), setting_values(str_keys=True), max_size=2))
        if not _plain_literal(settings, str_keys=True) or contains_huge_int(settings):
            self.may_refuse.append("factory arguments a module cannot hold")
        for _ in range(draw(st.integers(0, 2))):
            if draw(st.booleans()):
                key = draw(st.sampled_from(SECRET_NAMES))
                settings[key] = self.secret()
            else:
                key = draw(st.sampled_from(INNOCENT_NAMES))
                settings[key] = self.secret_url()
            secret_keys.add(key)
        inline = draw(st.booleans())
        if inline:
            self.secrets.append(INLINE_DEFAULT_TOKEN)
            factory = Made(f"INLINE_ECHO_FACTORY(**{shown(settings)})", lambda: INLINE_ECHO_FACTORY(**settings))
            configured = {"token": settings.get("token", INLINE_DEFAULT_TOKEN), **settings}
        else:
            factory = Made(f"EchoFactory(**{shown(settings)})", lambda: EchoFactory(**settings))
            configured = dict(settings)
        description = self.description() if draw(st.booleans()) else None
        self.calls.append(Call("require_resource", (name, factory), {"description": description}))
        self.declared.append(Declared(name, "factory", settings, frozenset(secret_keys)))
        self.echoes[name] = configured
        return name

    def record(self, method: str, name: str, kind: str, settings: dict[str, Any], secret_keys: set[str]) -> None:
        if not _plain_literal(settings, str_keys=True) or contains_huge_int(settings):
            self.may_refuse.append(f"{method} settings a module cannot hold")
        self.calls.append(Call(method, (name,), settings))
        self.declared.append(Declared(name, kind, settings, frozenset(secret_keys)))


def _with_key(value: Any, key: str, marker: str) -> dict[str, Any]:
    return {**value, key: marker} if isinstance(value, dict) else {"value": value, key: marker}


def _runtime_describe(error: str) -> str:
    """A run's ``"ExcType: message"`` as the patterns describe it (no colon after an empty message)."""
    return error[:-2] if error.endswith(": ") else error


def _json_round_trip(value: Any) -> tuple[Any] | None:
    try:
        return (json.loads(json.dumps(value)),)
    except (TypeError, ValueError):
        return None


def _plain_literal(value: Any, *, str_keys: bool) -> bool:
    """The plain values a generated module can spell (no NaN, no bytes, no sets)."""
    if value is None or type(value) in (bool, int, str):
        return True
    if type(value) is float:
        return value == value and value not in (float("inf"), float("-inf"))
    if type(value) in (list, tuple):
        return all(_plain_literal(v, str_keys=str_keys) for v in value)
    if type(value) is dict:
        return all(
            (isinstance(k, str) if str_keys else _plain_literal(k, str_keys=False))
            and _plain_literal(v, str_keys=str_keys)
            for k, v in value.items()
        )
    return False


def _echoed(expected: dict[str, Any], secrets: set[str]) -> Check:
    """An echo resource node's output; keyword order is not the workflow's, and a secret may come
    back as the text the module reads from the environment."""

    def close(actual: Any, wanted: Any) -> bool:
        if same(actual, wanted, ordered=False):
            return True
        text = repr(wanted) if isinstance(wanted, float) else str(wanted)
        return isinstance(actual, str) and text in secrets and actual == text

    def check(actual: Any, run: int) -> str | None:
        if not isinstance(actual, dict) or set(actual) != set(expected):
            return _problem("output", actual, expected)
        for key in ("resource", "operation"):
            if not same(actual[key], expected[key]):
                return _problem(f"output[{key!r}]", actual[key], expected[key])
        got, wanted = actual["result"], expected["result"]
        if not isinstance(got, dict) or set(got) != set(wanted):
            return _problem("output['result']", got, wanted)
        for key, value in wanted.items():
            if not _nested_close(got[key], value, close):
                return _problem(f"output['result'][{key!r}]", got[key], value)
        return None

    return check


def _nested_close(actual: Any, wanted: Any, close: Callable[[Any, Any], bool]) -> bool:
    if close(actual, wanted):
        return True
    if isinstance(wanted, dict) and isinstance(actual, dict) and set(actual) == set(wanted):
        return all(_nested_close(actual[k], v, close) for k, v in wanted.items())
    if isinstance(wanted, (list, tuple)) and type(actual) is type(wanted) and len(actual) == len(wanted):
        return all(_nested_close(a, w, close) for a, w in zip(actual, wanted, strict=True))
    return False


@st.composite
def programs(draw: Draw) -> Program:
    """A random workflow: a few resources, then a few nodes of any kind, each fed from earlier ones."""
    draft = Draft(draw)
    name = draw(mostly(st.one_of(hostile_text(0, 6), st.none()), st.sampled_from((123, 1.5, b"name")), 30))
    if name is not None and not isinstance(name, str):
        draft.may_refuse.append(f"workflow name {name!r}")
    description = draft.description()
    for kind in draw(st.lists(st.sampled_from(RESOURCE_KINDS), max_size=3)):
        draft.declare(kind)
    for kind in draw(st.lists(st.sampled_from(NODE_KINDS), min_size=1, max_size=5)):
        {
            "code": draft.add_code,
            "add_node": draft.add_node,
            "parallel_map": draft.add_parallel_map,
            "scatter_gather": draft.add_scatter_gather,
            "retry_with_backoff": lambda: draft.add_single_node_pattern("retry_with_backoff"),
            "rate_limited": lambda: draft.add_single_node_pattern("rate_limited"),
            "circuit_breaker": lambda: draft.add_single_node_pattern("circuit_breaker"),
            "timeout_with_fallback": draft.add_timeout_with_fallback,
            "batch_processor": draft.add_batch_processor,
            "cache_aside": draft.add_cache_aside,
            "parallel_fetch": draft.add_parallel_fetch,
            "resource_node": draft.add_resource_node,
            "cache_node": draft.add_cache_node,
        }[kind]()
        draft.flush_connections()
    return Program(
        name=name,
        description=description,
        calls=draft.calls,
        inputs=draft.inputs,
        expectations={**draft.expectations, **dict.fromkeys(draft.unpredictable, ANYTHING)},
        secrets=draft.secrets,
        declared=draft.declared,
        may_refuse=draft.may_refuse,
        must_refuse=draft.must_refuse,
    )


def _docstring_with_surrogate(source: str) -> bool:
    """Whether a code block (or a function in it) starts with a string holding a lone surrogate."""
    try:
        tree = ast.parse("async def _():\n" + "".join("    " + line + "\n" for line in source.split("\n")))
    except (SyntaxError, ValueError):
        return False
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Module)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                text = first.value.value
                if isinstance(text, str) and any(0xD800 <= ord(c) <= 0xDFFF for c in text):
                    return True
    return False
