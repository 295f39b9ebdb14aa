"""One check decides what a module can hold as a literal: resource settings, factory arguments,
resource-node parameters and fallback values agree, and what they accept is written faithfully."""

from __future__ import annotations

import asyncio
import enum
import math
from collections.abc import Callable
from typing import Any

import pytest
from kailash.codegen import compile_ir
from kailash.errors import WorkflowError
from kailash.resources import ResourceFactory
from kailash.runtime import AsyncLocalRuntime
from kailash.workflow import AsyncWorkflowBuilder, ErrorHandler

from .resource_services import compile_and_load


class Holder(ResourceFactory):
    """The resource is the factory: ``value`` is its argument, ``echo(value=...)`` returns its parameter."""

    def __init__(self, value: Any = None) -> None:
        self.value = value

    async def create(self) -> Holder:
        return self

    def echo(self, value: Any) -> Any:
        return value


class Colour(enum.IntEnum):
    RED = 7


class Mode(enum.StrEnum):
    FAST = "fast"


def _deep(levels: int) -> Any:
    value: Any = "leaf"
    for _ in range(levels):
        value = [value]
    return value


def _recursive() -> list[Any]:
    value: list[Any] = []
    value.append(value)
    return value


def _as_setting(value: Any) -> AsyncWorkflowBuilder:
    return AsyncWorkflowBuilder("entry").with_database("db", server_settings={"v": value})


def _as_factory_argument(value: Any) -> AsyncWorkflowBuilder:
    return AsyncWorkflowBuilder("entry").require_resource("svc", Holder(value))


def _as_node_parameter(value: Any) -> AsyncWorkflowBuilder:
    builder = AsyncWorkflowBuilder("entry").require_resource("svc", Holder())
    builder.add_resource_node("n", "svc", "echo", {"value": value})
    return builder


def _as_fallback(value: Any) -> AsyncWorkflowBuilder:
    builder = AsyncWorkflowBuilder("entry")
    builder.add_async_code("n", "raise ValueError('boom')", error_handler=ErrorHandler("fallback", value))
    return builder


ENTRY_POINTS: dict[str, Callable[[Any], AsyncWorkflowBuilder]] = {
    "resource-setting": _as_setting,
    "factory-argument": _as_factory_argument,
    "node-parameter": _as_node_parameter,
    "fallback-value": _as_fallback,
}

REFUSED = {
    "bytes": b"raw",
    "set": {1, 2},
    "object": object(),
    "too-deep": _deep(101),
    "recursive": _recursive(),
    "key-with-credentials": {"https://u:pw-9z9z@h/": 1},
}


@pytest.mark.parametrize("entry", ENTRY_POINTS, ids=list(ENTRY_POINTS))
@pytest.mark.parametrize("value", REFUSED.values(), ids=list(REFUSED))
def test_every_entry_point_refuses_the_same_values(entry: str, value: Any) -> None:
    with pytest.raises(WorkflowError) as caught:
        ENTRY_POINTS[entry](value)
    assert "pw-9z9z" not in str(caught.value)


ACCEPTED = {
    "int-enum": (Colour.RED, 7),
    "str-enum": (Mode.FAST, "fast"),
    "nan": (math.nan, None),
    "tuple-and-int-keys": ({(1, "a"): "t", 2: "i"}, {(1, "a"): "t", 2: "i"}),
    "ninety-nine-levels": (_deep(99), _deep(99)),
}


def _value_in_process(entry: str, builder: AsyncWorkflowBuilder) -> Any:
    workflow = builder.build()
    if entry == "resource-setting":
        module = compile_and_load(workflow)
        return module.RESOURCES.specs["db"].resolved()["server_settings"]["v"]
    if entry == "factory-argument":
        module = compile_and_load(workflow)
        return module.RESOURCES.specs["svc"].instance().value
    result = asyncio.run(AsyncLocalRuntime().execute_workflow_async(workflow, {}))
    output = result["results"]["n"]
    return output["result"] if entry == "node-parameter" else output


@pytest.mark.parametrize("entry", ENTRY_POINTS, ids=list(ENTRY_POINTS))
@pytest.mark.parametrize(("value", "written"), ACCEPTED.values(), ids=list(ACCEPTED))
def test_every_entry_point_accepts_and_writes_the_same_values(entry: str, value: Any, written: Any) -> None:
    builder = ENTRY_POINTS[entry](value)
    source = compile_ir(builder.build().ir).source
    assert "Colour" not in source and "Mode." not in source  # the plain value, not the enum's repr
    got = _value_in_process(entry, builder)
    if written is None:
        assert isinstance(got, float) and math.isnan(got)
    else:
        assert got == written
        assert type(got) is type(written)
