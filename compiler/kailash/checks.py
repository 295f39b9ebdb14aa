"""Checks of plain settings (numbers in range, descriptions), shared by the builder, the patterns and the policies."""

from __future__ import annotations

import math
import sys
from typing import Any

from ._location import caller_location
from .errors import WorkflowError
from .ir import Location
from .source_text import DECIMAL_INT_LIMIT


def check_number(
    name: str,
    value: Any,
    *,
    integer: bool = False,
    positive: bool = False,
    minimum: int = 0,
    node_id: str | None = None,
    location: Location | None = None,
) -> None:
    """Raise a WorkflowError unless ``value`` is a finite number (an int if ``integer``) in range.

    The range is ``> 0`` when ``positive``, else ``>= minimum``; every number must also fit a
    float, as the runtime computes with it (an int beyond 1.8e308 fits none). Without
    ``location`` the error points at the user's call that is running now.
    """
    kinds = (int,) if integer else (int, float)
    is_number = not isinstance(value, bool) and isinstance(value, kinds)
    if is_number and isinstance(value, int) and abs(value) > sys.float_info.max:
        raise WorkflowError(
            f"{name} must be at most {sys.float_info.max:g}, not {shown(value)}",
            location=location or caller_location(),
            node_id=node_id,
            hint="a number that large fits no float, and the runtime computes with floats",
        )
    is_number = is_number and math.isfinite(value)
    if is_number and (value > 0 if positive else value >= minimum):
        return
    if isinstance(value, float) and not math.isfinite(value):
        raise WorkflowError(
            f"{name} must be a finite number, not {value!r}",
            location=location or caller_location(),
            node_id=node_id,
            hint="an infinite (or NaN) timeout, rate or delay would only fail when the workflow runs",
        )
    noun = "integer" if integer else "number"
    wanted = f"a positive {noun}" if positive else f"an integer >= {minimum}" if integer else f"a number >= {minimum}"
    raise WorkflowError(
        f"{name} must be {wanted}, not {shown(value)}",
        location=location or caller_location(),
        node_id=node_id,
    )


def check_description(description: Any, location: Location, node_id: str | None = None) -> None:
    """A description is a string (or None): it becomes a docstring of the module or of a node function."""
    if description is not None and not isinstance(description, str):
        raise WorkflowError(
            f"description must be a string, not {type(description).__name__}",
            location=location,
            node_id=node_id,
            hint="describe the workflow or node in words; the description becomes a docstring",
        )


def shown(value: Any) -> str:
    """``repr(value)`` for a message, short; never failing, not even for an int too long to print."""
    if isinstance(value, int) and abs(value) >= DECIMAL_INT_LIMIT:
        return f"an integer of {value.bit_length()} bits"
    try:
        text = repr(value)
    except Exception:  # a repr that fails must not hide the real problem
        text = f"a {type(value).__name__}"
    return text if len(text) <= 100 else text[:97] + "..."
