"""The settings a ``with_*`` declaration accepts, checked at the builder call.

Settings go to the client library when the resource is created (``asyncpg.create_pool``,
``aiohttp.ClientSession``, ``redis.asyncio.Redis``), so a misspelt name
(``hostname=``, ``databse=``) or a value of the wrong type (``port="abc"``) would only
fail when a run first uses the resource. Here it is refused where it was written, with
the closest known name. The names are those of the supported library versions; a name a
newer installed library accepts is accepted too. A secret setting's value is never shown.
"""

from __future__ import annotations

import difflib
import importlib
import inspect
from collections.abc import Callable
from functools import cache
from typing import Any

from ..errors import WorkflowError
from ..ir import EnvRef, ResourceIR

# Keyword arguments of asyncpg.create_pool and asyncpg.connect (asyncpg 0.29-0.32).
_POSTGRES = frozenset(
    [
        "command_timeout",
        "connect",
        "connection_class",
        "database",
        "direct_tls",
        "dsn",
        "gsslib",
        "host",
        "init",
        "init_size",
        "krbsrvname",
        "loop",
        "max_cacheable_statement_size",
        "max_cached_statement_lifetime",
        "max_inactive_connection_lifetime",
        "max_queries",
        "max_size",
        "min_size",
        "passfile",
        "password",
        "port",
        "record_class",
        "reset",
        "server_settings",
        "service",
        "servicefile",
        "setup",
        "ssl",
        "statement_cache_size",
        "target_session_attrs",
        "timeout",
        "user",
    ]
)
# Keyword arguments of aiohttp.ClientSession (aiohttp 3.9-3.14); base_url, headers and timeout are the builder's.
_HTTP = frozenset(
    [
        "auth",
        "auto_decompress",
        "base_url",
        "conn_timeout",
        "connector",
        "connector_owner",
        "cookie_jar",
        "cookies",
        "fallback_charset_resolver",
        "headers",
        "json_serialize",
        "json_serialize_bytes",
        "loop",
        "max_field_size",
        "max_headers",
        "max_line_size",
        "middlewares",
        "proxy",
        "proxy_auth",
        "raise_for_status",
        "read_bufsize",
        "read_timeout",
        "request_class",
        "requote_redirect_url",
        "response_class",
        "skip_auto_headers",
        "ssl_shutdown_timeout",
        "timeout",
        "trace_configs",
        "trust_env",
        "version",
        "ws_response_class",
    ]
)
# Keyword arguments of redis.asyncio.Redis (redis 5-8), and the builder's backend.
_REDIS = frozenset(
    [
        "auto_close_connection_pool",
        "backend",
        "client_name",
        "connection_pool",
        "credential_provider",
        "db",
        "decode_responses",
        "driver_info",
        "encoding",
        "encoding_errors",
        "event_dispatcher",
        "health_check_interval",
        "host",
        "legacy_responses",
        "lib_name",
        "lib_version",
        "maint_notifications_config",
        "max_connections",
        "password",
        "port",
        "protocol",
        "redis_connect_func",
        "retry",
        "retry_on_error",
        "retry_on_timeout",
        "single_connection_client",
        "socket_connect_timeout",
        "socket_keepalive",
        "socket_keepalive_options",
        "socket_read_size",
        "socket_timeout",
        "ssl",
        "ssl_ca_certs",
        "ssl_ca_data",
        "ssl_ca_path",
        "ssl_cert_reqs",
        "ssl_certfile",
        "ssl_check_hostname",
        "ssl_ciphers",
        "ssl_exclude_verify_flags",
        "ssl_include_verify_flags",
        "ssl_keyfile",
        "ssl_min_version",
        "ssl_password",
        "unix_socket_path",
        "username",
    ]
)
# The embedded memory cache: host, port and db are accepted (and ignored) so a declaration can switch backends.
_MEMORY = frozenset({"backend", "host", "port", "db", "decode_responses"})

_TARGETS = {
    "postgres": ("with_database", "asyncpg.create_pool"),
    "http": ("with_http_client", "aiohttp.ClientSession"),
    "cache": ("with_cache", "redis.asyncio.Redis"),
}
_SSL_MODES = ("disable", "allow", "prefer", "require", "verify-ca", "verify-full")


def check_setting_names(resource: ResourceIR) -> None:
    """Refuse a setting the declaration does not take, naming the closest one it does."""
    if resource.kind not in _TARGETS:
        return
    memory = resource.kind == "cache" and resource.settings.get("backend") == "memory"
    known = _MEMORY if memory else _known(resource.kind)
    method, target = _TARGETS[resource.kind]
    for name in resource.settings:
        if name in known or (not memory and name in _installed(resource.kind)):
            continue
        close = difflib.get_close_matches(name, sorted(known), n=1)
        where = "the memory cache takes only " + ", ".join(sorted(_MEMORY)) if memory else f"see {target}"
        raise WorkflowError(
            f"resource {resource.name!r}: {method}() has no setting {name!r}",
            location=resource.location,
            hint=f"did you mean {close[0]!r}? ({where})" if close else where,
        )


