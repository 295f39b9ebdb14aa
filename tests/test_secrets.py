"""No secret in any written file: every spelling and type of a secret, each read back from its variable.

Each case declares one secret in a workflow file, compiles it (the in-process runtime's
compile, which writes the module into the compile cache; the command line for all cases
at once), and checks that the plaintext is in no written file, not in the IR's JSON form
or repr, that the module names the variable in its docstring, and that the module reads
the value, with its declared type, from that variable (and the in-process runtime uses
the real value with no variable set).
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from kailash.codegen import compile_ir
from kailash.errors import WorkflowError
from kailash.ir import WorkflowIR
from kailash.resources import ResourceFactory
from kailash.resources.specs import run_resources
from kailash.runtime import AsyncLocalRuntime
from kailash.runtime.async_local import compiled_module
from kailash.sources import load_workflows
from kailash.workflow import AsyncWorkflowBuilder, Workflow
from kailash_rt import ResourceError
from kailash_rt._secrets import has_credentials, is_secret, is_secret_name
from kailash_rt._settings import Env, resolve

WORKFLOW_FILE = '''
from kailash.resources import ResourceFactory
from kailash.workflow import AsyncWorkflowBuilder


class Echo(ResourceFactory):
    """The resource is the factory itself: its arguments, and echo() returning its parameters."""

    def __init__(self, **settings):
        self.settings = settings

    async def create(self):
        return self

    def echo(self, **params):
        return params


builder = AsyncWorkflowBuilder("secret_case")
{declare}
'''


@dataclass(frozen=True)
class Case:
    id: str
    declare: str  # builder calls; {secret!r} is the secret
    secret: Any
    variable: str
    where: tuple[str, str, tuple[str, ...]]  # ("settings"|"factory"|"node", resource or node, path in it)
    from_env: str  # the variable's text in the environment run
    read_back: Any  # what the module makes of it
    marker: str = ""  # the part of the secret that must be in no file (default: all of it)

    @property
    def plaintext(self) -> str:
        return self.marker or str(self.secret)


def _node(params: str) -> str:
    return f'builder.require_resource("svc", Echo())\nbuilder.add_resource_node("n", "svc", "echo", {params})'


CASES = [
    # any value of a secret-named setting, whatever its type
    Case(
        "database-password-int",
        'builder.with_database("main_db", password={secret!r})',
        13371337,
        "MAIN_DB_PASSWORD",
        ("settings", "main_db", ("password",)),
        "24682468",
        24682468,
    ),
    Case(
        "database-password-float",
        'builder.with_database("main_db", password={secret!r})',
        1337.8125,
        "MAIN_DB_PASSWORD",
        ("settings", "main_db", ("password",)),
        "2.5",
        2.5,
    ),
    Case(
        "http-header-int",
        'builder.with_http_client("api", headers={{"X-Token": {secret!r}}})',
        123123123,
        "API_HEADERS_X_TOKEN",
        ("settings", "api", ("headers", "X-Token")),
        "321321",
        321321,
    ),
    Case(
        "factory-argument-int",
        'builder.require_resource("svc", Echo(api_key={secret!r}))',
        42424242,
        "SVC_API_KEY",
        ("factory", "svc", ("api_key",)),
        "7",
        7,
    ),
    Case(
        "node-parameter-int",
        _node('{{"token": {secret!r}}}'),
        98769876,
        "N_PARAMS_TOKEN",
        ("node", "n", ("token",)),
        "5",
        5,
    ),
    Case(
        "node-parameter-float",
        _node('{{"secret": {secret!r}}}'),
        0.918273645,
        "N_PARAMS_SECRET",
        ("node", "n", ("secret",)),
        "0.5",
        0.5,
    ),
    Case(
        "node-parameter-header-int",
        _node('{{"headers": {{"X-Token": {secret!r}, "Accept": "text/plain"}}}}'),
        55556666,
        "N_PARAMS_HEADERS_X_TOKEN",
        ("node", "n", ("headers", "X-Token")),
        "8",
        8,
    ),
    # URLs with credentials, however they are written
    Case(
        "url-with-surrounding-whitespace",
        'builder.with_database("main_db", dsn={secret!r})',
        "  postgres://app:pw-ws-1a1a@db.example/app \n",
        "MAIN_DB_DSN",
        ("settings", "main_db", ("dsn",)),
        "postgres://app@other/app",
        "postgres://app@other/app",
        marker="pw-ws-1a1a",
    ),
    Case(
        "malformed-url",
        'builder.with_database("main_db", dsn={secret!r})',
        "postgres://app:pw-bad-2b2b@[::1/app",
        "MAIN_DB_DSN",
        ("settings", "main_db", ("dsn",)),
        "postgres://db/app",
        "postgres://db/app",
        marker="pw-bad-2b2b",
    ),
    Case(
        "https-userinfo-without-password",
        'builder.with_http_client("api", base_url={secret!r})',
        "https://tok-3c3c@api.example/v1/",
        "API_BASE_URL",
        ("settings", "api", ("base_url",)),
        "https://api.example/v2/",
        "https://api.example/v2/",
        marker="tok-3c3c",
    ),
    Case(
        "redis-userinfo-without-password",
        'builder.require_resource("svc", Echo(url={secret!r}))',
        "redis://tok-4d4d@cache.example:6379/0",
        "SVC_URL",
        ("factory", "svc", ("url",)),
        "redis://cache.example:6379/1",
        "redis://cache.example:6379/1",
        marker="tok-4d4d",
    ),
    *(
        Case(
            f"query-key-{key}",
            'builder.with_http_client("api", base_url={secret!r})',
            f"https://api.example/v1?page=2&{key}=qv-{key}-5e5e",
            "API_BASE_URL",
            ("settings", "api", ("base_url",)),
            "https://api.example/v1?page=3",
            "https://api.example/v1?page=3",
            marker=f"qv-{key}-5e5e",
        )
        for key in ("key", "sig", "token", "access_token")
    ),
    Case(
        "query-key-in-node-parameter",
        _node('{{"url": {secret!r}}}'),
        "https://api.example/items?api_key=np-6f6f",
        "N_PARAMS_URL",
        ("node", "n", ("url",)),
        "https://api.example/items",
        "https://api.example/items",
        marker="np-6f6f",
    ),
    Case(
        "key-value-dsn",
        'builder.with_database("main_db", dsn={secret!r})',
        "host=db.example password=kv-7a7a dbname=app",
        "MAIN_DB_DSN",
        ("settings", "main_db", ("dsn",)),
        "host=db.example dbname=app",
        "host=db.example dbname=app",
        marker="kv-7a7a",
    ),
    # names that say "secret" in other words
    *(
        Case(
            f"name-{name}",
            f'builder.require_resource("svc", Echo({name}={{secret!r}}))',
            f"nm-{name}-8b8b",
            f"SVC_{name.upper()}",
            ("factory", "svc", (name,)),
            "from-env",
            "from-env",
        )
        for name in ("passcode", "bearer", "signing_key", "aws_creds")
    ),
    Case(
        "name-subscription-key-header",
        'builder.with_http_client("api", headers={{"Ocp-Apim-Subscription-Key": {secret!r}}})',
        "nm-subscription-9c9c",
        "API_HEADERS_OCP_APIM_SUBSCRIPTION_KEY",
        ("settings", "api", ("headers", "Ocp-Apim-Subscription-Key")),
        "from-env",
        "from-env",
    ),
]


def _workflow_file(tmp_path: Path, declare: str) -> Path:
    path = tmp_path / "secret_case.py"
    path.write_text(WORKFLOW_FILE.format(declare=declare))
    return path


def _workflow(path: Path) -> Workflow:
    (found,) = load_workflows(str(path))
    return found.workflow


def _files_holding(text: str, *roots: Path) -> list[Path]:
    found = []
    for root in roots:
        for path in [root] if root.is_file() else root.rglob("*"):
            if path.is_file() and text in path.read_bytes().decode("utf-8", "replace"):
                found.append(path)
    return found


def _at(value: Any, path: tuple[str, ...]) -> Any:
    for key in path:
        value = value[key]
    return value


def _read_back(case: Case, module: ModuleType | None, workflow: Workflow) -> Any:
    """The value as the resource (or node) gets it: from the module, or in process when ``module`` is None."""
    kind, name, path = case.where
    if kind == "node":
        if module is None:
            result = asyncio.run(AsyncLocalRuntime().execute_workflow_async(workflow, {}))
        else:
            result = asyncio.run(module.run({}))
        assert result["errors"] == {}
        return _at(result["results"][name]["result"], path)
    specs = module.RESOURCES.specs if module is not None else run_resources(workflow).specs  # type: ignore[union-attr]
    if kind == "settings":
        return _at(specs[name].resolved(), path)
    return _at(specs[name].instance().settings, path)


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_secret_is_in_no_written_file_and_is_read_from_its_variable(
    case: Case, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = tmp_path / "cache"
    monkeypatch.setenv("KAILASH_COMPILE_CACHE", str(cache))
    monkeypatch.delenv(case.variable, raising=False)
    workflow = _workflow(_workflow_file(tmp_path, case.declare.format(secret=case.secret)))

    generated, module = compiled_module(workflow)  # the in-process compile: formats and writes through the cache

    assert module.__file__ is not None
    # (two cases differing only in the secret share one module: it was written by the first)
    assert _files_holding(case.plaintext, cache, Path(module.__file__)) == []
    assert case.plaintext not in generated.source
    assert case.plaintext not in workflow.ir.to_json()
    assert case.plaintext not in repr(workflow.ir)
    docstring = " ".join(generated.source.split('"""')[1].split())
    assert case.variable in docstring.split("Environment variables: ")[1]
    assert f'rt.env("{case.variable}"' in generated.source
    # in process, with no variable set: the real value, with its type
    assert _read_back(case, None, workflow) == case.secret
    assert type(_read_back(case, None, workflow)) is type(case.secret)
    # the module: the value from the variable, read as the declared type
    monkeypatch.setenv(case.variable, case.from_env)
    read = _read_back(case, module, workflow)
    assert read == case.read_back
    assert type(read) is type(case.read_back)


