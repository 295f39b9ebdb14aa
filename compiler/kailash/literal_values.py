"""Which values a generated module can hold as literals: one check for every value the
builder writes into a module (resource settings, factory arguments, resource-node
parameters, fallback values).

Writable: None, bool, int, float (NaN and the infinities too), str, and lists, tuples and
dicts of them, at most ``MAX_DEPTH`` levels deep; dict keys are such scalars or tuples of
them. A secret inside a setting is an ``EnvRef`` (the module reads it from the
environment). A dict key cannot be read from the environment, so a key carrying
credentials (a URL with a password, say) is refused rather than written.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kailash_rt._secrets import is_secret

from .ir import EnvRef

MAX_DEPTH = 100
_SCALARS = (type(None), bool, int, float, str)


@dataclass(frozen=True)
class Unwritable:
    """Where a value cannot be written: ``path`` to it, the value, and why."""

    path: tuple[str, ...]
    value: Any
    reason: str


def first_unwritable(value: Any, path: tuple[str, ...] = (), depth: int = 0) -> Unwritable | None:
    """The first part of ``value`` (found at ``path``) a module cannot hold as a literal, or None.

    ``depth`` counts containers from the value the user passed, whatever its path.
    """
    if isinstance(value, (*_SCALARS, EnvRef)):
        return None
    if not isinstance(value, (list, tuple, dict)):
        return Unwritable(path, value, f"is a value of type {_type_name(value)}")
    if depth >= MAX_DEPTH:
        return Unwritable(path, value, f"is nested more than {MAX_DEPTH} levels deep")
    items: list[tuple[Any, Any]] = list(value.items()) if isinstance(value, dict) else list(enumerate(value))
    if isinstance(value, dict):
        for key in value:
            if not _plain_key(key, 0):
                return Unwritable((*path, repr(key)), key, f"is a key of type {_type_name(key)}")
            if is_secret((), key):
                return Unwritable(
                    path, key, "has a key that carries credentials, which cannot be read from the environment"
                )
    for key, item in items:
        found = first_unwritable(item, (*path, str(key)), depth + 1)
        if found is not None:
            return found
    return None


def is_literal(value: Any) -> bool:
    return first_unwritable(value) is None


def _plain_key(key: Any, depth: int) -> bool:
    if isinstance(key, _SCALARS):
        return True
    return isinstance(key, tuple) and depth < MAX_DEPTH and all(_plain_key(k, depth + 1) for k in key)


def _type_name(value: Any) -> str:
    cls = type(value)
    return cls.__qualname__ if cls.__module__ == "builtins" else f"{cls.__module__}.{cls.__qualname__}"
