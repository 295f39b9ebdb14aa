"""How a Temporal module declares its nodes: each node function carries one visible decorator
naming its node (``@rtt.activity(node_id, <policies>)``, or the ``rtt`` form of a pattern the
workflow runs itself), and ``NODES`` lists those a worker registers."""

from __future__ import annotations

import asyncio
import json
import re
import sys
from pathlib import Path

import pytest

from .conftest import GOLDEN, ROOT, run_cli
from .temporal_support import DevServer, compile_module, dev_server, import_module, printed_result, run_module, worker

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

# A declaration of node "X": the decorator (black may break the line after its parenthesis)
# or, for a node with no function of its own, the call whose result is the node.
_DECLARATION = re.compile(r'rtt\.(activity|parallel_map|timeout_with_fallback|parallel_fetch)\(\s*"([^"]+)"')
_NODE_HEAD = re.compile(r'^# node "([^"]+)"$', re.MULTILINE)


def _node_chunks(source: str) -> dict[str, str]:
    """Each node's chunk of the module: from its ``# node`` comment to the next one (or NODES)."""
    heads = list(_NODE_HEAD.finditer(source))
    end_of_nodes = source.index("\nNODES = rtt.Nodes(")
    chunks = {}
    for head, following in zip(heads, [*heads[1:], None], strict=True):
        chunks[head.group(1)] = source[head.end() : following.start() if following else end_of_nodes]
    return chunks


def _temporal_modules(tmp_path: Path) -> list[Path]:
    sources = sorted((ROOT / "tests" / "workflows" / "kinds").glob("*.py"))
    for source in sources:
        done = run_cli(source.relative_to(ROOT).as_posix(), "-o", str(tmp_path), "--target", "temporal")
        assert done.returncode == 0, f"{source.name}: {done.stderr}"
    return [*sorted(tmp_path.glob("*.py")), *sorted((GOLDEN / "temporal").glob("*.py"))]


def test_every_node_is_declared_once_by_its_own_chunk_and_listed_for_the_worker(tmp_path: Path) -> None:
    modules = _temporal_modules(tmp_path)
    assert len(modules) > 20
    answered_in_workflow = 0
    for path in modules:
        source = path.read_text()
        chunks = _node_chunks(source)
        assert chunks, path.name
        listed = re.search(r"NODES = rtt\.Nodes\(\s*\"[^\"]+\",\s*\[([^\]]*)\]", source)
        assert listed is not None, path.name
        workers_run = {name.strip() for name in listed.group(1).split(",") if name.strip()}
        module = import_module(path)
        try:
            declared = {entry.node_id for entry in module.NODES.declared}
            for node_id, chunk in chunks.items():
                declarations = _DECLARATION.findall(chunk)
                if not declarations:  # the fallback node of a primary the workflow runs
                    assert re.search(r"^@\w+\.fallback$", chunk, re.MULTILINE), f"{path.name}: {node_id}\n{chunk}"
                    assert node_id not in declared
                    answered_in_workflow += 1
                    continue
                assert [declared_id for _, declared_id in declarations] == [node_id], f"{path.name}: {node_id}"
                assert node_id in declared, f"{path.name}: {node_id}"
                assert "@rt.node(" not in chunk and "rt.node(" not in chunk
            assert declared == set(chunks) - {n for n, c in chunks.items() if not _DECLARATION.search(c)}
            assert len(workers_run) == len(module.NODES.declared)
        finally:
            del sys.modules[path.stem]
    assert answered_in_workflow >= 2  # the kinds' and the all-patterns example's fallback nodes


def test_a_declared_node_called_directly_runs_under_its_timeout() -> None:
    import kailash_rt.temporal as rtt

    @rtt.activity("slow", timeout=0.05)
    async def slow() -> str:
        await asyncio.sleep(60)
        return "late"

    @rtt.activity("quick", timeout=5)
    async def quick(name: str) -> str:
        return f"hello {name}"

    assert (slow.node_id, slow.timeout, slow.__name__) == ("slow", 0.05, "slow")
    with pytest.raises(TimeoutError):
        asyncio.run(slow())
    assert asyncio.run(quick(name="ada")) == "hello ada"