def test_no_case_reaches_the_command_lines_output_or_cache(tmp_path: Path) -> None:
    """Every case in one workflow file, compiled by ``kailash-compile``."""
    names = {'"main_db"': "main_db", '"api"': "api", '"svc"': "svc", '"n"': "n"}
    declared = []
    for index, case in enumerate(CASES):
        text = case.declare.format(secret=case.secret)
        for quoted, name in names.items():
            text = text.replace(quoted, f'"{name}_{index}"')
        declared.append(text)
    path = _workflow_file(tmp_path, "\n".join(declared))
    out, cache = tmp_path / "out", tmp_path / "cache"
    env = {**os.environ, "KAILASH_COMPILE_CACHE": str(cache)}
    done = subprocess.run(
        [sys.executable, "-m", "kailash.cli", str(path), "-o", str(out)],
        capture_output=True,
        text=True,
        check=False,
        env=env,
    )
    assert done.returncode == 0, done.stderr
    source = (out / "secret_case.py").read_text()
    assert source.count("rt.env(") == len(CASES)
    for case in CASES:
        assert _files_holding(case.plaintext, out, cache) == [], case.id
        assert case.plaintext not in done.stdout + done.stderr


def test_the_module_name_and_content_hash_do_not_depend_on_secret_values(tmp_path: Path) -> None:
    """The in-process compile cache names modules by content hash: a hash over a secret could
    be brute-forced offline. Two workflows differing only in secrets share one module, and
    each run still gets its own secrets."""

    def build(password: str, token: int) -> Workflow:
        builder = AsyncWorkflowBuilder("hashed").with_database("main_db", password=password)
        builder.require_resource("svc", EchoFactory())
        builder.add_resource_node("n", "svc", "echo", {"token": token})
        return builder.build()

    first, second = build("first-pw-1d1d", 111), build("second-pw-2e2e", 222)
    assert first.ir.content_hash() == second.ir.content_hash()
    (_, first_module), (_, second_module) = compiled_module(first), compiled_module(second)
    assert first_module is second_module
    assert "first-pw-1d1d" not in first_module.__name__ and "1d1d" not in first.ir.to_json()
    runtime = AsyncLocalRuntime()
    for workflow, password, token in ((first, "first-pw-1d1d", 111), (second, "second-pw-2e2e", 222)):
        result = asyncio.run(runtime.execute_workflow_async(workflow, {}))
        assert result["results"]["n"]["result"] == {"token": token}
        assert run_resources(workflow).specs["main_db"].resolved()["password"] == password


