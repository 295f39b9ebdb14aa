"""Compiling resources: the RESOURCES block, secrets kept out of files, factories, errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from kailash.codegen import compile_ir
from kailash.errors import WorkflowError
from kailash.resources import ResourceFactory
from kailash.workflow import AsyncWorkflowBuilder

from .conftest import BLOCK_KAILASH, EXAMPLES, run_cli, run_generated
from .resource_services import PG, REDIS, compile_and_load, http_server_thread, require_postgres

SECRETS = {
    "db_password": "pg-Pa55word-9f1c",
    "bearer": "Bearer tok-6d2e8a",
    "api_key": "ak-77c3e1",
    "dsn_password": "dsnpw-41aa",
    "redis_password": "rpw-0b9d",
    "factory_key": "fk-secret-5e5e",
    "factory_token": "ftok-2c2c",
}

WORKFLOW_FILE = """
import json
from kailash.resources import ResourceFactory
from kailash.resources import ResourceFactory
from kailash.workflow import AsyncWorkflowBuilder


class KeyedService(ResourceFactory):
    def __init__(self, api_key, region="eu", *, token=None):
        self.api_key = api_key
        self.region = region
        self.token = token

    async def create(self):
        return {{"key": self.api_key, "region": self.region, "token": self.token, "dumped": json.dumps(1)}}


builder = (
    AsyncWorkflowBuilder("secret_flow")
    .with_database("main_db", host={host!r}, port={port!r}, database={database!r}, user={user!r},
                   password={db_password!r}, command_timeout=5)
    .with_database("other_db", dsn="postgresql://postgres:{dsn_password}@127.0.0.1:5432/test")
    .with_http_client("api", base_url="http://127.0.0.1:9/",
                      headers={{"Authorization": {bearer!r}, "X-Api-Key": {api_key!r}, "Accept": "application/json"}})
    .with_cache("redis_cache", backend="redis", host="127.0.0.1", port=6379, password={redis_password!r})
    .require_resource("service", KeyedService({factory_key!r}, token={factory_token!r}))
)
builder.add_resource_node("db_time", "main_db", "fetchval", {{"query": "SELECT 40 + 2"}})
builder.add_async_code("service_info", "result = {{'region': service['region'], 'key': service['key']}}")
"""


@pytest.fixture
def workflow_file(tmp_path: Path) -> Path:
    path = tmp_path / "secret_flow.py"
    path.write_text(WORKFLOW_FILE.format(**PG, **SECRETS))
    return path


MORE_SECRETS = {
    "query_key": "qk-90ab12",
    "x_auth": "xauth-3f3f",
    "cookie": "session=ck-8e8e",
    "access_key": "acc-1d1d",
    "node_bearer": "Bearer rntok-5b5b",
    "node_key": "rnkey-6c6c",
    "svc_auth_key": "sak-7a7a",
    "svc_pwd": "spwd-2b2b",
    "svc_access_key_id": "said-4e4e",
    "svc_pass": "spass-0f0f",
    "svc_default_token": "sdeftok-9d9d",
}

# Secrets that a name alone gives away (pwd, auth, cookie, access key, ...), in a URL's query,
# in resource-node parameters, and in the default arguments of a factory defined in the file.
MORE_SECRETS_FILE = """
import os
from kailash.resources import ResourceFactory
from kailash.resources import ResourceFactory
from kailash.workflow import AsyncWorkflowBuilder

BASE = os.environ.get("ECHO_BASE", "http://127.0.0.1:9")


class Svc(ResourceFactory):
    def __init__(self, endpoint, auth_key, pwd, config=None, *, token={svc_default_token!r}, region="eu"):
        self.values = {{"endpoint": endpoint, "auth_key": auth_key, "pwd": pwd, "config": config, "token": token}}
        self.region = region

    async def create(self):
        return dict(self.values, region=self.region)


builder = (
    AsyncWorkflowBuilder("more_secrets")
    .with_http_client("legacy_api", base_url="https://legacy.example/v1?api_key={query_key}&page=1")
    .with_http_client("api", base_url=BASE + "/v1/",
                      headers={{"X-Auth": {x_auth!r}, "Cookie": {cookie!r}, "X-Access-Key": {access_key!r},
                               "Accept": "application/json"}})
    .require_resource("svc", Svc("https://svc", {svc_auth_key!r}, {svc_pwd!r},
                                 config={{"access_key_id": {svc_access_key_id!r}, "pass": {svc_pass!r}, "zone": "a"}}))
)
builder.add_resource_node("fetch", "api", "get", {{"url": "items", "headers": {{"Authorization": {node_bearer!r}}},
                                                   "params": {{"api_key": {node_key!r}, "page": "2"}}}})
