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
from kailash.workflow import AsyncWorkflowBuilder

from .conftest import BLOCK_KAILASH, EXAMPLES, run_cli, run_generated
from .resource_services import PG, REDIS, compile_and_load, require_postgres

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


def _compile_file(path: Path, out: Path) -> Path:
    done = run_cli(str(path), "-o", str(out))
    assert done.returncode == 0, done.stderr
    return out / "secret_flow.py"


def test_no_secret_reaches_a_generated_file(workflow_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    module = _compile_file(workflow_file, out)
    cache = Path(os.environ["KAILASH_COMPILE_CACHE"])
    written = [p for p in [*out.rglob("*"), *cache.rglob("*")] if p.is_file()]
    assert module in written
    for path in written:
        text = path.read_bytes().decode("utf-8", "replace")
        for name, secret in SECRETS.items():
            assert secret not in text, f"{name} written into {path}"
            assert secret.split()[-1] not in text
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
    assert "MAIN_DB_PORT='not-a-port' cannot be used" in result["errors"]["n"]


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


def test_non_literal_setting_is_a_compile_error() -> None:
    builder = AsyncWorkflowBuilder("weird").with_http_client("api", base_url="http://x/", connector=object())
    builder.add_async_code("a", "result = 1")
    with pytest.raises(WorkflowError, match="setting 'connector' is a object"):
        compile_ir(builder.build().ir)


def test_redis_settings_are_passed_through() -> None:
    builder = AsyncWorkflowBuilder("redis_settings").with_cache(
        "redis_cache", backend="redis", **REDIS, socket_timeout=2.5, decode_responses=True
    )
    spec = compile_and_load(builder.build()).RESOURCES.specs["redis_cache"]
    assert spec.settings == {"backend": "redis", **REDIS, "db": 0, "socket_timeout": 2.5, "decode_responses": True}
