"""Resource settings: secrets read from the environment, and environment overrides.

A generated module never holds a secret value: it holds ``env("MAIN_DB_PASSWORD")``, read
when the resource is first created. Every setting can also be overridden from the
environment, under a name derived from the resource and setting names: setting ``host``
of resource ``main_db`` is ``MAIN_DB_HOST``; header ``X-Token`` of resource ``api`` is
``API_HEADERS_X_TOKEN``. The compiler uses the same functions to name the variables.

A secret declared as a number or a flag is read as one: ``env("SVC_PIN", int)``. A secret
parameter of a resource node is read when the node runs, ``env("Q_PARAMS_TOKEN").read()``;
the in-process runtime supplies such values with ``given_secrets`` instead of the environment.
What a secret is, is decided in ``_secrets``. An error about a variable's value never shows
the value.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any


class ResourceError(RuntimeError):
    """A resource cannot be created: missing variable, bad override, missing package, failed check."""


def env_name(*parts: str) -> str:
    """``env_name("main_db", "password") == "MAIN_DB_PASSWORD"``: upper case, ``_`` for the rest."""
    joined = "_".join(re.sub(r"[^0-9A-Za-z]+", "_", part).strip("_") for part in parts)
    return re.sub(r"_+", "_", joined).upper()


class Env:
    """A setting read from an environment variable: the text, or the ``type`` it was declared as."""

    __slots__ = ("kind", "name")

    def __init__(self, name: str, kind: type = str) -> None:
        if kind not in _PARSERS:
            raise TypeError(f"env({name!r}): the type must be one of str, int, float, bool, not {kind!r}")
        self.name = name
        self.kind = kind

    def __repr__(self) -> str:
        return f"env({self.name!r})" if self.kind is str else f"env({self.name!r}, {self.kind.__name__})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Env) and (other.name, other.kind) == (self.name, self.kind)

    def __hash__(self) -> int:
        return hash(("Env", self.name, self.kind))

    def read(self) -> Any:
        """The value now: given in process (``given_secrets``), else from the environment."""
        given = _GIVEN.get()
        if given and self.name in given:
            return given[self.name]
        text = os.environ.get(self.name)
        if text is None:
            raise ResourceError(f"environment variable {self.name} is not set")
        return self.parse(self.name, text)

    def parse(self, variable: str, text: str) -> Any:
        """``text`` read from ``variable`` as this setting's type; the error never shows the text."""
        try:
            return _PARSERS[self.kind](text)
        except ValueError as exc:
            raise ResourceError(f"environment variable {variable} cannot be used: {exc}") from None


def env(name: str, kind: type = str) -> Env:
    """``password=rt.env("MAIN_DB_PASSWORD")``: the value of that variable, read on first use;
    ``pin=rt.env("SVC_PIN", int)`` reads it as an int (also ``float`` and ``bool``)."""
    return Env(name, kind)


_GIVEN: ContextVar[Mapping[str, Any] | None] = ContextVar("kailash_rt_given_secrets", default=None)


@contextmanager
def given_secrets(values: Mapping[str, Any]) -> Iterator[None]:
    """Within this block (and the tasks it starts), ``env(name).read()`` returns ``values[name]``.

    The in-process runtime passes real secret values this way instead of the environment.
    """
    if not values:
        yield
        return
    token = _GIVEN.set({**(_GIVEN.get() or {}), **values})
    try:
        yield
    finally:
        _GIVEN.reset(token)


def resolve(resource: str, settings: Mapping[str, Any]) -> dict[str, Any]:
    """The settings to create ``resource`` with: overrides from the environment applied, ``env()`` read."""
    resolved: dict[str, Any] = {}
    for key, value in settings.items():
        resolved[key] = _resolve_one(resource, (key,), value)
    return resolved


def resolve_value(resource: str, path: tuple[str, ...], value: Any) -> Any:
    """One value (a factory argument, say) resolved like a setting at ``path``."""
    return _resolve_one(resource, path, value)


def _resolve_one(resource: str, path: tuple[str, ...], value: Any) -> Any:
    variable = env_name(resource, *path)
    if isinstance(value, Env):
        if variable != value.name and (text := os.environ.get(variable)) is not None:
            return value.parse(variable, text)
        text = os.environ.get(value.name)
        if text is None:
            raise ResourceError(
                f"resource {resource!r} needs environment variable {value.name} (its {'.'.join(path)} setting);"
                " set it before the first node that uses the resource runs"
            )
        return value.parse(value.name, text)
    text = os.environ.get(variable)
    if isinstance(value, Mapping):
        if text is not None:
            return _coerce(variable, text, value)
        return {k: _resolve_one(resource, (*path, str(k)), v) for k, v in value.items()}
    if isinstance(value, (list, tuple)) and text is None:
        return type(value)(_resolve_one(resource, (*path, str(i)), v) for i, v in enumerate(value))
    if text is None:
        return value
    return _coerce(variable, text, value)


def _coerce(variable: str, text: str, like: Any) -> Any:
    """An override from the environment, read as the type of the declared value.

    The error names the variable and what was expected, never the text: it may be a secret.
    """
    if isinstance(like, bool):
        return Env(variable, bool).parse(variable, text)
    if isinstance(like, (int, float)):
        return Env(variable, float if isinstance(like, float) else int).parse(variable, text)
    if isinstance(like, (Mapping, list, tuple)):
        import json  # only when such an override is given

        try:
            value = json.loads(text)
        except json.JSONDecodeError as exc:
            message = f"expected a JSON object or array, and it is not JSON ({exc.msg} at character {exc.pos})"
            raise ResourceError(f"environment variable {variable} cannot be used: {message}") from None
        if not isinstance(value, (dict, list)):
            raise ResourceError(f"environment variable {variable} cannot be used: expected a JSON object or array")
        return value
    return text


def _parse_bool(text: str) -> bool:
    lowered = text.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise ValueError("expected one of 1/0, true/false, yes/no, on/off")


def _parse_int(text: str) -> int | float:
    try:
        return int(text)
    except ValueError:
        if text.strip().lstrip("+-").isdigit():  # longer than Python reads (sys.get_int_max_str_digits)
            raise ValueError("expected a number, and this whole number is too long to read") from None
    try:
        return float(text)  # a timeout declared as 30 may be overridden with 2.5
    except ValueError:
        raise ValueError("expected a number") from None


def _parse_float(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise ValueError("expected a number") from None


_PARSERS: dict[type, Any] = {str: str, int: _parse_int, float: _parse_float, bool: _parse_bool}
