"""``kailash-compile graph``: the workflow's graph as Mermaid and DOT, read back by strict parsers
(tests/graph_parsers.py): every node with its id, kind and patterns, every connection with its
output → input, every resource and the nodes that use it; hostile ids come back as they were."""

from __future__ import annotations

import json
import os
import runpy
import shutil
import subprocess
from pathlib import Path
from xml.etree import ElementTree

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from kailash.analysis import analyse
from kailash.graphs import (
    GraphEdge,
    GraphNode,
    GraphResource,
    WorkflowGraph,
    resources_used_by_node,
    to_dot,
    to_mermaid,
    workflow_graph,
)
from kailash.ir import WorkflowIR
from kailash.sources import load_workflows

from .conftest import ROOT, run_cli
from .graph_parsers import GraphSyntaxError, ParsedGraph, parse_dot, parse_mermaid
from .test_cli import assert_refused, write
from .test_golden import CASES, workflows_of

PARSERS = {"mermaid": parse_mermaid, "dot": parse_dot}


def graph_text(source: str | Path, fmt: str, cwd: Path = ROOT) -> str:
    result = run_cli("graph", str(source), "--format", fmt, cwd=cwd)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    return result.stdout


def assert_shows(parsed: ParsedGraph, ir: WorkflowIR) -> None:
    """The parsed picture holds exactly the workflow's nodes, connections, resources and uses."""
    plan = analyse(ir)
    by_id = {lines[0]: key for key, lines in parsed.nodes.items()}
    assert sorted(by_id) == sorted(node.node_id for node in ir.nodes)
    for node in ir.nodes:
        assert parsed.nodes[by_id[node.node_id]][1] == node.kind
    resources = {lines[0]: key for key, lines in parsed.resources.items()}
    assert sorted(resources) == sorted(resource.name for resource in ir.resources)
    for resource in ir.resources:
        assert parsed.resources[resources[resource.name]][1] == f"{resource.kind} resource"
    connections = sorted(
        (by_id[c.from_node], by_id[c.to_node], f"{c.from_output} → {c.to_input}") for c in ir.connections
    )
    assert sorted(edge for edge in parsed.edges if edge[2] is not None) == connections
    uses = sorted(
        (resources[name], by_id[node_plan.node.node_id], None)
        for node_plan in plan.nodes
        for name in resources_used_by_node(node_plan)
        if name in resources
    )
    assert sorted(edge for edge in parsed.edges if edge[2] is None) == uses


CASE_IDS = [case.workflow for case in CASES]


@pytest.mark.parametrize("fmt", sorted(PARSERS))
@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_every_example_and_kind_gives_a_graph_that_parses_and_shows_the_whole_workflow(case: object, fmt: str) -> None:
    irs = workflows_of(case)  # type: ignore[arg-type]
    if len(irs) != 1:  # several workflows in one file: name each
        pytest.skip("covered by the SOURCE:attr test")
    parsed = PARSERS[fmt](graph_text(case.workflow, fmt))  # type: ignore[attr-defined]
    assert_shows(parsed, irs[0])


def test_patterns_are_named_on_their_nodes() -> None:
    parsed = parse_mermaid(graph_text("examples/all_patterns.py", "mermaid"))
    shown = {lines[0]: lines[2] if len(lines) > 2 else "" for lines in parsed.nodes.values()}
    assert shown["price_orders"] == "map width 3"
    assert shown["reserve_stock"] == "retry 5 times"
    assert shown["notify_warehouse"] == "limiter 50/s"
    assert shown["charge_payment"] == "breaker after 3 failures, reset 30s"
    assert shown["live_prices"] == "timeout 0.2s, fallback cached_prices"
    assert shown["cached_prices"] == "fallback of live_prices"
    assert shown["split_notes"] == "scatter over 2 workers"
    assert shown["store_customer"] == "cache store on cache, ttl 3600s"
    policies = parse_dot(graph_text("tests/workflows/kinds/code_retry.py", "dot"))
    assert any("retry" in line for lines in policies.nodes.values() for line in lines[2:])


HOSTILE_IDS = [
    'quote"d',
    "hash#35;entity",
    "amp&amp;",
    "<br/>tag<b>",
    "new\nline",
    "pipe|-->|x",
    "back\\slash\\n",
    "brackets[](){}",
    "percent%%comment",
    "tick`md`",
    "semi;colon",
    "sep\u2028line",
    "bidi\u202eevil",
    "tab\there",
    "ünïcødé-名前",
]

