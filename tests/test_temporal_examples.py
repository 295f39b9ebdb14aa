"""Every example compiled to both targets gives the same results, and its Temporal history replays.

Each example's Temporal module runs on the session's dev server with a worker process of its
own (``python module.py worker``) and ``python module.py run``; its result is compared with
the asyncio module's, with the clock's values masked and ``random`` seeded in both (as in
test_example_results.py). The run's history then replays with ``temporalio.worker.Replayer``:
the workflow code is deterministic.
"""

from __future__ import annotations

import asyncio
import json
import sys
import uuid
from pathlib import Path
from types import ModuleType

import pytest

from .conftest import EXAMPLES, ROOT
from .temporal_support import (
    DevServer,
    compile_module,
    connect,
    dev_server,
    import_module,
    printed_result,
    run_module,
    worker,
)
from .test_example_results import INPUTS, SEEDED, masked

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture
def server() -> DevServer:
    return dev_server()


async def replay(address: str, workflow_id: str, module: ModuleType) -> None:
    from kailash_rt.temporal import data_converter, workflow_runner
    from temporalio.worker import Replayer

    client = await connect(address)
    history = await client.get_workflow_handle(workflow_id).fetch_history()
    replayer = Replayer(
        workflows=[module.Workflow],
        data_converter=data_converter,
        workflow_runner=workflow_runner(module.__name__),
    )
    await replayer.replay_workflow(history)


@pytest.mark.parametrize("example", sorted(p.relative_to(ROOT).as_posix() for p in EXAMPLES.glob("*.py")))
def test_both_targets_give_the_same_results_and_the_history_replays(
    example: str, tmp_path: Path, server: DevServer
) -> None:
    asyncio_modules = compile_module(example, tmp_path / "asyncio", target="asyncio")
    temporal_modules = compile_module(example, tmp_path / "temporal")
    assert [m.name for m in asyncio_modules] == [m.name for m in temporal_modules]
    for plain, durable in zip(asyncio_modules, temporal_modules, strict=True):
        inputs = INPUTS.get(plain.stem)
        args = ["--inputs", json.dumps(inputs)] if inputs else []
        expected = run_module(plain, server.address, "-c", SEEDED, str(plain), *args, python_args=True)
        workflow_id = f"{durable.stem}-{uuid.uuid4().hex}"
        with worker(durable, server.address, seeded=True):
            done = run_module(durable, server.address, "run", "--id", workflow_id, *args)
        assert done.returncode == expected.returncode, done.stderr
        # json.dumps: in the same order too (payloads keep dict order)
        assert json.dumps(masked(printed_result(done))) == json.dumps(masked(printed_result(expected)))
        module = import_module(durable)
        try:
            asyncio.run(replay(server.address, workflow_id, module))
        finally:
            del sys.modules[durable.stem]
