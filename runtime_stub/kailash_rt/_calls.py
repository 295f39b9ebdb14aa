"""Small helpers shared by the pattern decorators."""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable
from typing import Any


def keyword_picker(fn: Callable[..., Any]) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """A function choosing, from a node's keyword arguments, those ``fn`` accepts.

    Used where one node runs several functions (a primary and its fallback, the
    operations of a parallel fetch) and receives the inputs of all of them.
    """
    parameters = inspect.signature(fn).parameters.values()
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters):
        return dict
    names = frozenset(
        p.name
        for p in parameters
        if p.kind in (inspect.Parameter.KEYWORD_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    )
    return lambda kwargs: {name: value for name, value in kwargs.items() if name in names}


def with_key(output: Any, key: str, value: Any, *, wrap: bool) -> Any:
    """``output`` plus ``{key: value}``: a copy for a dict; otherwise ``{"value": output, key: value}`` if ``wrap``."""
    if isinstance(output, dict):
        return {**output, key: value}
    if wrap:
        return {"value": output, key: value}
    return output


def describe(exc: BaseException) -> str:
    """``"ExcType: message"``, as a run reports errors."""
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def check_number(name: str, value: Any, *, integer: bool = False, positive: bool = False) -> None:
    """ValueError unless ``value`` is a finite number (an int if ``integer``), >= 0 or > 0."""
    kinds = (int,) if integer else (int, float)
    if (
        isinstance(value, bool)
        or not isinstance(value, kinds)
        or not math.isfinite(value)
        or value < 0
        or (positive and value == 0)
    ):
        what = "integer" if integer else "finite number"
        raise ValueError(f"{name} must be a {'positive' if positive else 'non-negative'} {what}, not {value!r}")
