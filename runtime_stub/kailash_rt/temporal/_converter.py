"""Payloads that keep dict order: Temporal's JSON converter sorts keys, a run's outputs keep
the order the node wrote them in (as the asyncio target prints them)."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import temporalio.api.common.v1
from temporalio.converter import (
    AdvancedJSONEncoder,
    BinaryNullPayloadConverter,
    BinaryPlainPayloadConverter,
    BinaryProtoPayloadConverter,
    CompositePayloadConverter,
    DataConverter,
    JSONPlainPayloadConverter,
    JSONProtoPayloadConverter,
)


class OrderedJSONPayloadConverter(JSONPlainPayloadConverter):
    """``json/plain`` payloads as Temporal writes them, but with keys in their dict order."""

    def to_payload(self, value: Any) -> temporalio.api.common.v1.Payload | None:
        return temporalio.api.common.v1.Payload(
            metadata={"encoding": self.encoding.encode()},
            data=json.dumps(value, cls=AdvancedJSONEncoder, separators=(",", ":")).encode(),
        )


class OrderedPayloadConverter(CompositePayloadConverter):
    def __init__(self) -> None:
        super().__init__(
            BinaryNullPayloadConverter(),
            BinaryPlainPayloadConverter(),
            JSONProtoPayloadConverter(),
            BinaryProtoPayloadConverter(),
            OrderedJSONPayloadConverter(),
        )


# The converter of every client and worker a Temporal module makes.
data_converter = dataclasses.replace(DataConverter.default, payload_converter_class=OrderedPayloadConverter)