builder.add_async_code("svc_info", "result = dict(svc)")
"""

MORE_VARIABLES = {
    "LEGACY_API_BASE_URL": None,
    "API_HEADERS_X_AUTH": "x_auth",
    "API_HEADERS_COOKIE": "cookie",
    "API_HEADERS_X_ACCESS_KEY": "access_key",
    "FETCH_PARAMS_HEADERS_AUTHORIZATION": "node_bearer",
    "FETCH_PARAMS_PARAMS_API_KEY": "node_key",
    "SVC_AUTH_KEY": "svc_auth_key",
    "SVC_PWD": "svc_pwd",
    "SVC_CONFIG_ACCESS_KEY_ID": "svc_access_key_id",
    "SVC_CONFIG_PASS": "svc_pass",
    "SVC_TOKEN": "svc_default_token",
}


@pytest.fixture
def more_secrets_file(tmp_path: Path) -> Path:
    path = tmp_path / "more_secrets.py"
    path.write_text(MORE_SECRETS_FILE.format(**MORE_SECRETS))
    return path


def _compile_file(path: Path, out: Path, name: str = "secret_flow") -> Path:
    done = run_cli(str(path), "-o", str(out))
    assert done.returncode == 0, done.stderr
    return out / f"{name}.py"


def _assert_no_secret_written(paths: list[Path], secrets: dict[str, str]) -> None:
    for path in paths:
        text = path.read_bytes().decode("utf-8", "replace")
        for name, secret in secrets.items():
            assert secret not in text, f"{name} written into {path}"
            assert secret.split()[-1].split("=")[-1] not in text, f"{name} written into {path}"


def test_no_secret_reaches_a_generated_file(workflow_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    module = _compile_file(workflow_file, out)
    cache = Path(os.environ["KAILASH_COMPILE_CACHE"])
    written = [p for p in [*out.rglob("*"), *cache.rglob("*")] if p.is_file()]
    assert module in written
    _assert_no_secret_written(written, SECRETS)
    source = module.read_text()
    for variable in (
        "MAIN_DB_PASSWORD",
        "OTHER_DB_DSN",
        "API_HEADERS_AUTHORIZATION",
        "API_HEADERS_X_API_KEY",
        "REDIS_CACHE_PASSWORD",
        "SERVICE_API_KEY",
        "SERVICE_TOKEN",
    ):
        assert f'rt.env("{variable}")' in source
    docstring = source.split('"""')[1]
    assert (
        "Environment variables: API_HEADERS_AUTHORIZATION, API_HEADERS_X_API_KEY, MAIN_DB_PASSWORD,"
        " OTHER_DB_DSN, REDIS_CACHE_PASSWORD, SERVICE_API_KEY, SERVICE_TOKEN" in " ".join(docstring.split())
    )
    assert '"Accept": "application/json"' in source  # plain headers stay literal
    assert "class KeyedService(rt.ResourceFactory):" in source  # defined in the workflow file: inlined
    assert "from kailash" not in source
    assert "\nimport json\n" in source


def test_no_secret_reaches_a_generated_file_or_the_compile_cache(more_secrets_file: Path, tmp_path: Path) -> None:
    """Secret-looking names (pwd, auth, cookie, access key, pass), query keys in URLs, resource-node
    parameters and an inlined factory's default arguments: compiled by the CLI and in process."""
    from kailash.runtime.async_local import compiled_module
    from kailash.sources import load_workflows

    out = tmp_path / "out"
    module = _compile_file(more_secrets_file, out, "more_secrets")
    (workflow,) = [found.workflow for found in load_workflows(str(more_secrets_file))]
    generated, _ = compiled_module(workflow)  # the in-process runtime's compile (formats through the cache too)
    in_process = tmp_path / "in_process.py"
    in_process.write_text(generated.source)
    cache = Path(os.environ["KAILASH_COMPILE_CACHE"])
    written = [p for p in [*out.rglob("*"), *cache.rglob("*"), in_process] if p.is_file()]
    assert len(written) > 2
    _assert_no_secret_written(written, MORE_SECRETS)
    source = module.read_text()
    for variable in MORE_VARIABLES:
        assert f'rt.env("{variable}")' in source, variable
        assert f'rt.env("{variable}")' in generated.source, variable
    assert '"Accept": "application/json"' in source and '"zone": "a"' in source and '"page": "2"' in source
    assert 'rt.env("FETCH_PARAMS_HEADERS_AUTHORIZATION").read()' in source  # read when the node runs
    # the copied class no longer holds its secret default: the module passes that argument instead
    classes, resources = source.split("RESOURCES = ")
    assert 'token=None, region="eu"' in classes
    assert 'token=rt.env("SVC_TOKEN")' in resources and "region" not in resources
    docstring = " ".join(source.split('"""')[1].split())
    for variable in MORE_VARIABLES:
        assert variable in docstring, variable


