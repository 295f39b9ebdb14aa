"""What a secret is: the one decision, used by the compiler and the runtime alike.

A value is a secret when it sits under a secret-looking name (``password``, ``X-Api-Key``,
``signing_key``, ...; the name of a setting, header, argument, or of any key above the
value), whatever its type: ``password=13371337`` and ``headers={"X-Token": 123}`` are
secrets. Only ``None``, the empty string and ``True``/``False`` are not: they hide nothing.

A string is a secret under any name when it carries credentials: a URL with user
information (``postgres://user:pw@host/db``, ``https://TOKEN@host/``), a URL or query
string with a secret-looking key (``?api_key=...``, ``&sig=...``, ``#access_token=...``),
or a key/value connection string with one (``host=h password=...``,
``Server=s;Pwd=...``). Surrounding whitespace and malformed URLs do not hide them.

``secret_leaves`` and ``replace_secrets`` walk a setting (dicts, lists, tuples) with this
decision; nothing else in kailash decides or walks on its own.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

# A name holds a secret when, squashed to lower-case letters and digits, it contains one of
# these words ("X-Api-Key" -> "xapikey") ...
_SECRET_WORDS = (
    "password",
    "passwd",
    "passphrase",
    "passcode",
    "secret",
    "token",
    "bearer",
    "apikey",
    "accesskey",
    "authorization",
    "credential",
    "creds",
    "privatekey",
    "privkey",
    "signingkey",
    "subscriptionkey",
    "masterkey",
    "encryptionkey",
    "consumerkey",
    "clientkey",
    "sharedkey",
    "hmackey",
    "cookie",
    "sessionid",
)
# ... or when one of its words (split at punctuation and camelCase) is one of these short ones,
# which inside longer words mean something else ("author", "compass", "signal").
_SECRET_PARTS = frozenset({"pwd", "pass", "pw", "auth", "session", "jwt", "sid", "sig", "otp", "psk"})
# In a URL's query or fragment and in a connection string, these keys hold secrets too
# (``?key=`` of many HTTP APIs, ``&sig=`` of signed URLs, ``AccountKey=`` of connection strings).
_SECRET_QUERY_PARTS = frozenset({"key", "sig", "signature"})

_SCALARS = (str, int, float)
_MAX_DEPTH = 100  # deeper values are not walked (the compiler refuses them as settings)

# The authority of a URL: after "scheme://", or after "//" opening a word. Each alternative
# starts only where a scheme or word starts, so a search is linear in the text's length.
_AUTHORITY = re.compile(r"(?<![A-Za-z0-9+.\-])[A-Za-z][A-Za-z0-9+.\-]*://([^/?#]*)|(?<![^\s\"'(<\[,;=])//([^/?#]*)")
_PAIR_KEY = r"[A-Za-z_][\w.\-]*"
_PAIR_VALUE = r"'(?:\\.|[^'\\])*'|\"[^\"]*\"|\{[^}]*\}|[^\s;&]*"
_PAIR = re.compile(rf"({_PAIR_KEY})\s*=\s*({_PAIR_VALUE})")
_PAIRS = re.compile(rf"(?:{_PAIR_KEY}\s*=\s*(?:{_PAIR_VALUE}))(?:[\s;&]+{_PAIR_KEY}\s*=\s*(?:{_PAIR_VALUE}))*[\s;&]*")


def _words(name: str) -> list[str]:
    return [part.lower() for part in re.findall(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+", name)]


def is_secret_name(name: Any) -> bool:
    """Does a setting, header, argument or key of this name hold a secret (password, token, API key, ...)?"""
    text = str(name)
    squashed = re.sub(r"[^0-9a-z]", "", text.lower())
    if any(word in squashed for word in _SECRET_WORDS):
        return True
    return any(part in _SECRET_PARTS for part in _words(text))


def is_secret_query_key(name: str) -> bool:
    """Does a key of a URL query, URL fragment or connection string hold a secret?"""
    return is_secret_name(name) or any(part in _SECRET_QUERY_PARTS for part in _words(name))


def has_credentials(text: str) -> bool:
    """Does this string carry credentials wherever it has them: URL user information, a
    secret-looking query or fragment key, or a key/value connection string with one?"""
    if any("@" in (match.group(1) or match.group(2) or "") for match in _AUTHORITY.finditer(text)):
        return True
    for word in text.split():
        cut = min((i for i in (word.find("?"), word.find("#")) if i >= 0), default=-1)
        if cut >= 0 and any(_secret_pair(pair) for pair in re.split(r"[?#&;]", word[cut + 1 :])):
            return True
    stripped = text.strip()
    if _PAIRS.fullmatch(stripped):
        return any(value.strip("'\"{}") and is_secret_query_key(key) for key, value in _PAIR.findall(stripped))
    return False


def _secret_pair(pair: str) -> bool:
    """``key=value`` of a query or fragment, with a value and a secret-looking key?"""
    from urllib.parse import unquote_plus  # urllib.parse and ipaddress: only for text with a query

    key, equals, value = pair.partition("=")
    return bool(equals and value) and is_secret_query_key(unquote_plus(key).strip())


def is_secret(path: tuple[str, ...], value: Any) -> bool:
    """Is ``value``, found at ``path`` (setting name, then the keys below it), a secret?"""
    if not isinstance(value, _SCALARS) or isinstance(value, bool) or value == "":
        return False
    if any(map(is_secret_name, path)):
        return True
    return isinstance(value, str) and has_credentials(value)


def secret_leaves(path: tuple[str, ...], value: Any, depth: int = 0) -> Iterator[tuple[tuple[str, ...], Any]]:
    """Every secret in ``value`` (a setting at ``path``), with the path that leads to it."""
    if is_secret(path, value):
        yield path, value
    elif depth < _MAX_DEPTH and isinstance(value, dict):
        for key, item in value.items():
            yield from secret_leaves((*path, str(key)), item, depth + 1)
    elif depth < _MAX_DEPTH and isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            yield from secret_leaves((*path, str(index)), item, depth + 1)


def has_secret(path: tuple[str, ...], value: Any, depth: int = 0) -> bool:
    return next(secret_leaves(path, value, depth), None) is not None


def replace_secrets(
    path: tuple[str, ...], value: Any, replace: Callable[[tuple[str, ...], Any], Any], depth: int = 0
) -> Any:
    """``value`` with each secret in it replaced by ``replace(path, secret)``; containers are
    rebuilt as plain dicts, lists and tuples only where they hold a secret."""
    if is_secret(path, value):
        return replace(path, value)
    if depth >= _MAX_DEPTH or not has_secret(path, value, depth):
        return value
    if isinstance(value, dict):
        return {key: replace_secrets((*path, str(key)), item, replace, depth + 1) for key, item in value.items()}
    items = [replace_secrets((*path, str(index)), item, replace, depth + 1) for index, item in enumerate(value)]
    return tuple(items) if isinstance(value, tuple) else items