def _ir_with(tmp_path: Path, kind_workflow: str, node_id: str, **changes: object) -> Path:
    """The IR file of a kinds workflow, with ``changes`` made to node ``node_id``."""
    out = tmp_path / "ir"
    done = run_cli(f"tests/workflows/kinds/{kind_workflow}.py", "-o", str(out), "--emit-ir")
    assert done.returncode == 0, done.stderr
    (ir_path,) = out.glob("*.ir.json")
    ir = json.loads(ir_path.read_text())
    (node,) = [node for node in ir["nodes"] if node["node_id"] == node_id]
    node.update(changes)
    changed = tmp_path / f"{kind_workflow}.ir.json"
    changed.write_text(json.dumps(ir))
    return changed


def test_a_retry_policy_on_retry_with_backoff_is_refused_naming_the_node(tmp_path: Path) -> None:
    retry = {"attempts": 2, "delay": 1.0, "backoff": 2.0, "max_delay": None, "retry_on": []}
    ir_file = _ir_with(tmp_path, "retry_with_backoff", "reserve_stock", retry=retry)
    done = run_cli(str(ir_file), "-o", str(tmp_path / "out"), "--target", "temporal")
    assert done.returncode == 2
    assert "node 'reserve_stock': it has a retry policy and retry_with_backoff" in done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "out").exists()


@pytest.fixture
def server() -> DevServer:
    return dev_server()


def test_a_primary_under_a_timeout_of_its_own_is_one_activity_and_its_fallback_node_answers(
    tmp_path: Path, server: DevServer
) -> None:
    """(The asyncio target cannot compile this IR into a module that imports: rt.node's wrapper
    hides the primary's .fallback. The Temporal module's Activity passes it through.)"""
    ir_file = _ir_with(tmp_path, "timeout_with_fallback", "live_rate", timeout=5)
    [durable] = compile_module(str(ir_file), tmp_path / "temporal")
    source = durable.read_text()
    assert '@rtt.activity("live_rate", timeout=5)\n@rt.timeout_with_fallback(timeout_seconds=0.5)\n' in source
    assert '@rtt.activity("cached_rate")\n@live_rate.fallback\n' in source
    with worker(durable, server.address):
        done = run_module(durable, server.address, "run", "--inputs", json.dumps({"currency": "EUR"}))
    assert done.returncode == 0, done.stderr
    answer = {"rate": 1.09, "currency": "EUR", "_source": "primary"}
    assert printed_result(done) == {"results": {"live_rate": answer, "cached_rate": answer}, "errors": {}}


def test_the_workflow_files_definitions_are_copied_into_the_temporal_module_and_run_there(
    tmp_path: Path, server: DevServer
) -> None:
    from .test_workflow_file_names import HELPERS

    (tmp_path / "flows.py").write_text(HELPERS)
    done = run_cli("flows.py", "-o", str(tmp_path / "out"), "--target", "temporal", "--strict", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    module = tmp_path / "out" / "receipts.py"
    source = module.read_text()
    assert "\n# copied from the workflow file, flows.py:12\n@lru_cache(maxsize=None)\ndef unit_price(sku):" in source
    assert "Inputs:\n    order (used by price; required)\n" in source
    with worker(module, server.address):
        ran = run_module(module, server.address, "run", "--inputs", '{"order": [{"sku": "widget", "qty": 3}]}')
    assert ran.returncode == 0, ran.stderr
    assert printed_result(ran)["results"]["receipt"] == {"total": 9, "currency": "EUR"}


def test_a_definition_named_like_a_temporal_module_name_is_refused(tmp_path: Path) -> None:
    (tmp_path / "clash.py").write_text(
        "from kailash.workflow import AsyncWorkflowBuilder\n"
        "TASK_QUEUE = 'mine'\n"
        "flow = AsyncWorkflowBuilder('clash')\n"
        "flow.add_async_code('queue', 'result = TASK_QUEUE')\n"
    )
    done = run_cli("clash.py", "-o", str(tmp_path / "out"), "--target", "temporal", cwd=tmp_path)
    assert done.returncode == 2
    assert "clash.py:2: the workflow file's 'TASK_QUEUE'" in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "out").exists()
    assert run_cli("clash.py", "-o", str(tmp_path / "asyncio"), cwd=tmp_path).returncode == 0