def test_module_docstring_lists_resource_node_secret_variables(more_secrets_file: Path, tmp_path: Path) -> None:
    source = _compile_file(more_secrets_file, tmp_path / "out", "more_secrets").read_text()
    docstring = " ".join(source.split('"""')[1].split())
    assert "Environment variables: " + ", ".join(sorted(MORE_VARIABLES)) in docstring


def test_secrets_reach_runs_from_the_environment_compiled_and_directly_in_process(
    more_secrets_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import asyncio

    from kailash.runtime import AsyncLocalRuntime
    from kailash.sources import load_workflows

    with http_server_thread(_echo_app) as base:
        monkeypatch.setenv("ECHO_BASE", base)
        module = _compile_file(more_secrets_file, tmp_path / "out", "more_secrets")
        from_env = {variable: f"env-{variable.lower()}" for variable in MORE_VARIABLES}
        env = {k: v for k, v in os.environ.items() if k not in MORE_VARIABLES}
        done = run_generated_env(module, {**env, **from_env})
        assert done.returncode == 0, done.stdout + done.stderr
        compiled = json.loads(done.stdout)["results"]
        (workflow,) = [found.workflow for found in load_workflows(str(more_secrets_file))]
        # in process: the real values, with none of the variables set
        direct = asyncio.run(AsyncLocalRuntime().execute_workflow_async(workflow, {}))
        missing = run_generated_env(module, {**env, **{k: v for k, v in from_env.items() if "FETCH" not in k}})

    assert direct["errors"] == {}
    assert direct["results"]["fetch"]["result"]["body"] == {
        "x_auth": MORE_SECRETS["x_auth"],
        "cookie": MORE_SECRETS["cookie"],
        "access_key": MORE_SECRETS["access_key"],
        "authorization": MORE_SECRETS["node_bearer"],
        "query": {"api_key": MORE_SECRETS["node_key"], "page": "2"},
    }
    assert direct["results"]["svc_info"] == {
        "endpoint": "https://svc",
        "auth_key": MORE_SECRETS["svc_auth_key"],
        "pwd": MORE_SECRETS["svc_pwd"],
        "config": {"access_key_id": MORE_SECRETS["svc_access_key_id"], "pass": MORE_SECRETS["svc_pass"], "zone": "a"},
        "token": MORE_SECRETS["svc_default_token"],
        "region": "eu",
    }
    assert compiled["fetch"]["result"]["body"] == {
        "x_auth": from_env["API_HEADERS_X_AUTH"],
        "cookie": from_env["API_HEADERS_COOKIE"],
        "access_key": from_env["API_HEADERS_X_ACCESS_KEY"],
        "authorization": from_env["FETCH_PARAMS_HEADERS_AUTHORIZATION"],
        "query": {"api_key": from_env["FETCH_PARAMS_PARAMS_API_KEY"], "page": "2"},
    }
    assert compiled["svc_info"]["token"] == from_env["SVC_TOKEN"]
    assert compiled["svc_info"]["config"]["pass"] == from_env["SVC_CONFIG_PASS"]
    assert missing.returncode == 1
    errors = json.loads(missing.stdout)["errors"]
    assert set(errors) == {"fetch"}
    assert "FETCH_PARAMS_HEADERS_AUTHORIZATION" in errors["fetch"]


def _echo_app(app: Any) -> None:
    from aiohttp import web

    async def echo(request: web.Request) -> web.Response:
        headers = request.headers
        return web.json_response(
            {
                "x_auth": headers.get("X-Auth"),
                "cookie": headers.get("Cookie"),
                "access_key": headers.get("X-Access-Key"),
                "authorization": headers.get("Authorization"),
                "query": dict(request.query),
            }
        )

    app.router.add_get("/{tail:.*}", echo)


def test_compiled_module_reads_secrets_from_the_environment(workflow_file: Path, tmp_path: Path) -> None:
    require_postgres()
    module = _compile_file(workflow_file, tmp_path / "out")
    env = {**os.environ, "MAIN_DB_PASSWORD": "whatever", "SERVICE_API_KEY": "key-from-env", "SERVICE_TOKEN": "t"}
    done = run_generated_env(module, env)
    assert done.returncode == 0, done.stdout + done.stderr
    result = json.loads(done.stdout)
    assert result["results"]["db_time"] == {"result": 42, "resource": "main_db", "operation": "fetchval"}
    assert result["results"]["service_info"] == {"region": "eu", "key": "key-from-env"}


def test_missing_secret_variable_is_named_when_first_used(workflow_file: Path, tmp_path: Path) -> None:
    module = _compile_file(workflow_file, tmp_path / "out")
    env = {k: v for k, v in os.environ.items() if k not in ("MAIN_DB_PASSWORD", "SERVICE_API_KEY")}
    env["SERVICE_TOKEN"] = "t"
    done = run_generated_env(module, env)
    assert done.returncode == 1
    errors = json.loads(done.stdout)["errors"]
    assert "MAIN_DB_PASSWORD" in errors["db_time"]
    assert "SERVICE_API_KEY" in errors["service_info"]
    # resources no node uses need no variable: the others are not mentioned
    assert "REDIS_CACHE_PASSWORD" not in done.stdout + done.stderr


def run_generated_env(module: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run a generated module with ``kailash`` unimportable, in the environment ``env``."""
    return subprocess.run(
        [sys.executable, "-c", BLOCK_KAILASH, str(module)],
        capture_output=True,
        text=True,
        check=False,
        cwd=module.parent,
        env=env,
    )


def test_guide_complete_example_runs_without_its_database(tmp_path: Path) -> None:
    """Resources are lazy: the example declares a database on port 5433, which nothing serves."""
    done = run_cli(str(EXAMPLES / "data_enrichment.py"), "-o", str(tmp_path))
    assert done.returncode == 0, done.stderr
    module = tmp_path / "data_enrichment_pipeline.py"
    assert "RESOURCES = rt.Resources(" in module.read_text()
    ran = run_generated(module)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert json.loads(ran.stdout)["errors"] == {}


def test_settings_are_overridden_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    require_postgres()
    builder = AsyncWorkflowBuilder("overrides").with_database(
        "main_db", host="db.invalid", port=1, database="nope", user=str(PG["user"]), max_size=2
    )
    builder.add_resource_node("n", "main_db", "fetchval", {"query": "SELECT current_database()"})
    module = compile_and_load(builder.build())
    monkeypatch.setenv("MAIN_DB_HOST", str(PG["host"]))
    monkeypatch.setenv("MAIN_DB_PORT", str(PG["port"]))
    monkeypatch.setenv("MAIN_DB_DATABASE", str(PG["database"]))
    import asyncio

    result = asyncio.run(module.run({}))
    assert result["errors"] == {}
    assert result["results"]["n"]["result"] == PG["database"]
    monkeypatch.setenv("MAIN_DB_PORT", "not-a-port")
    result = asyncio.run(module.run({}))
    assert "environment variable MAIN_DB_PORT cannot be used: expected a number" in result["errors"]["n"]
    assert "not-a-port" not in result["errors"]["n"]  # the value may be a secret: never shown


def test_resource_block_is_deterministic_and_literal_safe() -> None:
    nasty = 'x"); import os; os.system("echo pwned") #\n\'\'\'"""'

    def build() -> Any:
        builder = AsyncWorkflowBuilder("literal_safety")
        builder.with_http_client("api", base_url="http://127.0.0.1/", headers={"X-Note": nasty, nasty: "v"})
        builder.with_cache("mem", backend="memory")
        builder.add_async_code("show", "result = {'ok': True}")
        return builder.build()

    first, second = compile_ir(build().ir).source, compile_ir(build().ir).source
    assert first == second
    module = compile_and_load(build())
    spec = module.RESOURCES.specs["api"]
    assert spec.settings["headers"] == {"X-Note": nasty, nasty: "v"}
    assert "os.system" not in [line.strip() for line in first.splitlines()]
    assert 'mem=rt.cache(backend="memory")' in first  # host/port/db mean nothing to the memory cache


def test_resource_tracking() -> None:
    builder = (
        AsyncWorkflowBuilder("tracking")
        .with_database("main_db")
        .with_cache("redis", host="cache.example")
        .with_http_client("api", base_url="https://api.example/")
    )
    builder.add_async_code("a", "result = 1", required_resources=["main_db", "api"])
    assert builder.list_required_resources() == ["api", "main_db", "redis"]
    workflow = builder.build()
    assert workflow.metadata["required_resources"] == ["api", "main_db", "redis"]
    registry = builder.get_resource_registry()
    assert all(registry.has_factory(name) for name in builder.list_required_resources())
    assert not registry.has_factory("message_queue")
    assert builder.get_node_metadata("a")["required_resources"] == ["main_db", "api"]


def test_required_resource_must_be_declared() -> None:
    builder = AsyncWorkflowBuilder("undeclared").with_database("database")
    builder.add_async_code("critical_operation", "result = 1", required_resources=["database", "message_queue"])
    with pytest.raises(WorkflowError) as caught:
        compile_ir(builder.build().ir)
    assert "critical_operation" in str(caught.value)
    assert "message_queue" in str(caught.value)


def test_resource_node_on_undeclared_resource_is_a_compile_error() -> None:
    builder = AsyncWorkflowBuilder("no_db")
    builder.add_resource_node("db_query", "main_db", "fetch", {"query": "SELECT 1"})
    with pytest.raises(WorkflowError) as caught:
        compile_ir(builder.build().ir)
    assert "db_query" in str(caught.value) and "main_db" in str(caught.value)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda b: b.with_cache("c", backend="memcached"), "unsupported backend 'memcached'"),
        (lambda b: b.add_resource_node("n", "db", "fetch; drop", {}), "is not a method name"),
        (lambda b: b.add_resource_node("n", "db", "fetch", {"query": object()}), "parameter 'query'"),
        (lambda b: b.require_resource("svc", {"not": "a factory"}), "dict is not a ResourceFactory"),
    ],
)
def test_bad_resource_declarations(call: Any, message: str) -> None:
    with pytest.raises(WorkflowError, match=message.replace("(", r"\(")):
        call(AsyncWorkflowBuilder("bad"))