HOSTILE_WORKFLOW = """
from kailash.workflow import AsyncWorkflowBuilder

IDS = {ids!r}
builder = AsyncWorkflowBuilder('hostile "name"\\n<b>#1;')
builder.with_cache('c\u00e4che', backend="memory")
previous = None
for node_id in IDS:
    builder.add_async_code(node_id, "result = {{'v': v}}" if previous else "result = {{'v': 1}}")
    if previous:
        builder.add_connection(previous, "v", node_id, "v")
    previous = node_id
builder.add_async_code("user", "c = await get_resource('c\u00e4che')\\nresult = {{'ok': True}}")
"""


@pytest.mark.parametrize("fmt", sorted(PARSERS))
def test_hostile_ids_and_names_come_back_exactly(tmp_path: Path, fmt: str) -> None:
    source = write(tmp_path / "hostile.py", HOSTILE_WORKFLOW.format(ids=HOSTILE_IDS))
    text = graph_text(source, fmt, cwd=tmp_path)
    for line in text.splitlines()[1:]:
        assert line.startswith("    ") or line == "}", line
    parsed = PARSERS[fmt](text)
    ir = workflows_of_file(source, tmp_path)
    assert_shows(parsed, ir)
    if fmt == "dot":
        assert parsed.attributes["label"] == 'hostile "name"\n<b>#1;'


def workflows_of_file(source: Path, cwd: Path) -> WorkflowIR:
    before = Path.cwd()
    os.chdir(cwd)
    try:
        (found,) = load_workflows(str(source))
        return found.workflow.ir
    finally:
        os.chdir(before)


def test_the_parsers_refuse_what_is_outside_the_grammar() -> None:
    with pytest.raises(GraphSyntaxError):
        parse_mermaid('flowchart TD\n    n0["a"b"]\n')
    with pytest.raises(GraphSyntaxError):
        parse_mermaid('flowchart TD\n    n0["a"]\n    n0 -->|"x"| n1\n')
    with pytest.raises(GraphSyntaxError):
        parse_mermaid('flowchart TD\n    n0["a<b>"]\n')
    with pytest.raises(GraphSyntaxError):
        parse_dot('digraph workflow {\n    n0 [label="a"b"];\n}\n')
    with pytest.raises(GraphSyntaxError):
        parse_dot('digraph workflow {\n    n0 [label="a\\lb"];\n}\n')
    with pytest.raises(GraphSyntaxError):
        parse_dot('digraph workflow {\n    n0 [label="a"]\n}\n')


def test_a_file_of_several_workflows_needs_one_named(tmp_path: Path) -> None:
    source = write(
        tmp_path / "two.py",
        "from kailash.workflow import AsyncWorkflowBuilder\n"
        "first = AsyncWorkflowBuilder('first')\nfirst.add_async_code('a', 'result = 1')\n"
        "second = AsyncWorkflowBuilder('second')\nsecond.add_async_code('b', 'result = 2')\n",
    )
    assert_refused(run_cli("graph", str(source), cwd=tmp_path), "holds 2 workflows", "SOURCE:attr")
    parsed = parse_mermaid(graph_text(f"{source}:second", "mermaid", cwd=tmp_path))
    assert [lines[0] for lines in parsed.nodes.values()] == ["b"]


def test_a_broken_workflow_is_one_error(tmp_path: Path) -> None:
    source = write(
        tmp_path / "cycle.py",
        "from kailash.workflow import AsyncWorkflowBuilder\n"
        "b = AsyncWorkflowBuilder('cyc')\nb.add_async_code('a', 'result = x')\nb.add_async_code('c', 'result = y')\n"
        "b.add_connection('a', 'result', 'c', 'y')\nb.add_connection('c', 'result', 'a', 'x')\nw = b.to_ir()\n",
    )
    (tmp_path / "cyc.ir.json").write_text(json.dumps(json.loads(workflows_ir_json(source))))
    assert_refused(run_cli("graph", "cyc.ir.json", cwd=tmp_path), "cycle")
    assert_refused(run_cli("graph", "missing.py", cwd=tmp_path), "no such file")
    unknown = run_cli("graph", "examples/order_totals.py", "--format", "svg")
    assert unknown.returncode == 2 and "svg" in unknown.stderr


def workflows_ir_json(source: Path) -> str:
    namespace = runpy.run_path(str(source))
    ir = namespace["w"]
    assert isinstance(ir, WorkflowIR)
    return ir.to_json()


def test_a_module_named_graph_is_compiled_as_graph_attr(tmp_path: Path) -> None:
    """``graph`` as the first word is the command; a module of that name is ``graph:ATTR``."""
    write(
        tmp_path / "graph" / "__init__.py",
        "from kailash.workflow import AsyncWorkflowBuilder\n"
        "b = AsyncWorkflowBuilder('g')\nb.add_async_code('a', 'result = 1')\n",
    )
    compiled = run_cli("graph:b", "-o", "out", cwd=tmp_path)
    assert compiled.returncode == 0, compiled.stderr
    assert (tmp_path / "out" / "g.py").is_file()
    shown = run_cli("graph", "graph:b", cwd=tmp_path)
    assert shown.returncode == 0 and parse_mermaid(shown.stdout).nodes == {"n0": ["a", "code"]}
    assert_refused(run_cli("graph", "-o", "out", cwd=tmp_path), "graph:ATTR")


