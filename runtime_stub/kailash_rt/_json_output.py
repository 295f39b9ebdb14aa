"""A run's result as JSON text, whatever its nodes returned.

JSON has no dates, decimals, bytes, sets, tuples as keys or NaN, and Python's ``json``
either refuses them (losing the whole result) or writes ``NaN``, which is not JSON. Each
node output is converted instead:

- ``datetime``, ``date``, ``time``: ISO 8601 text (``datetime.isoformat()``);
  ``timedelta``: its total seconds, a number;
- ``Decimal``, ``UUID``, ``pathlib`` paths: their text (``str()``);
- ``bytes``, ``bytearray``, ``memoryview``: base64 text;
- NaN and infinities (``float`` or ``Decimal``): ``null``;
- tuples and sets: lists (a set sorted, so the output is the same from run to run);
- an enum member: its value;
- a key that is not a string: text (``str()``, with JSON's own spelling for numbers,
  ``true``, ``false`` and ``null``);
- anything else: its ``repr()``.

An output that still cannot be written (one that contains itself, or nests deeper than
Python can walk) becomes ``null`` with a warning on stderr; the other nodes' outputs and
the errors are printed as usual.
"""

from __future__ import annotations

import base64
import datetime
import decimal
import enum
import json
import math
import pathlib
import sys
import uuid
from collections.abc import Callable, Mapping
from typing import Any

_JSON_SCALARS = (str, int, bool, type(None))


def result_json(result: Mapping[str, Any], warn: Callable[[str], None]) -> str:
    """``{"results": ..., "errors": ...}`` as indented JSON; ``warn`` hears of each output left out."""
    results = {}
    for node_id, output in result["results"].items():
        try:
            results[node_id] = jsonable(output)
        except RecursionError:  # an output that contains itself, or nests too deep
            results[node_id] = None
            _warn_left_out(node_id, warn)
    whole = {**result, "results": results}
    digits_limit = sys.get_int_max_str_digits()
    sys.set_int_max_str_digits(0)  # a node may return an int of any size, and JSON can write it
    try:
        try:
            return json.dumps(whole, indent=2, allow_nan=False)
        except (RecursionError, ValueError):
            for node_id, converted in results.items():  # which outputs json cannot walk
                try:
                    json.dumps({"results": {node_id: converted}}, indent=2, allow_nan=False)
                except (RecursionError, ValueError):
                    results[node_id] = None
                    _warn_left_out(node_id, warn)
            return json.dumps(whole, indent=2, allow_nan=False)
    finally:
        sys.set_int_max_str_digits(digits_limit)


def _warn_left_out(node_id: str, warn: Callable[[str], None]) -> None:
    warn(f"the output of node {node_id!r} contains itself or nests too deep to write as JSON; written as null")


def jsonable(value: Any) -> Any:
    """``value`` made of what JSON can represent (see the module docstring).

    One Python frame per level of nesting (loops, not comprehensions, which take a frame of
    their own before Python 3.12), so it reaches as deep as ``json`` itself does.
    """
    if isinstance(value, _JSON_SCALARS) and not isinstance(value, enum.Enum):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Mapping):
        mapping = {}
        for key, item in value.items():
            mapping[_key(key)] = jsonable(item)
        return mapping
    if isinstance(value, (list, tuple, set, frozenset)):
        items = []
        for item in value:
            items.append(jsonable(item))
        if isinstance(value, (set, frozenset)):
            items.sort(key=lambda item: json.dumps(item, sort_keys=True))
        return items
    return _converted(value)


def _converted(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return jsonable(value.value)
    if isinstance(value, (datetime.datetime, datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, datetime.timedelta):
        return value.total_seconds()
    if isinstance(value, decimal.Decimal):
        return str(value) if value.is_finite() else None
    if isinstance(value, (uuid.UUID, pathlib.PurePath)):
        return str(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return base64.b64encode(value).decode("ascii")
    return repr(value)


def _key(key: Any) -> str:
    if isinstance(key, str):
        return key
    if isinstance(key, (int, float, type(None))) and not isinstance(key, enum.Enum):
        return json.dumps(key)  # as json.dumps writes such keys: 1, 1.5, true, null
    converted = jsonable(key)
    return converted if isinstance(converted, str) else str(key)