def test_factory_class_must_be_passed_as_an_object() -> None:
    from .test_resources_services import CountingFactory

    with pytest.raises(WorkflowError, match="pass a factory object"):
        AsyncWorkflowBuilder("bad").require_resource("svc", CountingFactory)
    with pytest.raises(WorkflowError, match="cannot rebuild"):
        AsyncWorkflowBuilder("bad").require_resource("svc", CountingFactory(object()))  # type: ignore[arg-type]


def test_importable_factory_is_imported_not_copied() -> None:
    from .test_resources_services import CountingFactory

    builder = AsyncWorkflowBuilder("imported_factory").require_resource("thing", CountingFactory("x", healthy=True))
    builder.add_async_code("use", "result = thing")
    source = compile_ir(builder.build().ir).source
    assert "from tests.test_resources_services import CountingFactory" in source
    assert "class CountingFactory" not in source
    assert 'thing=rt.factory(CountingFactory, label="x", healthy=True)' in source


def test_factory_reading_a_workflow_file_value_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "flow_with_global.py"
    path.write_text(
        textwrap.dedent(
            """
            from kailash.resources import ResourceFactory
            from kailash.workflow import AsyncWorkflowBuilder

            SETTINGS = {"region": "eu"}

            class Regional(ResourceFactory):
                async def create(self):
                    return SETTINGS["region"]

            builder = AsyncWorkflowBuilder("regional").require_resource("svc", Regional())
            """
        )
    )
    done = run_cli(str(path), "-o", str(tmp_path / "out"))
    assert done.returncode != 0
    assert "Regional reads 'SETTINGS'" in done.stderr


