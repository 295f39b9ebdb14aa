"""Resource settings: secrets read from the environment, and environment overrides.

A generated module never holds a secret value: it holds ``env("MAIN_DB_PASSWORD")``, read
when the resource is first created. Every setting can also be overridden from the
environment, under a name derived from the resource and setting names: setting ``host``
of resource ``main_db`` is ``MAIN_DB_HOST``; header ``X-Token`` of resource ``api`` is
``API_HEADERS_X_TOKEN``. The compiler uses the same functions to name the variables.

A secret parameter of a resource node is read when the node runs, ``env("Q_PARAMS_TOKEN").read()``;
the in-process runtime supplies such values with ``given_secrets`` instead of the environment.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any
from urllib.parse import parse_qsl, urlsplit

# A name holds a secret when, squashed to lower-case letters and digits, it contains one of
# these words ("X-Api-Key" -> "xapikey") ...
_SECRET_WORDS = (
    "password",
    "passwd",
    "passphrase",
    "secret",
    "token",
    "apikey",
    "accesskey",
    "authorization",
    "credential",
    "privatekey",
    "cookie",
    "sessionid",
)
# ... or when one of its words (split at punctuation and camelCase) is one of these short ones,
# which inside longer words mean something else ("author", "compass").
_SECRET_PARTS = frozenset({"pwd", "pass", "pw", "auth", "session", "jwt", "sid"})


class ResourceError(RuntimeError):
    """A resource cannot be created: missing variable, bad override, missing package, failed check."""


def env_name(*parts: str) -> str:
    """``env_name("main_db", "password") == "MAIN_DB_PASSWORD"``: upper case, ``_`` for the rest."""
    joined = "_".join(re.sub(r"[^0-9A-Za-z]+", "_", part).strip("_") for part in parts)
    return re.sub(r"_+", "_", joined).upper()


def is_secret_name(name: str) -> bool:
    """Does a setting, header or argument of this name hold a secret (password, token, API key, ...)?"""
    text = str(name)
    squashed = re.sub(r"[^0-9a-z]", "", text.lower())
    if any(word in squashed for word in _SECRET_WORDS):
        return True
    parts = re.findall(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+", text)
    return any(part.lower() in _SECRET_PARTS for part in parts)


def url_has_secret(value: Any) -> bool:
    """A URL with a password (``postgres://user:secret@host/db``) or a secret-named query
    parameter (``https://api/v1?api_key=...``) is a secret as a whole."""
    if not isinstance(value, str) or any(c.isspace() for c in value):
        return False
    if "://" in value:
        try:
            parts = urlsplit(value)
            if parts.password is not None:
                return True
        except ValueError:
            return False
        query = parts.query
    elif "?" in value:  # a relative URL such as "/users?token=..."
        query = value.split("?", 1)[1].split("#", 1)[0]
    else:
        return False
    return any(is_secret_name(key) and item for key, item in parse_qsl(query, keep_blank_values=True))


def holds_secret(path: tuple[str, ...], value: Any) -> bool:
    """Is ``value`` (a string setting at ``path``) a secret that must not be written into a file?"""
    return isinstance(value, str) and bool(value) and (any(map(is_secret_name, path)) or url_has_secret(value))


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

    def read(self) -> str:
        """The value now: given in process (``given_secrets``), else from the environment."""
        given = _GIVEN.get()
        text = given.get(self.name) if given else None
        if text is None:
            text = os.environ.get(self.name)
        if text is None:
            raise ResourceError(f"environment variable {self.name} is not set")
        return text


def env(name: str) -> Env:
    """``password=rt.env("MAIN_DB_PASSWORD")``: the value of that variable, read on first use."""
    return Env(name)


_GIVEN: ContextVar[Mapping[str, str] | None] = ContextVar("kailash_rt_given_secrets", default=None)


@contextmanager
def given_secrets(values: Mapping[str, str]) -> Iterator[None]:
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
