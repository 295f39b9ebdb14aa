"""Resource settings are checked at the with_* call: unknown names (with the closest known one) and bad values."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from kailash.errors import WorkflowError
from kailash.resources import checks
from kailash.workflow import AsyncWorkflowBuilder

Declare = Callable[[AsyncWorkflowBuilder], Any]

REFUSED: list[tuple[str, Declare, str, str | None]] = [
    (
        "database-hostname",
        lambda b: b.with_database("db", hostname="db.example"),
        "with_database() has no setting 'hostname'",
        "did you mean 'host'?",
    ),
    (
        "database-databse",
        lambda b: b.with_database("db", databse="app"),
        "with_database() has no setting 'databse'",
        "did you mean 'database'?",
    ),
    (
        "database-port-text",
        lambda b: b.with_database("db", port="abc"),
        "setting 'port' must be a port number from 1 to 65535 (or a list of them), not 'abc'",
        None,
    ),
    (
        "database-port-range",
        lambda b: b.with_database("db", port=70000),
        "setting 'port' must be a port number from 1 to 65535 (or a list of them), not 70000",
        None,
    ),
    (
        "database-pool-sizes",
        lambda b: b.with_database("db", min_size=5, max_size=2),
        "min_size (5) is larger than max_size (2)",
        None,
    ),
    (
        "database-ssl-mode",
        lambda b: b.with_database("db", ssl="requre"),
        "setting 'ssl' must be True, False or an SSL mode",
        "did you mean 'require'?",
    ),
    (
        "database-command-timeout",
        lambda b: b.with_database("db", command_timeout=-1),
        "setting 'command_timeout' must be a number > 0, not -1",
        None,
    ),
    (
        "cache-hots",
        lambda b: b.with_cache("c", hots="cache.example"),
        "with_cache() has no setting 'hots'",
        "did you mean 'host'?",
    ),
    (
        "cache-port-text",
        lambda b: b.with_cache("c", port="6379"),
        "setting 'port' must be an integer from 1 to 65535, not '6379'",
        None,
    ),
    ("cache-db", lambda b: b.with_cache("c", db=-1), "setting 'db' must be an integer >= 0, not -1", None),
    (
        "memory-cache-password",
        lambda b: b.with_cache("c", backend="memory", password="x"),
        "with_cache() has no setting 'password'",
        "the memory cache takes only backend, db, decode_responses, host, port",
    ),
    (
        "http-base-ur",
        lambda b: b.with_http_client("api", base_ur="https://api.example"),
        "with_http_client() has no setting 'base_ur'",
        "did you mean 'base_url'?",
    ),
    (
        "http-connection-limit",
        lambda b: b.with_http_client("api", connection_limit=10),
        "with_http_client() has no setting 'connection_limit'",
        "aiohttp.ClientSession",
    ),
    (
        "http-timeout-text",
        lambda b: b.with_http_client("api", timeout="30"),
        "setting 'timeout' must be a number > 0, not '30'",
        None,
    ),
]


@pytest.mark.parametrize(("declare", "problem", "hint"), [r[1:] for r in REFUSED], ids=[r[0] for r in REFUSED])
def test_a_bad_setting_is_refused_at_the_with_call(declare: Declare, problem: str, hint: str | None) -> None:
    line = inspect.getsourcelines(declare)[1]
    with pytest.raises(WorkflowError) as caught:
        declare(AsyncWorkflowBuilder("settings"))
    message = str(caught.value)
    assert f"{Path(__file__).name}:{line}: resource " in message.splitlines()[0]
    assert problem in message
    if hint is not None:
        assert f"hint: {hint}" in message or hint in message.split("hint: ", 1)[1]
    assert "Traceback" not in message


def test_a_misspelt_setting_never_shows_its_value() -> None:
    with pytest.raises(WorkflowError, match="has no setting 'passwrd'") as caught:
        AsyncWorkflowBuilder("typo").with_database("db", passwrd="typo-secret-1a2b")
    assert "typo-secret-1a2b" not in str(caught.value)
    assert "did you mean 'password'?" in str(caught.value)


def test_a_secret_of_the_wrong_type_is_refused_without_showing_it() -> None:
    with pytest.raises(WorkflowError, match=r"setting 'port' must be .* not a str \(not shown: it is a secret\)") as c:
        AsyncWorkflowBuilder("odd").with_database("db", port="postgres://u:pw-p0rt-3c4d@h/db")
    assert "pw-p0rt-3c4d" not in str(c.value)


def test_good_settings_and_library_settings_are_accepted() -> None:
    builder = AsyncWorkflowBuilder("good")
    builder.with_database(
        "db", host=["a.example", "b.example"], port=[5432, 5433], ssl="verify-full", command_timeout=5
    )
    builder.with_database("pool", min_size=2, max_size=2, statement_cache_size=0, server_settings={"jit": "off"})
    builder.with_cache("redis", socket_connect_timeout=0.5, client_name="svc", decode_responses=True)
    builder.with_cache("memory", backend="memory", decode_responses=True)
    builder.with_http_client("api", base_url="https://api.example", timeout=2.5, raise_for_status=True, trust_env=False)
    assert builder.get_resource_registry().list_resources() == ["api", "db", "memory", "pool", "redis"]


def test_a_setting_only_the_installed_library_knows_is_accepted(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(checks, "_installed", lambda kind: frozenset({"brand_new_option"}))
    AsyncWorkflowBuilder("newer").with_database("db", brand_new_option=1)
    with pytest.raises(WorkflowError, match="has no setting 'brand_new_optoin'"):
        AsyncWorkflowBuilder("newer").with_database("db", brand_new_optoin=1)


@pytest.mark.parametrize(
    ("kind", "module", "target"),
    [("postgres", "asyncpg", "create_pool"), ("http", "aiohttp", "ClientSession"), ("cache", "redis.asyncio", "Redis")],
)
def test_known_names_cover_the_installed_client_library(kind: str, module: str, target: str) -> None:
    """The tables are what a compile checks against when the library is not installed."""
    pytest.importorskip(module)
    checks._installed.cache_clear()
    assert checks._installed(kind) - {"self"} <= checks._known(kind)


def test_a_long_bad_value_is_shown_shortened() -> None:
    with pytest.raises(
        WorkflowError, match=r"setting 'port' must be .*, not '9999.*\.\.\. \(str of 100002 characters\)"
    ) as c:
        AsyncWorkflowBuilder("long").with_cache("c", port="9" * 100_000)
    assert len(str(c.value)) < 400
