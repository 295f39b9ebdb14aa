"""Validation of generated modules: the rules every compiled module keeps, whatever template
produced it (kailash.targets.asyncio.validate), checked against facts read with ``ast``.

The modules of the examples and of every golden workflow keep them. A module broken the ways
a template could break it (an import nobody declared, a missing or synchronous node function,
a node registered twice or not at all, a template rebinding ``rt``) is refused with a message
that names the rule, the template and the generated line. Modules are made from real
workflows and their plans, then changed by hand; one test goes through a template a user
supplies, as ``--templates`` will.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from kailash._lru import LRU
from kailash.analysis import ModulePlan, analyse
from kailash.analysis.plan import Shape
from kailash.codegen import compile_ir
from kailash.codegen.formatting import format_chunk_texts, join_chunks
from kailash.errors import CompilerBug, GeneratedModuleError, TemplateError, WorkflowError
from kailash.sources import load_workflows
from kailash.targets.asyncio import chunk_facts, facts, read_facts, render
from kailash.targets.asyncio.validate import (
    FUNCTION_FORMS,
    IMPORTS,
    MODULE_NAMES,
    NODE_FORMS,
    NODE_FUNCTIONS,
    REGISTRATIONS,
    validate_module,
)
from kailash.workflow import AsyncWorkflowBuilder

from .conftest import EXAMPLES, ROOT

WORKFLOW_FILES = sorted(
    [
        *EXAMPLES.glob("*.py"),
        *(ROOT / "tests" / "workflows").glob("*.py"),
        *(ROOT / "tests" / "workflows" / "kinds").glob("*.py"),
    ]
)


@dataclass
class Module:
    plan: ModulePlan
    chunks: list[str]  # formatted: the header, one per node in plan order, run()

    def chunk(self, which: str) -> int:
        """The index of the chunk of ``which``: "header", "run" or a node id."""
        if which == "header":
            return 0
        if which == "run":
            return len(self.chunks) - 1
        return 1 + [p.node.node_id for p in self.plan.nodes].index(which)

    def edited(self, which: str, old: str, new: str) -> list[str]:
        chunks = list(self.chunks)
        index = self.chunk(which)
        assert old in chunks[index], f"{old!r} is not in the chunk of {which}:\n{chunks[index]}"
        chunks[index] = chunks[index].replace(old, new, 1)
        return chunks


def module_of(path: Path) -> Iterator[Module]:
    for found in load_workflows(str(path)):
        ir = found.workflow.ir
        plan = analyse(ir)
        yield Module(plan, format_chunk_texts(render.render_chunks(plan, ir.location.file)))


@pytest.fixture(scope="module")
def patterns() -> Module:
    """The example with a node of every shape: code, map, scatter-gather, patterns, stages, fetch."""
    [module] = module_of(EXAMPLES / "all_patterns.py")
    return module


@pytest.fixture
def fresh_facts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Nothing cached: in memory or on disk (its own directory, returned)."""
    monkeypatch.setenv("KAILASH_COMPILE_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(chunk_facts, "_units", LRU(16384))
    monkeypatch.setattr(chunk_facts, "_runs", LRU(64))
    return tmp_path / "cache"


@pytest.fixture
def fact_reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The texts whose facts are read (not found in a cache) from now on."""
    reads: list[str] = []
    original = read_facts.read_units

    def recording(texts: list[str]) -> list[facts.UnitFacts]:
        reads.extend(texts)
        return original(texts)

    monkeypatch.setattr(read_facts, "read_units", recording)  # chunk_facts imports it when it reads
    return reads


# -- what keeps the rules ------------------------------------------------------------------------
@pytest.mark.parametrize("path", WORKFLOW_FILES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_examples_and_golden_workflows_keep_every_rule(path: Path, fresh_facts: Path) -> None:
    for module in module_of(path):
        validate_module(module.plan, module.chunks)
        found = chunk_facts.chunk_facts([c.rstrip("\n") + "\n" for c in module.chunks])
        registered = [call.node_id for call in found[-1].registrations]
        assert sorted(registered) == sorted(module.plan.order)  # the validator did read run()


def test_every_node_shape_has_a_form() -> None:
    assert set(NODE_FORMS) == set(Shape)
    assert set(FUNCTION_FORMS) <= set(Shape)


def test_registrations_sharing_a_line_count_once(patterns: Module) -> None:
    call = '        r.node("dashboard", dashboard)\n'
    chunks = patterns.edited("run", call, '        r.node("dashboard", dashboard); x = 1\n')
    validate_module(patterns.plan, chunks)


def test_a_code_block_may_import_and_declare_globals_of_its_own(fresh_facts: Path) -> None:
    builder = AsyncWorkflowBuilder("own_names")
    builder.add_async_code("a", "global counter\ncounter = 1\nimport json\nresult = json.dumps(counter)")
    builder.add_async_code("b", "global counter\ncounter = 2\nimport fractions\nresult = str(fractions.Fraction(1))")
    map_code = """
import json as j
cache = {}
def process_item(item):
    global cache
    cache = {item: 1}
    return j.dumps(item)
"""
    builder.add_parallel_map("m", map_code)
    compile_ir(builder.build().ir)


def test_deeply_nested_code_is_validated(fresh_facts: Path) -> None:
    builder = AsyncWorkflowBuilder("deep")
    # As deep as CPython nests brackets, and blocks within the node's function.
    builder.add_async_code("deep", "import json\nresult = json.dumps(" + "[" * 198 + "1" + "]" * 198 + ")")
    nested = "".join("    " * depth + "if result:\n" for depth in range(97)) + "    " * 97 + "result = 2\n"
    builder.add_async_code("blocks", "result = 1\n" + nested)
    compile_ir(builder.build().ir)


# Code CPython's parser refuses for its depth alone, each a line at the top of a chunk.
TOO_DEEP = {
    "brackets": "deep = " + "[" * 201 + "]" * 201 + "\n",  # SyntaxError: too many nested parentheses
    "blocks": "".join(" " * depth + "if deep:\n" for depth in range(100)) + " " * 100 + "pass\n",  # IndentationError
    "operators": "deep = " + "1 + " * 100_000 + "1\n",  # RecursionError or MemoryError, by version
}


@pytest.mark.parametrize("code", TOO_DEEP.values(), ids=TOO_DEEP.keys())
def test_code_too_deep_for_the_parser_is_refused_naming_the_node(patterns: Module, code: str) -> None:
    chunks = patterns.edited("load_orders", "async def load_orders()", code + "\n\nasync def load_orders()")
    with pytest.raises(WorkflowError) as caught:
        validate_module(patterns.plan, chunks)
    message = str(caught.value)
    assert not isinstance(caught.value, GeneratedModuleError)
    assert caught.value.node_id == "load_orders"
    assert "node 'load_orders': its code nests too deeply for Python 3." in message
    assert "split the deeply nested expression" in message
    assert "Traceback" not in message


def test_generated_code_too_deep_for_the_parser_outside_a_node_is_a_compiler_bug(patterns: Module) -> None:
    chunks = patterns.edited("header", "import kailash_rt as rt\n", "import kailash_rt as rt\n" + TOO_DEEP["brackets"])
    with pytest.raises(CompilerBug, match="the generated code nests too deeply for Python's parser"):
        validate_module(patterns.plan, chunks)


def test_a_compile_without_a_parallel_map_imports_no_libcst(tmp_path: Path) -> None:
    """Only a parallel map's rewrite uses libcst: reading the facts of a module does not. A cold
    compile formats every chunk, so black is imported: the check sees what a compile imports."""
    script = (
        "import sys\n"
        "from kailash.cli import main\n"
        "try:\n"
        f"    main([{str(EXAMPLES / 'fan_out_fan_in.py')!r}, '-o', {str(tmp_path / 'out')!r}])\n"
        "except SystemExit as exc:\n"
        "    assert not exc.code, exc.code\n"
        "print('black' in sys.modules, any(name.split('.')[0] == 'libcst' for name in sys.modules))\n"
    )
    env = {**os.environ, "KAILASH_COMPILE_CACHE": str(tmp_path / "cache")}  # cold: every fact is read
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=False, env=env, timeout=300
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split("\n")[-2] == "True False"
    assert list((tmp_path / "out").glob("*.py"))  # it did compile


# -- what breaks them ----------------------------------------------------------------------------
@dataclass(frozen=True)
class Breach:
    chunk: str  # "header", "run" or a node id
    old: str
    new: str
    rule: str
    line: str  # the generated line the message shows
    says: str  # a phrase of the message
    template: str

    def __str__(self) -> str:
        return self.says


RUN_CALL = '        r.node("dashboard", dashboard)\n'
BREACHES = [
    Breach("header", "import kailash_rt as rt\n", "import kailash_rt as rt\nimport requests\n", IMPORTS,
           "import requests", "it imports 'requests'", "header.py.j2 or resources.py.j2"),
    Breach("load_orders", "    orders = ", "    import yaml\n\n    orders = ", IMPORTS,
           "    import yaml", "it imports 'yaml'", "node_code.py.j2"),
    Breach("load_orders", "async def load_orders()", "async def load_order()", NODE_FUNCTIONS,
           '# node "load_orders"', "'load_orders', the function of node 'load_orders' (code), is missing",
           "node_code.py.j2"),
    Breach("load_orders", "async def load_orders()", "def load_orders()", NODE_FUNCTIONS,
           "def load_orders() -> Any:", "must be an `async def`, but here it is a `def`", "node_code.py.j2"),
    Breach("reserve_stock", "async def reserve_stock(", "def reserve_stock(", NODE_FUNCTIONS,
           "def reserve_stock(items: Any) -> Any:", "must be an `async def`", "node_pattern.py.j2"),
    Breach("dashboard", "async def dashboard_carriers()", "def dashboard_carriers()", NODE_FUNCTIONS,
           "def dashboard_carriers() -> Any:", "'dashboard_carriers', a function of node 'dashboard'",
           "node_parallel_fetch.py.j2"),
    Breach("store_customer", "store_customer = ", "store_customer = None\nstore_customer = ", NODE_FUNCTIONS,
           "store_customer = rt.cache_store(cache=\"cache\", ttl_seconds=3600)", "is bound 2 times",
           "node_assign.py.j2"),
    Breach("store_customer", "store_customer = ", "if True:\n    store_customer = ", NODE_FUNCTIONS,
           '    store_customer = rt.cache_store(cache="cache", ttl_seconds=3600)', "is bound inside a block",
           "node_assign.py.j2"),
    Breach("run", RUN_CALL, RUN_CALL + RUN_CALL, REGISTRATIONS,
           RUN_CALL.rstrip("\n"), "run() registers node 'dashboard' 2 times", "run_call.py.j2"),
    Breach("run", RUN_CALL, "", REGISTRATIONS,
           "async def run(", "run() does not register node 'dashboard'", "run.py.j2"),
    Breach("run", RUN_CALL, '        r.node("dashboard", load_orders)\n', REGISTRATIONS,
           '        r.node("dashboard", load_orders)', "with `load_orders`, not with its function `dashboard`",
           "run_call.py.j2"),
    Breach("run", RUN_CALL, RUN_CALL + '        r.node("extra", dashboard)\n', REGISTRATIONS,
           '        r.node("extra", dashboard)', "registers 'extra', which is not a node of the workflow",
           "run_call.py.j2"),
    Breach("run", RUN_CALL, '        r.node(f"dashboard", dashboard)\n', REGISTRATIONS,
           '        r.node(f"dashboard", dashboard)', "not a string literal", "run_call.py.j2"),
    Breach("run", "as r:", "as runner:", REGISTRATIONS,
           "async def run(", "run() does not register node 'load_orders'", "run.py.j2"),
    Breach("load_orders", "async def load_orders()", "rt = None\n\n\nasync def load_orders()", MODULE_NAMES,
           "rt = None", "it binds 'rt', the runtime (`import kailash_rt as rt`)", "node_code.py.j2"),
    Breach("load_orders", "    orders = ", "    global rt\n    rt = None\n    orders = ", MODULE_NAMES,
           "    rt = None", "it binds 'rt', the runtime", "node_code.py.j2"),
    Breach("load_orders", "async def load_orders()", "run = None\n\n\nasync def load_orders()", MODULE_NAMES,
           "run = None", "it binds 'run', the module's run()", "node_code.py.j2"),
    Breach("load_orders", "async def load_orders()", "price_orders = None\n\n\nasync def load_orders()", MODULE_NAMES,
           "price_orders = None", "it binds 'price_orders', the function of node 'price_orders'", "node_code.py.j2"),
    Breach("header", "import kailash_rt as rt\n", "import asyncio as rt\n", MODULE_NAMES,
           "import asyncio as rt", "must import 'kailash_rt', but here it imports 'asyncio'",
           "header.py.j2 or resources.py.j2"),
    Breach("load_orders", "async def load_orders()", "RESOURCES = {}\n\n\nasync def load_orders()", MODULE_NAMES,
           "RESOURCES = {}", "it binds 'RESOURCES', the module's resource declarations", "node_code.py.j2"),
    Breach("run", RUN_CALL, "        dashboard = None\n" + RUN_CALL, MODULE_NAMES,
           "        dashboard = None", "run() binds 'dashboard' itself", "run_call.py.j2"),
    Breach("run", RUN_CALL, "        r = None\n" + RUN_CALL, MODULE_NAMES,
           "        r = None", "run() binds 'r' again", "run_call.py.j2"),
]  # fmt: skip


@pytest.mark.parametrize("breach", BREACHES, ids=str)
def test_a_broken_rule_names_the_rule_the_template_and_the_line(patterns: Module, breach: Breach) -> None:
    chunks = patterns.edited(breach.chunk, breach.old, breach.new)
    with pytest.raises(GeneratedModuleError) as caught:
        validate_module(patterns.plan, chunks)
    error = caught.value
    message = str(error)
    assert error.rule == breach.rule
    assert f"breaks the rule that {breach.rule}" in message
    assert breach.says in message
    assert error.text == breach.line
    assert join_chunks(chunks).split("\n")[error.line - 1] == breach.line  # the line of the written module
    assert f"order_patterns.py:{error.line} (from template {breach.template}) | {breach.line}" in message
    assert error.template == breach.template
    assert "a bug in kailash-compile" in message  # a shipped template: the compiler's fault
    assert "Traceback" not in message


def test_names_two_nodes_bind_at_module_level_are_refused(patterns: Module) -> None:
    chunks = patterns.edited("load_orders", "async def load_orders()", "_seen = set()\n\n\nasync def load_orders()")
    index = patterns.chunk("live_prices")
    chunks[index] = chunks[index].replace("@rt.timeout", "_seen = set()\n\n\n@rt.timeout", 1)
    with pytest.raises(GeneratedModuleError) as caught:
        validate_module(patterns.plan, chunks)
    assert caught.value.rule == MODULE_NAMES
    assert caught.value.node_id == "live_prices"
    assert "it binds '_seen' at module level, and so does the code of node 'load_orders'" in str(caught.value)


def test_a_violation_found_from_cached_facts_reads_the_same(patterns: Module, fresh_facts: Path) -> None:
    chunks = patterns.edited("load_orders", "async def load_orders()", "def load_orders()")
    messages = []
    for _ in range(2):  # read, then from the cache
        with pytest.raises(GeneratedModuleError) as caught:
            validate_module(patterns.plan, chunks)
        messages.append(str(caught.value))
    chunk_facts.forget()
    with pytest.raises(GeneratedModuleError) as caught:  # from the disk cache
        validate_module(patterns.plan, chunks)
    assert messages == [str(caught.value)] * 2


# -- a template a user supplies (--templates) -------------------------------------------------
SHIPPED = ROOT / "templates" / "asyncio"
WORKFLOW = """
from kailash.workflow import AsyncWorkflowBuilder
builder = AsyncWorkflowBuilder("shimmed")
builder.add_async_code("first", "result = 1")
builder.add_async_code("second", "result = 2")
"""


def _templates(tmp_path: Path, name: str, text: str) -> Path:
    directory = tmp_path / "company-templates"
    directory.mkdir()
    (directory / name).write_text(text)
    return directory


def test_a_user_template_that_rebinds_rt_is_named(tmp_path: Path) -> None:
    shim = "rt = None  # the company's runtime shim\n\n\n"
    directory = _templates(tmp_path, "node_code.py.j2", shim + (SHIPPED / "node_code.py.j2").read_text())
    builder = AsyncWorkflowBuilder("shimmed")
    builder.add_async_code("first", "result = 1")
    with pytest.raises(GeneratedModuleError) as caught:
        compile_ir(builder.build().ir, templates=directory)
    error, template = caught.value, (directory / "node_code.py.j2").as_posix()
    assert isinstance(error, TemplateError) and isinstance(error, WorkflowError)  # bad input, not a bug
    assert error.rule == MODULE_NAMES and error.template == template
    assert f"(from template {template}) | rt = None  # the company's runtime shim" in str(error)
    assert f"hint: change {template}: code a template adds must not bind" in str(error)
    assert "node 'first'" in str(error) and "test_validate.py:" in str(error)  # the node's builder call


def test_a_user_template_whose_include_breaks_a_rule_is_named_with_it(tmp_path: Path) -> None:
    # The shipped node template includes _node_head.py.j2: the user's version of it defines a
    # helper at module level, which every node then defines again.
    head = (SHIPPED / "_node_head.py.j2").read_text()
    directory = _templates(tmp_path, "_node_head.py.j2", head + "_trace = []\n\n\n")
    workflow = tmp_path / "wf.py"
    workflow.write_text(WORKFLOW)
    [found] = load_workflows(str(workflow))
    with pytest.raises(GeneratedModuleError) as caught:
        compile_ir(found.workflow.ir, templates=directory)
    error = caught.value
    assert error.template == f"node_code.py.j2 (shipped, with your {(directory / '_node_head.py.j2').as_posix()})"
    assert "it binds '_trace' at module level, and so does the code of node 'first'" in str(error)
    assert error.node_id == "second" and error.text == "_trace = []"


def test_the_command_line_refuses_a_template_breaking_a_rule_without_a_traceback(tmp_path: Path) -> None:
    sync = (SHIPPED / "node_code.py.j2").read_text().replace("async def", "def")
    _templates(tmp_path, "node_code.py.j2", sync)
    workflow = tmp_path / "wf.py"
    workflow.write_text(WORKFLOW)
    result = subprocess.run(
        [sys.executable, "-m", "kailash.cli", "wf.py", "-o", "out", "--templates", "company-templates"],
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
    )
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert (
        "error: wf.py:4: node 'first': the generated module breaks the rule that each node's function is defined"
        " exactly once, at the top of the module, under its planned name: 'first', the function of node 'first'"
        " (code), must be an `async def`, but here it is a `def`\n"
        "    shimmed.py:19 (from template company-templates/node_code.py.j2) | def first() -> Any:\n"
        "hint: change company-templates/node_code.py.j2: 'first' must be an `async def`"
    ) in result.stderr
    assert not (tmp_path / "out").exists()


# -- caching -------------------------------------------------------------------------------------
def _many(nodes: int, edited: int = -1, connected_to: int | None = None) -> ModulePlan:
    """A chain of nodes; ``edited`` has a changed comment and, with ``connected_to``, reads another node."""
    builder = AsyncWorkflowBuilder("many")
    for index in range(nodes):
        note = " (edited)" if index == edited else ""
        builder.add_async_code(f"n{index}", f"# step {index}{note}\nresult = {{'value': {index}}}")
        if index:
            upstream = connected_to if index == edited and connected_to is not None else index - 1
            builder.add_connection(f"n{upstream}", "value", f"n{index}", "v")
    return analyse(builder.build().ir)


def _chunks(plan: ModulePlan) -> list[str]:
    return format_chunk_texts(render.render_chunks(plan, "many.py"))


def test_a_warm_validation_reads_nothing_again(fresh_facts: Path, fact_reads: list[str]) -> None:
    plan = _many(20)
    chunks = _chunks(plan)
    validate_module(plan, chunks)
    assert len(fact_reads) > 20  # every chunk, run() in pieces
    fact_reads.clear()
    validate_module(plan, chunks)
    assert fact_reads == []
    chunk_facts.forget()
    validate_module(plan, chunks)  # a new process: the disk cache
    assert fact_reads == []


def test_an_edited_node_reads_only_its_own_chunk(fresh_facts: Path, fact_reads: list[str]) -> None:
    validate_module(_many(20), _chunks(_many(20)))
    fact_reads.clear()
    plan = _many(20, edited=7)
    validate_module(plan, _chunks(plan))
    assert len(fact_reads) == 1 and "# step 7 (edited)" in fact_reads[0]


def test_an_edited_connection_reads_only_the_statements_of_run_it_changes(
    fresh_facts: Path, fact_reads: list[str]
) -> None:
    validate_module(_many(20), _chunks(_many(20)))
    fact_reads.clear()
    plan = _many(20, edited=7, connected_to=3)  # node 7 reads node 3, and nothing reads node 6
    validate_module(plan, _chunks(plan))
    node, *statements = fact_reads
    assert "# step 7 (edited)" in node
    assert statements == [
        'if _:\n        r.node("n6", n6, v=n5_out["value"])\n',
        'if _:\n        n7_out = r.node("n7", n7, v=n3_out["value"])\n',
    ]


def test_a_damaged_disk_entry_is_read_again_and_rewritten(fresh_facts: Path, fact_reads: list[str]) -> None:
    plan = _many(3)
    chunks = _chunks(plan)
    validate_module(plan, chunks)
    entries = sorted(path for path in fresh_facts.rglob("*") if path.is_file() and path.read_bytes().startswith(b"{"))
    assert len(entries) >= 3  # facts (the formatter's entries are Python)
    damage = [
        b"\xff not utf-8",
        b'{"bindings": "not a list"}',
        b'{"bindings": [{"name": 1}], "imports": [], "calls": [], "declared_global": [], "runs": []}',
    ]
    damaged = {path: damage[index % len(damage)] for index, path in enumerate(entries)}
    for path, data in damaged.items():
        path.write_bytes(data)
    chunk_facts.forget()
    fact_reads.clear()
    validate_module(plan, chunks)
    assert fact_reads  # what could not be read as facts is read again
    assert all(path.read_bytes() != data for path, data in damaged.items())  # and rewritten


def test_facts_are_the_same_read_in_worker_processes(fresh_facts: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(chunk_facts, "PARALLEL_MISSES", 64)  # workers for a module this small
    plan = _many(80)
    texts = [chunk.rstrip("\n") + "\n" for chunk in _chunks(plan)]
    in_workers = chunk_facts.chunk_facts(texts, jobs=2)
    chunk_facts.forget()
    in_process = chunk_facts.chunk_facts(texts, jobs=1)
    assert in_workers == in_process
