"""How nodes share the generated module's namespace, and how a code block's names are bound.

Each test once failed: node ids that mangle to one identifier were refused, a map node's
import bound another node's free name, ``global rt`` broke every later run, a fallback
decorated the module it shadowed, a nested retry exception imported a class as a module,
a third-party module used without an import became a required input, and a block that
never set ``result`` compiled silently.
"""

from __future__ import annotations

import asyncio
import itertools
import random
import subprocess
import sys
import textwrap
import warnings
from pathlib import Path
from typing import Any

import kailash_rt as rt
import pytest
from kailash.analysis.exception_imports import exception_module
from kailash.analysis.names import MODULE_DUNDERS, RESERVED, RUN_LOCALS, node_identifier, node_identifiers
from kailash.analysis.namespace import header_names
from kailash.codegen import GeneratedModule, compile_ir
from kailash.errors import WorkflowError, WorkflowWarning
from kailash.runtime import AsyncLocalRuntime
from kailash.workflow import AsyncPatterns, AsyncRetryPolicy, AsyncWorkflowBuilder, ErrorHandler, RetryPolicy

from .conftest import run_cli, run_generated
from .resource_services import PG, REDIS, http_server_thread, require_postgres, require_redis


def run(builder: AsyncWorkflowBuilder, inputs: dict[str, Any] | None = None) -> dict[str, Any]:
    return asyncio.run(AsyncLocalRuntime().execute_workflow_async(builder.build(), inputs or {}))


def compiled(builder: AsyncWorkflowBuilder, *, strict: bool = False) -> GeneratedModule:
    return compile_ir(builder.build().ir, strict=strict)


