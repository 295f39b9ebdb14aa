"""Resource settings: secrets read from the environment, and environment overrides.

A generated module never holds a secret value: it holds ``env("MAIN_DB_PASSWORD")``, read
when the resource is first created. Every setting can also be overridden from the
environment, under a name derived from the resource and setting names: setting ``host``
of resource ``main_db`` is ``MAIN_DB_HOST``; header ``X-Token`` of resource ``api`` is
``API_HEADERS_X_TOKEN``. The compiler uses the same functions to name the variables.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

_SECRET_WORDS = ("password", "passwd", "secret", "token", "apikey", "authorization", "credential", "privatekey")


class ResourceError(RuntimeError):
    """A resource cannot be created: missing variable, bad override, missing package, failed check."""


def env_name(*parts: str) -> str:
    """``env_name("main_db", "password") == "MAIN_DB_PASSWORD"``: upper case, ``_`` for the rest."""
    joined = "_".join(re.sub(r"[^0-9A-Za-z]+", "_", part).strip("_") for part in parts)
    return re.sub(r"_+", "_", joined).upper()


def is_secret_name(name: str) -> bool:
    """Does a setting, header or argument of this name hold a secret (password, token, API key, ...)?"""
    squashed = re.sub(r"[^0-9a-z]", "", str(name).lower())
    return any(word in squashed for word in _SECRET_WORDS)


def url_has_password(value: Any) -> bool:
    """A URL with a password in it (``postgres://user:secret@host/db``) is a secret too."""
    if not isinstance(value, str) or "://" not in value:
        return False
    try:
        return urlsplit(value).password is not None
    except ValueError:
        return False


class Env:
    """A setting read from an environment variable when the resource is created."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"env({self.name!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Env) and other.name == self.name

    def __hash__(self) -> int:
        return hash(("Env", self.name))


def env(name: str) -> Env:
    """``password=rt.env("MAIN_DB_PASSWORD")``: the value of that variable, read on first use."""
    return Env(name)


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
        text = os.environ.get(variable) if variable != value.name else None
        if text is None:
            text = os.environ.get(value.name)
        if text is None:
            raise ResourceError(
                f"resource {resource!r} needs environment variable {value.name} (its {'.'.join(path)} setting);"
                " set it before the first node that uses the resource runs"
            )
        return text
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
    """An override from the environment, read as the type of the declared value."""
    try:
        if isinstance(like, bool):
            lowered = text.strip().lower()
            if lowered in ("1", "true", "yes", "on"):
                return True
            if lowered in ("0", "false", "no", "off"):
                return False
            raise ValueError("expected one of 1/0, true/false, yes/no, on/off")
        if isinstance(like, (int, float)):
            try:
                return int(text)
            except ValueError:
                return float(text)  # a timeout declared as 30 may be overridden with 2.5
        if isinstance(like, (Mapping, list, tuple)):
            value = json.loads(text)
            if not isinstance(value, (dict, list)):
                raise ValueError("expected a JSON object or array")
            return value
    except ValueError as exc:
        raise ResourceError(f"environment variable {variable}={text!r} cannot be used: {exc}") from None
    return text
