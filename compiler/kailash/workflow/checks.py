"""Range checks of numeric settings, shared by the builder, the patterns and the policies."""

from __future__ import annotations

import math
from typing import Any

from .._location import caller_location
from ..errors import WorkflowError
from ..ir import Location


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

    The range is ``> 0`` when ``positive``, else ``>= minimum``. Without ``location`` the
    error points at the user's call that is running now.
    """
    kinds = (int,) if integer else (int, float)
    is_number = not isinstance(value, bool) and isinstance(value, kinds) and math.isfinite(value)
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
        f"{name} must be {wanted}, not {value!r}",
        location=location or caller_location(),
        node_id=node_id,
    )