def quiet_compile(builder: AsyncWorkflowBuilder) -> tuple[GeneratedModule, list[WorkflowWarning]]:
    """Compile, returning the module and its warnings."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        module = compiled(builder)
    return module, [w.message for w in caught if isinstance(w.message, WorkflowWarning)]


def ruff_clean(source: str, tmp_path: Path) -> None:
    path = tmp_path / "module.py"
    path.write_text(source)
    done = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--isolated", str(path)], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stdout


def idents_of(module: GeneratedModule) -> dict[str, str]:
    return {plan.node.node_id: plan.ident for plan in module.plan.nodes}


# -- item 6: node ids that mangle to one identifier ------------------------------------------
SHARING = ["}}", "{{", "a-b", "a_b", "a.b", "json", "json_node", "class", "class_"]


def test_node_ids_sharing_an_identifier_compile_and_run(tmp_path: Path) -> None:
    builder = AsyncWorkflowBuilder("sharing")
    for index, node_id in enumerate(SHARING):
        builder.add_async_code(node_id, f"result = {index}")
    result = run(builder)
    assert result == {"results": {node_id: index for index, node_id in enumerate(SHARING)}, "errors": {}}
    module = compiled(builder)
    idents = idents_of(module)
    assert len(set(idents.values())) == len(SHARING)
    # An id spelled exactly like the shared identifier keeps it; the others get a suffix of their own.
    assert idents["a_b"] == "a_b" and idents["json_node"] == "json_node" and idents["class_"] == "class_"
    for node_id in ("}}", "{{", "a-b", "a.b", "json", "class"):
        assert idents[node_id].startswith(node_identifier(node_id) + "_"), idents
        assert f"async def {idents[node_id]}() -> Any:" in module.source
    ruff_clean(module.source, tmp_path)


def test_the_identifiers_do_not_depend_on_the_order_of_the_nodes() -> None:
    shuffled = list(SHARING)
    expected: dict[str, str] | None = None
    for seed in range(6):
        random.Random(seed).shuffle(shuffled)
        builder = AsyncWorkflowBuilder("ordered")
        for node_id in shuffled:
            builder.add_async_code(node_id, "result = 1")
        idents = idents_of(compiled(builder))
        expected = expected or idents
        assert idents == expected


def test_adding_a_node_renames_only_the_nodes_sharing_its_identifier() -> None:
    before = node_identifiers(["a-b", "a.b", "x-y", "load"])
    after = node_identifiers(["a-b", "a.b", "x-y", "load", "a b", "x_y"])
    assert before["a-b"] == after["a-b"] and before["a.b"] == after["a.b"]  # already suffixed: stay
    assert before["load"] == after["load"] == "load"
    assert before["x-y"] == "x_y" and after["x-y"].startswith("x_y_") and after["x_y"] == "x_y"


def test_identifiers_are_unique_and_stable_for_many_colliding_ids() -> None:
    alphabet = ["a", "_", "-", ".", " ", "}", "1", "é"]
    ids = ["".join(chars) for chars in itertools.product(alphabet, repeat=3)]
    idents = node_identifiers(ids)
    assert len(set(idents.values())) == len(ids)
    assert all(ident.isidentifier() for ident in idents.values())
    assert node_identifiers(reversed(ids)) == idents


def test_node_ids_sharing_an_identifier_compile_from_the_command_line(tmp_path: Path) -> None:
    (tmp_path / "wf.py").write_text(
        "from kailash.workflow import AsyncWorkflowBuilder\n"
        "b = AsyncWorkflowBuilder('wf')\n"
        "b.add_async_code('a-b', 'result = 1')\n"
        "b.add_async_code('a_b', 'result = 2')\n"
        "b.add_async_code('sum', 'result = x + y')\n"
        "b.add_connection('a-b', 'result', 'sum', 'x')\n"
        "b.add_connection('a_b', 'result', 'sum', 'y')\n"
    )
    done = run_cli("wf.py", "-o", "out", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    ran = run_generated(tmp_path / "out" / "wf.py")
    assert ran.returncode == 0, ran.stderr
    assert '"sum": 3' in ran.stdout


# -- item 7: nodes share the module namespace ------------------------------------------------
def test_a_map_nodes_import_does_not_bind_another_nodes_free_name() -> None:
    builder = AsyncWorkflowBuilder("leak")
    builder.add_parallel_map("m", "import json as price\n\n\ndef process_item(x):\n    return price.dumps(x)")
    builder.add_async_code("c", "result = price * 2")
    result = run(builder, {"items": [1], "price": 5})
    assert result["errors"] == {}
    assert result["results"]["m"]["results"] == ["1"] and result["results"]["c"] == 10
    assert "    price (used by c)" in compiled(builder).source


def test_a_retry_import_does_not_bind_another_nodes_free_name() -> None:
    builder = AsyncWorkflowBuilder("retry_leak")
    builder.add_async_code("a", "result = 1", retry_policy=RetryPolicy(retry_on=["concurrent.futures.CancelledError"]))
    builder.add_async_code("b", "result = concurrent")
    assert run(builder, {"concurrent": "an input"})["results"]["b"] == "an input"


GLOBAL_CASES = {
    "rt": "`import kailash_rt as rt`, the runtime",
    "run": "the module's run()",
    "RESOURCES": "the module's resource declarations",
    "other": "the function of node 'other'",
    "json": "`import json`",
    "fractions": "`import fractions` of node 'm'",
    "helper": "a helper of node 'm'",
    "len": "a builtin",
    "c": "the function of node 'c'",
}


@pytest.mark.parametrize("name", sorted(GLOBAL_CASES))
def test_global_of_a_module_name_is_refused(name: str) -> None:
    builder = AsyncWorkflowBuilder("globals")
    builder.add_parallel_map("m", "import fractions\n\nhelper = 2\n\n\ndef process_item(x):\n    return x")
    builder.add_async_code("other", "result = 1")
    builder.add_async_code("c", f"value = 1\nglobal {name}\n{name} = None\nresult = value")
    with pytest.raises(WorkflowError) as error:
        compiled(builder)
    message = str(error.value)
    assert "test_naming.py:" in message and "node 'c': " in message
    assert f"`global {name}` would let the code block rebind {name!r}, {GLOBAL_CASES[name]}" in message
    assert f"code line 2 | global {name}" in message and "hint: " in message


def test_global_rt_no_longer_breaks_later_runs() -> None:
    builder = AsyncWorkflowBuilder("rebinds_rt")
    builder.add_async_code("c", "global rt\nrt = None\nresult = 1")
    with pytest.raises(WorkflowError, match="`global rt` would let the code block rebind 'rt'"):
        run(builder)
    healthy = AsyncWorkflowBuilder("rebinds_rt")
    healthy.add_async_code("c", "result = 1")
    assert run(healthy) == run(healthy) == {"results": {"c": 1}, "errors": {}}


def test_global_in_map_code_and_parallel_fetch_operations_is_checked_too() -> None:
    builder = AsyncWorkflowBuilder("nested_globals")
    builder.add_parallel_map("m", "def process_item(x):\n    global rt\n    return x")
    with pytest.raises(WorkflowError, match=r"node 'm': `global rt`[\s\S]*code line 2 \|     global rt"):
        compiled(builder)
    builder = AsyncWorkflowBuilder("nested_globals")
    AsyncPatterns.parallel_fetch(builder, "f", {"one": "def g():\n    global run\n    run = 1\ng()\nresult = 1"})
    with pytest.raises(WorkflowError, match=r"node 'f': `global run`"):
        compiled(builder)


def test_global_of_an_input_is_refused_rather_than_a_compiler_bug() -> None:
    builder = AsyncWorkflowBuilder("global_input")
    builder.add_async_code("a", "result = {'v': 1}")
    builder.add_async_code("c", "global v\nv = 2\nresult = v")
    builder.add_connection("a", "v", "c", "v")
    with pytest.raises(WorkflowError, match=r"node 'c': `global v`: 'v' is also an input of the node"):
        compiled(builder)


def test_global_of_the_nodes_own_helper_and_of_a_fresh_name_is_allowed() -> None:
    builder = AsyncWorkflowBuilder("own_state")
    builder.add_parallel_map(
        "m",
        "seen = []\n\n\ndef process_item(x):\n    global seen\n    seen = [*seen, x]\n    return len(seen)",
        max_workers=1,
    )
    builder.add_async_code("c", "global tally\ntally = 7\nresult = tally")
    result = run(builder, {"items": [1, 2, 3]})
    assert result["errors"] == {}
    assert sorted(result["results"]["m"]["results"]) == [1, 2, 3] and result["results"]["c"] == 7


def test_every_reserved_name_has_an_owner_in_the_namespace() -> None:
    assert set(header_names()) == (RESERVED - RUN_LOCALS) | MODULE_DUNDERS


def test_a_module_level_name_only_run_uses_locally_may_be_imported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """run()'s locals (r, inputs, resources) shadow nothing run() reads: an import may bind them."""
    (tmp_path / "resources").mkdir()
    (tmp_path / "resources" / "__init__.py").write_text("")
    (tmp_path / "resources" / "errors.py").write_text("class Busy(Exception):\n    pass\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "resources", raising=False)
    builder = AsyncWorkflowBuilder("run_locals")
    builder.add_async_code("a", "result = 1", retry_policy=RetryPolicy(retry_on=["resources.errors.Busy"]))
    builder.add_parallel_map("m", "import math as r\n\n\ndef process_item(x):\n    return r.floor(x)")
    try:
        result = run(builder, {"items": [1.5]})
    finally:
        for name in ("resources.errors", "resources"):
            sys.modules.pop(name, None)
    assert result["errors"] == {}
    assert result["results"]["a"] == 1 and result["results"]["m"]["results"] == [1]


def test_a_function_a_node_defines_that_another_node_has_is_a_clear_error() -> None:
    builder = AsyncWorkflowBuilder("operation_clash")
    builder.add_async_code("dashboard_carriers", "result = 1")
    AsyncPatterns.parallel_fetch(builder, "dashboard", {"carriers": "result = 2"})
    with pytest.raises(WorkflowError) as error:
        compiled(builder)
    assert "node 'dashboard': the node defines the function 'dashboard_carriers'" in str(error.value)
    assert "clashes with the function of node 'dashboard_carriers'" in str(error.value)


@pytest.mark.parametrize(
    ("line", "clash"),
    [
        ("from os import open", "a builtin"),
        ("import decimal as json", "`import json`"),
        ("import math as rt", "`import kailash_rt as rt`, the runtime"),
        ("from os import path as RESOURCES", "the module's resource declarations"),
    ],
)
def test_a_map_import_that_would_rebind_a_name_other_code_reads_is_refused(line: str, clash: str) -> None:
    builder = AsyncWorkflowBuilder("shadowing_import")
    builder.add_parallel_map("m", f"{line}\n\n\ndef process_item(x):\n    return x")
    with pytest.raises(WorkflowError) as error:
        compiled(builder)
    assert f"node 'm': `{line}` in the code block binds" in str(error.value)
    assert f"which clashes with {clash}" in str(error.value)


def test_a_map_import_the_module_already_has_is_allowed(tmp_path: Path) -> None:
    builder = AsyncWorkflowBuilder("same_imports")
    builder.add_parallel_map(
        "m",
        "import asyncio\nimport os.path\nfrom typing import Any\n\n\n"
        "async def process_item(x: Any):\n    await asyncio.sleep(0)\n    return os.path.basename(x)",
    )
    builder.add_async_code("c", "result = os.sep")
    result = run(builder, {"items": ["/a/b"]})
    assert result["errors"] == {} and result["results"]["m"]["results"] == ["b"]
    ruff_clean(compiled(builder).source, tmp_path)


# -- item 8: names that collide with modules -------------------------------------------------
def test_a_fallback_of_a_primary_named_like_an_imported_module(tmp_path: Path) -> None:
    builder = AsyncWorkflowBuilder("fallback_shadow")
    AsyncPatterns.timeout_with_fallback(
        builder, "aiohttp", "fb", "raise ValueError('down')", "result = {'v': 2}", timeout_seconds=1
    )
    builder.add_async_code("x", "result = 3", retry_policy=RetryPolicy(retry_on=["aiohttp.ClientError"]))
    result = run(builder)
    assert result["errors"] == {} and result["results"]["x"] == 3
    assert result["results"]["fb"]["v"] == 2 and result["results"]["fb"]["_source"] == "fallback"
    source = compiled(builder).source
    assert "@aiohttp_node.fallback" in source and "import aiohttp\n" in source
    ruff_clean(source, tmp_path)


def test_a_fallback_of_a_primary_whose_identifier_has_a_suffix() -> None:
    builder = AsyncWorkflowBuilder("fallback_suffix")
    builder.add_async_code("a_b", "result = 1")
    AsyncPatterns.timeout_with_fallback(builder, "a-b", "fb", "raise ValueError('down')", "result = {'v': 2}")
    result = run(builder)
    assert result["errors"] == {}
    assert result["results"]["fb"]["v"] == 2 and result["results"]["fb"]["_source"] == "fallback"
    primary = idents_of(compiled(builder))["a-b"]
    assert primary.startswith("a_b_") and f"@{primary}.fallback" in compiled(builder).source


def test_a_scatter_function_never_shadows_an_import() -> None:
    builder = AsyncWorkflowBuilder("scatter_shadow")
    builder.add_parallel_map(
        "m", "import fractions\n\n\ndef process_item(x):\n    return str(fractions.Fraction(x, 2))"
    )
    builder.add_scatter_gather("s", "fractions", "g", "def process_item(x):\n    return x * 2", worker_count=2)
    result = run(builder, {"m": {"items": [1]}, "s": {"items": [1, 2, 3]}})
    assert result["errors"] == {}
    assert result["results"]["m"]["results"] == ["1/2"] and result["results"]["g"]["results"] == [2, 4, 6]
    assert "def fractions_node(x):" in compiled(builder).source


NESTED = """
class Outer:
    class Inner(Exception):
        pass


attempts = {}


def flaky(caller):
    attempts[caller] = attempts.get(caller, 0) + 1
    if attempts[caller] < 3:
        raise Outer.Inner("not yet")
    return attempts[caller]
"""


@pytest.fixture
def nested_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    name = f"nested_errors_{tmp_path.name.replace('-', '_')}"
    (tmp_path / f"{name}.py").write_text(NESTED)
    monkeypatch.syspath_prepend(str(tmp_path))
    module = __import__(name)
    yield module
    sys.modules.pop(name, None)


def test_a_nested_exception_class_imports_its_module(nested_module: Any, tmp_path: Path) -> None:
    name = nested_module.__name__
    builder = AsyncWorkflowBuilder("nested")
    builder.add_async_code(
        "policy",
        f"import {name}\nresult = {name}.flaky('policy')",
        retry_policy=RetryPolicy(max_retries=5, base_delay=0.001, retry_on=[nested_module.Outer.Inner]),
    )
    AsyncPatterns.retry_with_backoff(
        builder,
        "pattern",
        f"import {name}\nresult = {name}.flaky('pattern')",
        max_retries=5,
        initial_backoff=0.001,
        retry_on=[f"{name}.Outer.Inner"],
    )
    source = compiled(builder).source
    assert f"\n    import {name}\n" in source and f"import {name}.Outer" not in source
    assert f"retry_on=({name}.Outer.Inner,)" in source
    result = run(builder)
    assert result["errors"] == {}
    assert result["results"]["policy"] == 3 and result["results"]["pattern"]["total_attempts"] == 3
    ruff_clean(source, tmp_path)


def test_exception_module_finds_the_longest_importable_prefix() -> None:
    assert exception_module("ValueError") is None
    assert exception_module("aiohttp.ClientError") == "aiohttp"
    assert exception_module("aiohttp.client_exceptions.ClientError") == "aiohttp.client_exceptions"
    assert exception_module("concurrent.futures.CancelledError") == "concurrent.futures"
    assert exception_module("no_such_package_anywhere.sub.Error") == "no_such_package_anywhere.sub"


# -- item 14: third-party modules used without an import -------------------------------------
GUIDE_CODE = """
    async with aiohttp.ClientSession() as session:
        response = await session.get("{url}/data")
        result = await response.json()
    """


def _serve_data(app: Any) -> None:
    from aiohttp import web

    async def data(request: Any) -> Any:
        return web.json_response({"served": True})

    app.router.add_get("/data", data)


@pytest.mark.parametrize("with_guide_policies", [True, False])
def test_the_guides_error_handling_example_runs(with_guide_policies: bool, tmp_path: Path) -> None:
    """The guide's "Error Handling and Recovery" example, against a local server; without its
    retry policy too (which used to be all that imported aiohttp)."""
    with http_server_thread(_serve_data) as url:
        builder = AsyncWorkflowBuilder("error_handling")
        policies: dict[str, Any] = {}
        if with_guide_policies:
            policies = {
                "retry_policy": AsyncRetryPolicy(
                    max_attempts=3, initial_delay=0.5, retry_exceptions=["aiohttp.ClientError"]
                ),
                "error_handler": ErrorHandler(
                    handler_type="fallback", fallback_value={"error": True, "recovered": True}
                ),
            }
        builder.add_async_code("resilient_operation", GUIDE_CODE.format(url=url), **policies)
        assert run(builder) == {"results": {"resilient_operation": {"served": True}}, "errors": {}}
    source = compiled(builder).source
    assert "Inputs: none" in source and "\nwith rt.client_libraries(__name__):\n    import aiohttp\n" in source
    assert f"Requires: kailash-rt {rt.__version__} or newer, aiohttp\n" in source
    ruff_clean(source, tmp_path)


def test_asyncpg_and_redis_are_bound_without_an_import() -> None:
    require_postgres()
    require_redis()
    builder = AsyncWorkflowBuilder("third_party")
    builder.add_async_code(
        "pg",
        f"conn = await asyncpg.connect(host={PG['host']!r}, port={PG['port']}, database={PG['database']!r},"
        f" user={PG['user']!r})\ntry:\n    result = await conn.fetchval('SELECT 40 + 2')\nfinally:\n"
        "    await conn.close()",
    )
    builder.add_async_code(
        "cache",
        f"client = redis.asyncio.Redis(host={REDIS['host']!r}, port={REDIS['port']})\ntry:\n"
        "    result = await client.ping()\nfinally:\n    await client.aclose()",
    )
    assert run(builder) == {"results": {"pg": 42, "cache": True}, "errors": {}}
    source = compiled(builder).source
    assert "Inputs: none" in source and f"Requires: kailash-rt {rt.__version__} or newer, asyncpg, redis\n" in source


def test_a_resource_named_like_a_third_party_module_is_the_resource() -> None:
    builder = AsyncWorkflowBuilder("resource_first")
    builder.with_cache("redis", backend="memory")
    builder.add_async_code("c", "await redis.set('k', 'v')\nresult = await redis.get('k')")
    assert run(builder) == {"results": {"c": b"v"}, "errors": {}}
    assert "import redis" not in compiled(builder).source


def test_an_importable_module_used_without_an_import_is_a_warning() -> None:
    builder = AsyncWorkflowBuilder("lacks_import")
    builder.add_async_code("c", "value = 1\nresult = platform.system() > str(value)")
    with pytest.warns(WorkflowWarning) as caught:
        module = compiled(builder)
    message = str(caught[0].message)
    assert (
        "test_naming.py:" in message
        and "node 'c': the code uses the module 'platform' but does not import it" in message
    )
    assert (
        "code line 2 | result = platform.system() > str(value)" in message and "hint: add `import platform`" in message
    )
    assert "    platform (used by c)" in module.source
    with pytest.raises(WorkflowError, match="node 'c': the code uses the module 'platform' but does not import it"):
        compiled(builder, strict=True)


def test_an_input_named_like_a_module_but_not_used_as_one_is_no_warning() -> None:
    builder = AsyncWorkflowBuilder("plain_input")
    builder.add_async_code("c", "result = {'email': email, 'token': len(token)}")
    module, caught = quiet_compile(builder)
    assert caught == []
    assert run(builder, {"email": "a@b", "token": "xyz"})["results"]["c"] == {"email": "a@b", "token": 3}
    assert "    email (used by c)" in module.source


def test_the_command_line_prints_warnings_and_strict_makes_them_errors(tmp_path: Path) -> None:
    (tmp_path / "wf.py").write_text(
        textwrap.dedent(
            """\
            from kailash.workflow import AsyncWorkflowBuilder
            b = AsyncWorkflowBuilder('warned')
            b.add_async_code('c', 'result = sys.maxsize')
            """
        )
    )
    done = run_cli("wf.py", "-o", "out", cwd=tmp_path)
    assert done.returncode == 0
    assert "warning: wf.py:3: node 'c': the code uses the module 'sys' but does not import it" in done.stderr
    assert "Traceback" not in done.stderr and (tmp_path / "out" / "warned.py").exists()
    strict = run_cli("wf.py", "-o", "strict_out", "--strict", cwd=tmp_path)
    assert strict.returncode == 2
    assert "error: wf.py:3: node 'c': the code uses the module 'sys' but does not import it" in strict.stderr
    assert "Traceback" not in strict.stderr and not (tmp_path / "strict_out").exists()


# -- item 10: a code block that never sets result --------------------------------------------
def test_a_code_block_that_never_assigns_result_is_a_warning(tmp_path: Path) -> None:
    builder = AsyncWorkflowBuilder("no_result")
    builder.add_async_code("c", "value = 1")
    with pytest.warns(WorkflowWarning) as caught:
        compiled(builder)
    message = str(caught[0].message)
    assert "test_naming.py:" in message
    assert "node 'c': the code block never assigns `result`, so the node's output is always None" in message
    assert "hint: " in message
    with pytest.raises(WorkflowError, match="node 'c': the code block never assigns `result`"):
        compiled(builder, strict=True)
    (tmp_path / "wf.py").write_text(
        "from kailash.workflow import AsyncWorkflowBuilder\n"
        "b = AsyncWorkflowBuilder('no_result')\n"
        "b.add_async_code('c', 'value = 1')\n"
    )
    done = run_cli("wf.py", "-o", "out", "--strict", cwd=tmp_path)
    assert done.returncode == 2 and "error: wf.py:3: node 'c': the code block never assigns `result`" in done.stderr


@pytest.mark.parametrize(
    "code",
    [
        "result = 1",
        "return 5",
        "if flag:\n    return 1\nresult = 2",
        "raise ValueError('always fails')",
        "import json as result",
        "for result in range(3):\n    pass",
    ],
)
def test_code_that_gives_an_output_is_no_warning(code: str) -> None:
    builder = AsyncWorkflowBuilder("gives_output")
    builder.add_async_code("c", code)
    assert quiet_compile(builder)[1] == []


def test_patterns_and_operations_that_never_assign_result_are_warnings() -> None:
    builder = AsyncWorkflowBuilder("pattern_results")
    AsyncPatterns.parallel_fetch(builder, "f", {"ok": "result = 1", "silent": "value = 2"})
    AsyncPatterns.circuit_breaker(builder, "cb", "value = 3")
    AsyncPatterns.batch_processor(builder, "batch", "batch_results = items")
    AsyncPatterns.timeout_with_fallback(builder, "p", "fb", "result = 1", "value = 4")
    _, caught = quiet_compile(builder)
    messages = sorted(str(w).split("\n")[0].split(": ", 1)[1] for w in caught)
    assert messages == [
        "node 'cb': the code block never assigns `result`, so the node's output is always None",
        "node 'f': operation 'silent' never assigns `result`, so its output is always None",
        "node 'fb': the code block never assigns `result`, so the node's output is always None",
    ]