class EchoFactory(ResourceFactory):
    async def create(self) -> Any:
        return self

    def echo(self, **params: Any) -> dict[str, Any]:
        return params


@pytest.mark.parametrize(
    ("declared", "text"),
    [
        (5432, "543x-SHOWN-1"),
        (2.5, "two-and-a-half-SHOWN-2"),
        (True, "maybe-SHOWN-3"),
        ({"a": 1}, '{"a": SHOWN-4'),
        ([1, 2], "[SHOWN-5"),
        (Env("SVC_PIN", int), "pin-SHOWN-6"),
        (Env("SVC_RATE", float), "rate-SHOWN-7"),
        (Env("SVC_PIN", int), "9" * 5000),
    ],
    ids=["int", "float", "bool", "dict", "list", "secret-int", "secret-float", "secret-int-too-long"],
)
def test_an_override_that_cannot_be_parsed_never_shows_its_value(
    declared: Any, text: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    variable = declared.name if isinstance(declared, Env) else "SVC_SETTING"
    monkeypatch.setenv(variable, text)
    with pytest.raises(ResourceError) as caught:
        resolve("svc", {"pin" if isinstance(declared, Env) else "setting": declared})
    message = str(caught.value)
    assert variable in message and "cannot be used" in message
    assert "SHOWN" not in message and "9999" not in message
    if isinstance(declared, Env):
        with pytest.raises(ResourceError) as read:
            declared.read()
        assert "SHOWN" not in str(read.value) and "9999" not in str(read.value)


def test_ir_from_json_reads_secrets_from_the_environment() -> None:
    builder = AsyncWorkflowBuilder("from_json").with_database("main_db", password=13371337)
    builder.add_resource_node("n", "main_db", "fetchval", {"query": "SELECT 1", "timeout_token": "tt-9d9d"})
    ir = builder.build().ir
    text = ir.to_json()
    assert "13371337" not in text and "tt-9d9d" not in text
    again = WorkflowIR.from_json(text)
    assert again == ir and again.to_json() == text
    assert compile_ir(again).source == compile_ir(ir).source
    assert again.secret_values() == {}  # nothing to give: the specs read the variables
    assert repr(run_resources(again).specs["main_db"].settings["password"]) == "env('MAIN_DB_PASSWORD', int)"


def test_an_ir_written_before_secrets_were_references_is_cleaned_when_read() -> None:
    ir = AsyncWorkflowBuilder("old").with_database("main_db", host="db").build().ir
    data = json.loads(ir.to_json())
    data["ir_version"] = 1
    data["resources"][0]["settings"]["password"] = "old-pw-0f0f"
    again = WorkflowIR.from_json(json.dumps(data))
    assert "old-pw-0f0f" not in again.to_json() and "old-pw-0f0f" not in compile_ir(again).source
    assert again.secret_values() == {"MAIN_DB_PASSWORD": "old-pw-0f0f"}


def test_two_secrets_that_would_share_a_variable_are_refused() -> None:
    builder = AsyncWorkflowBuilder("shared").with_http_client("api", headers={"X-Token": "a-1", "X_Token": "b-2"})
    with pytest.raises(WorkflowError, match="would both be read from environment variable API_HEADERS_X_TOKEN"):
        compile_ir(builder.build().ir)


def test_a_key_carrying_credentials_is_refused_not_written() -> None:
    with pytest.raises(WorkflowError, match="key that carries credentials") as caught:
        AsyncWorkflowBuilder("keyed").with_http_client("api", headers={"https://u:pw-k3y@h/": "x"})
    assert "pw-k3y" not in str(caught.value)


# -- the decision itself ----------------------------------------------------------------------
@pytest.mark.parametrize(
    "name",
    [
        "password",
        "passcode",
        "Bearer",
        "signing_key",
        "signingKey",
        "aws_creds",
        "credsFile",
        "Ocp-Apim-Subscription-Key",
        "X-Token",
        "url_sig",
        "api_key",
        "client_secret",
    ],
)
def test_secret_names(name: str) -> None:
    assert is_secret_name(name)
    for value in ("x", 1, 1.5):
        assert is_secret((name,), value)
        assert is_secret(("headers", name), value)


@pytest.mark.parametrize("name", ["host", "author", "signal", "key", "cache_key", "monkey", "compass", "bypass"])
def test_plain_names(name: str) -> None:
    assert not is_secret_name(name)


def test_what_is_not_a_secret_even_under_a_secret_name() -> None:
    for value in (None, "", True, False, [], {}):
        assert not is_secret(("password",), value), value


@pytest.mark.parametrize(
    "text",
    [
        " postgres://u:pw@h/db ",
        "\tpostgres://u:pw@h/db\n",
        "postgres://u:pw@[::1/db",
        "postgres://u:p w@h/db",
        "https://TOKEN@host/",
        "redis://TOKEN@host",
        "//u:pw@h/x",
        "see https://u:pw@h/x for details",
        "https://x/v1?key=K",
        "https://x/v1?a=1&sig=S",
        "https://x/v1?token=T",
        "https://x/v1?access_token=T",
        "https://x/v1?X-Amz-Signature=S",
        "https://app/cb#access_token=T",
        "/users?api%5Fkey=K",
        "host=h password=P",
        "host=h  password = 'p w'",
        "Server=s;Database=d;Pwd=P;",
        "DefaultEndpointsProtocol=https;AccountName=a;AccountKey=K",
    ],
)
def test_strings_carrying_credentials(text: str) -> None:
    assert has_credentials(text)
    assert is_secret(("anything",), text)


@pytest.mark.parametrize(
    "text",
    [
        "https://x/v1?page=1",
        "https://x/v1?key=",
        "postgres://h/db",
        "SELECT * FROM users WHERE password = $1",
        "UPDATE t SET token = ? WHERE id = 1",
        "SELECT 1 WHERE a = ?",
        "host=h dbname=app",
        "a=b",
        "https://h/a//u@b",
        "k?",
    ],
)
def test_strings_without_credentials(text: str) -> None:
    assert not has_credentials(text)


def test_finding_credentials_takes_linear_time_on_hostile_strings() -> None:
    """Each of these took minutes with backtracking patterns; now each is a fraction of a second."""
    import time

    for text in ("a=" * 100_000 + "!", "x " * 100_000 + "//" + "a" * 100_000, "a" * 200_000, "?a=b&" * 50_000):
        started = time.perf_counter()
        has_credentials(text)
        assert time.perf_counter() - started < 20  # bounds a hang only


def test_a_spec_shows_no_secret_in_its_repr() -> None:
    import kailash_rt as rt

    text = repr(rt.postgres(dsn="postgres://u:pw-r3pr@h/db", port=5432, password=13371337))
    assert "pw-r3pr" not in text and "13371337" not in text
    assert "port=5432" in text