def test_compile_with_graph_writes_a_mermaid_file_beside_each_module_covered_by_check(tmp_path: Path) -> None:
    out = tmp_path / "out"
    first = run_cli("examples/order_totals.py", "-o", str(out), "--graph")
    assert first.returncode == 0, first.stderr
    mmd = out / "order_totals.mmd"
    assert mmd.read_text() == graph_text("examples/order_totals.py", "mermaid")
    assert run_cli("examples/order_totals.py", "-o", str(out), "--graph", "--check").returncode == 0
    assert run_cli("examples/order_totals.py", "-o", str(out), "--graph").stderr.endswith("0 written, 2 unchanged\n")
    mmd.write_text("flowchart TD\n")
    stale = run_cli("examples/order_totals.py", "-o", str(out), "--graph", "--check")
    assert stale.returncode == 1 and f"stale: {mmd}" in stale.stderr
    diff = run_cli("examples/order_totals.py", "-o", str(out), "--graph", "--diff")
    assert diff.returncode == 0 and '+    n0["price_lines<br/>code"]' in diff.stdout
    assert mmd.read_text() == "flowchart TD\n"
    mmd.unlink()
    missing = run_cli("examples/order_totals.py", "-o", str(out), "--graph", "--check")
    assert missing.returncode == 1 and f"missing: {mmd}" in missing.stderr
    refused = run_cli("examples/order_totals.py", "--stdout", "--graph")
    assert refused.returncode == 2 and "--graph" in refused.stderr


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is not installed")
def test_graphviz_reads_every_dot_graph(tmp_path: Path) -> None:
    for case in CASES:
        if len(workflows_of(case)) != 1:
            continue
        text = graph_text(case.workflow, "dot")
        done = subprocess.run(["dot", "-Tsvg"], input=text, capture_output=True, text=True, check=False)
        assert done.returncode == 0 and "Warning" not in done.stderr, (case.workflow, done.stderr)


def test_graph_is_read_from_the_plan_not_the_code() -> None:
    (ir,) = workflows_of(next(case for case in CASES if case.workflow == "examples/order_totals.py"))
    graph = workflow_graph(analyse(ir))
    assert [node.node_id for node in graph.nodes] == [node.node_id for node in ir.nodes]


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is not installed")
def test_graphviz_shows_hostile_ids_as_they_are(tmp_path: Path) -> None:
    source = write(tmp_path / "hostile.py", HOSTILE_WORKFLOW.format(ids=HOSTILE_IDS))
    text = graph_text(source, "dot", cwd=tmp_path)
    done = subprocess.run(["dot", "-Tsvg"], input=text, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    shown = {element.text for element in ElementTree.fromstring(done.stdout).iter("{http://www.w3.org/2000/svg}text")}
    for node_id in HOSTILE_IDS:
        if node_id.isprintable():  # a line break or tab is drawn as space, not kept as text
            assert node_id in shown, node_id


ANY_TEXT = st.text(st.characters(exclude_categories=()), max_size=40)


@settings(max_examples=300, deadline=None, derandomize=True, database=None)
@given(ids=st.lists(ANY_TEXT, min_size=1, max_size=4), name=ANY_TEXT, label=ANY_TEXT, pattern=ANY_TEXT)
def test_any_text_in_any_label_comes_back_exactly(ids: list[str], name: str, label: str, pattern: str) -> None:
    """Whatever the strings (quotes, entities, markup, line breaks, lone surrogates), both
    texts parse and every label reads back as it was."""
    nodes = tuple(GraphNode(f"n{index}", node_id, name, (pattern,)) for index, node_id in enumerate(ids))
    resources = (GraphResource("r0", name, label),)
    edges = (GraphEdge("n0", f"n{len(ids) - 1}", label), GraphEdge("r0", "n0", ""))
    graph = WorkflowGraph(name, nodes, resources, edges)
    for render, parse in ((to_mermaid, parse_mermaid), (to_dot, parse_dot)):
        parsed = parse(render(graph))
        assert parsed.nodes == {node.key: [node.node_id, name, pattern] for node in nodes}
        assert parsed.resources == {"r0": [name, f"{label} resource"]}
        assert parsed.edges == [("n0", f"n{len(ids) - 1}", label), ("r0", "n0", None)]