def test_non_literal_setting_is_an_error_at_the_with_call() -> None:
    builder = AsyncWorkflowBuilder("weird")
    with pytest.raises(WorkflowError, match="setting 'connector' is a value of type object") as caught:
        builder.with_http_client("api", base_url="http://x/", connector=object())
    assert caught.value.location is not None
    assert caught.value.location.file.endswith("test_resources_compile.py")
    with pytest.raises(WorkflowError, match=r"setting 'headers\.X-Token\.0' is a value of type bytes"):
        AsyncWorkflowBuilder("weird").with_http_client("api", headers={"X-Token": [b"raw"]})


def test_ssl_context_is_refused_at_with_database_with_a_hint() -> None:
    """An SSLContext cannot be written into the module, so it is an error where it is passed,
    not a crash of the in-process runtime (it used to fail pickling the IR for its hash)."""
    import ssl

    builder = AsyncWorkflowBuilder("tls")
    line = sys._getframe().f_lineno + 2
    with pytest.raises(WorkflowError) as caught:
        builder.with_database("main_db", host="db.example", ssl=ssl.create_default_context())
    error = caught.value
    assert error.location is not None and error.location.line == line
    assert f"test_resources_compile.py:{line}: resource 'main_db': setting 'ssl' is a value of type ssl.SSLContext" in (
        str(error)
    )
    assert 'ssl="require"' in str(error) and 'ssl="verify-full"' in str(error) and "MAIN_DB_SSL" in str(error)