def check_setting_values(resource: ResourceIR) -> None:
    """Refuse a value of the wrong type or range for a setting whose type is known."""
    checks = _TYPES.get(resource.kind, {})
    for name, value in resource.settings.items():
        check = checks.get(name)
        real = value.value if isinstance(value, EnvRef) else value
        if check is None or real is None:
            continue
        expected = check(real)
        if expected is not None:
            shown = f"a {value.kind} (not shown: it is a secret)" if isinstance(value, EnvRef) else _shown(value)
            raise WorkflowError(
                f"resource {resource.name!r}: setting {name!r} must be {expected}, not {shown}",
                location=resource.location,
                hint=_close_mode(real) if name == "ssl" and isinstance(real, str) else None,
            )
    _check_pool_sizes(resource)


def _shown(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else f"{text[:limit]}... ({type(value).__name__} of {len(text)} characters)"


def _known(kind: str) -> frozenset[str]:
    return {"postgres": _POSTGRES, "http": _HTTP, "cache": _REDIS}[kind]


@cache
def _installed(kind: str) -> frozenset[str]:
    """Keyword names the installed client library accepts (empty when it is not installed)."""
    targets = {
        "postgres": [("asyncpg", "create_pool"), ("asyncpg", "connect")],
        "http": [("aiohttp", "ClientSession")],
        "cache": [("redis.asyncio", "Redis")],
    }[kind]
    names: set[str] = set()
    for module_name, attribute in targets:
        try:
            target = getattr(importlib.import_module(module_name), attribute)
            parameters = inspect.signature(target).parameters.values()
        except (ImportError, AttributeError, TypeError, ValueError):
            continue
        names.update(p.name for p in parameters if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY))
    return frozenset(names)


def _check_pool_sizes(resource: ResourceIR) -> None:
    low, high = resource.settings.get("min_size"), resource.settings.get("max_size")
    if resource.kind == "postgres" and isinstance(low, int) and isinstance(high, int) and low > high:
        raise WorkflowError(
            f"resource {resource.name!r}: min_size ({low}) is larger than max_size ({high})",
            location=resource.location,
            hint="a pool keeps min_size connections open and never more than max_size",
        )


def _close_mode(mode: str) -> str:
    close = difflib.get_close_matches(mode, _SSL_MODES, n=1)
    listed = ", ".join(_SSL_MODES)
    return f"did you mean {close[0]!r}? (modes: {listed})" if close else f"modes: {listed}"


# Each check returns what was expected, or None when the value is fine.
Check = Callable[[Any], "str | None"]


def _integer(minimum: int, maximum: int | None = None) -> Check:
    wanted = f"an integer from {minimum} to {maximum}" if maximum is not None else f"an integer >= {minimum}"

    def check(value: Any) -> str | None:
        ok = isinstance(value, int) and not isinstance(value, bool) and value >= minimum
        return None if ok and (maximum is None or value <= maximum) else wanted

    return check


def _number(positive: bool = True) -> Check:
    wanted = "a number > 0" if positive else "a number >= 0"

    def check(value: Any) -> str | None:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool) and value == value
        return None if ok and (value > 0 if positive else value >= 0) and value != float("inf") else wanted

    return check


def _one_of(*types: type, wanted: str) -> Check:
    def check(value: Any) -> str | None:
        return None if isinstance(value, types) and not (bool not in types and isinstance(value, bool)) else wanted

    return check


def _text_or_list(item: Check, wanted: str) -> Check:
    def check(value: Any) -> str | None:
        items = value if isinstance(value, list) and value else [value]
        return None if all(item(v) is None for v in items) else wanted

    return check


def _ssl_mode(value: Any) -> str | None:
    if isinstance(value, bool) or (isinstance(value, str) and value in _SSL_MODES):
        return None
    return "True, False or an SSL mode (" + ", ".join(_SSL_MODES) + ")"


def _headers(value: Any) -> str | None:
    return None if isinstance(value, dict) and all(isinstance(k, str) for k in value) else "a dict of header names"


_PORT = _integer(1, 65535)
_TEXT = _one_of(str, wanted="a string")
_FLAG = _one_of(bool, wanted="True or False")

_TYPES: dict[str, dict[str, Check]] = {
    "postgres": {
        "host": _text_or_list(_TEXT, "a host name (or a list of them)"),
        "port": _text_or_list(_PORT, "a port number from 1 to 65535 (or a list of them)"),
        "database": _TEXT,
        "user": _TEXT,
        "dsn": _TEXT,
        "passfile": _TEXT,
        "min_size": _integer(0),
        "max_size": _integer(1),
        "max_queries": _integer(1),
        "statement_cache_size": _integer(0),
        "max_inactive_connection_lifetime": _number(positive=False),
        "timeout": _number(),
        "command_timeout": _number(),
        "ssl": _ssl_mode,
    },
    "http": {
        "base_url": _TEXT,
        "headers": _headers,
        "timeout": _number(),
        "raise_for_status": _FLAG,
        "trust_env": _FLAG,
        "auto_decompress": _FLAG,
    },
    "cache": {
        "host": _TEXT,
        "port": _PORT,
        "db": _integer(0),
        "decode_responses": _FLAG,
        "socket_timeout": _number(),
        "socket_connect_timeout": _number(),
        "health_check_interval": _number(positive=False),
        "max_connections": _integer(1),
        "username": _TEXT,
        "ssl": _FLAG,
    },
}