def test_ssl_mode_string_is_written_and_runs_in_process() -> None:
    import asyncio

    from kailash.runtime import AsyncLocalRuntime

    builder = AsyncWorkflowBuilder("tls_mode").with_database("main_db", host="db.invalid", ssl="require")
    builder.add_async_code("a", "result = {'ok': True}")
    workflow = builder.build()
    assert 'ssl="require"' in compile_ir(workflow.ir).source
    result = asyncio.run(AsyncLocalRuntime().execute_workflow_async(workflow, {}))
    assert result == {"results": {"a": {"ok": True}}, "errors": {}}  # the unused database is never opened


def test_redis_settings_are_passed_through() -> None:
    builder = AsyncWorkflowBuilder("redis_settings").with_cache(
        "redis_cache", backend="redis", **REDIS, socket_timeout=2.5, decode_responses=True
    )
    spec = compile_and_load(builder.build()).RESOURCES.specs["redis_cache"]
    assert spec.settings == {"backend": "redis", **REDIS, "db": 0, "socket_timeout": 2.5, "decode_responses": True}


FACTORY_WITH_SECRET_LITERAL = """
from kailash.resources import ResourceFactory
from kailash.resources import ResourceFactory
from kailash.workflow import AsyncWorkflowBuilder


class Hardcoded(ResourceFactory):
    def __init__(self, region):
        self.region = region

    async def create(self):
        return {"headers": {"X-Api-Key": "hard-coded-key-1"}, "region": self.region}


builder = AsyncWorkflowBuilder("hardcoded").require_resource("svc", Hardcoded("eu"))
"""


def test_secret_literal_in_a_copied_factory_class_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "hardcoded.py"
    path.write_text(FACTORY_WITH_SECRET_LITERAL)
    done = run_cli(str(path), "-o", str(tmp_path / "out"))
    assert done.returncode != 0
    assert "resource 'svc': the entry 'X-Api-Key' in Hardcoded" in done.stderr
    line = next(i for i, text in enumerate(FACTORY_WITH_SECRET_LITERAL.splitlines(), 1) if "hard-coded" in text)
    assert f"({path}:{line})" in done.stderr  # the line holding the literal
    assert "hard-coded-key-1" not in done.stderr
    assert not (tmp_path / "out" / "hardcoded.py").exists()


def test_factory_arguments_after_a_skipped_default_keep_their_names() -> None:
    from kailash.ir import Location
    from kailash.resources.factories import describe_factory

    class PositionalOnly(ResourceFactory):
        def __init__(self, a: int, b: int = 1, /, c: int = 2, *, d: int = 3) -> None:
            self.values = (a, b, c, d)

        async def create(self) -> Any:
            return self.values

    settings = describe_factory("p", PositionalOnly(10, c=30), Location("x.py", 1))
    assert (settings["args"], settings["kwargs"]) == ([10], {"c": 30})  # not PositionalOnly(10, 30): b=30

    class Starred(ResourceFactory):
        def __init__(self, a: int, *rest: int) -> None:
            self.values = (a, rest)

        async def create(self) -> Any:
            return self.values

    settings = describe_factory("s", Starred(1, 2, 3), Location("x.py", 1))
    assert (settings["args"], settings["kwargs"]) == ([1, 2, 3], {})  # not Starred(2, 3, a=1)
