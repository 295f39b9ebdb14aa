"""The in-process module cache: what runs is always the compiled source, never the cache file."""

from __future__ import annotations

import asyncio
import importlib.util
import marshal
import subprocess
import sys
import traceback
import uuid
from pathlib import Path

from kailash.codegen.formatting import cache_dir
from kailash.runtime import AsyncLocalRuntime

# A new process compiling and running one workflow in process, with the test's cache directory.
RUN = """
import asyncio, sys
from kailash.runtime import AsyncLocalRuntime
from kailash.workflow import AsyncWorkflowBuilder
builder = AsyncWorkflowBuilder(sys.argv[1])
builder.add_async_code("n", sys.argv[2])
print(asyncio.run(AsyncLocalRuntime().execute_workflow_async(builder.build(), {}))["results"])
"""


def _run_in_new_process(name: str, code: str) -> str:
    done = subprocess.run([sys.executable, "-c", RUN, name, code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def _module_file(name: str) -> Path:
    directory = cache_dir()
    assert directory is not None
    (found,) = (directory / "modules").glob(f"_kailash_generated_{name}_*.py")
    return found


def test_bytecode_planted_beside_the_cache_file_never_runs() -> None:
    name = f"trusted_{uuid.uuid4().hex[:8]}"
    assert _run_in_new_process(name, "result = 'compiled'") == "{'n': 'compiled'}"
    path = _module_file(name)
    # Bytecode of other code, stamped with the cache file's mtime and size as Python checks them.
    injected = path.read_text().replace('"compiled"', '"INJECTED"').replace("'compiled'", "'INJECTED'")
    stat = path.stat()
    pyc = Path(importlib.util.cache_from_source(str(path)))
    pyc.parent.mkdir(exist_ok=True)
    pyc.write_bytes(
        importlib.util.MAGIC_NUMBER
        + (0).to_bytes(4, "little")
        + (int(stat.st_mtime) & 0xFFFFFFFF).to_bytes(4, "little")
        + (stat.st_size & 0xFFFFFFFF).to_bytes(4, "little")
        + marshal.dumps(compile(injected, str(path), "exec"))
    )
    assert _run_in_new_process(name, "result = 'compiled'") == "{'n': 'compiled'}"


def test_an_edited_cache_file_never_runs() -> None:
    name = f"trusted_{uuid.uuid4().hex[:8]}"
    _run_in_new_process(name, "result = 'compiled'")
    path = _module_file(name)
    path.write_text(path.read_text().replace('"compiled"', '"INJECTED"').replace("'compiled'", "'INJECTED'"))
    assert _run_in_new_process(name, "result = 'compiled'") == "{'n': 'compiled'}"


def test_a_cache_file_that_is_not_utf8_is_no_traceback() -> None:
    name = f"trusted_{uuid.uuid4().hex[:8]}"
    _run_in_new_process(name, "result = 1")
    _module_file(name).write_bytes(b"\xff\xfe not utf-8")
    assert _run_in_new_process(name, "result = 1") == "{'n': 1}"


def test_a_traceback_shows_the_generated_line() -> None:
    from kailash.workflow import AsyncWorkflowBuilder

    builder = AsyncWorkflowBuilder(f"trusted_{uuid.uuid4().hex[:8]}")
    builder.add_async_code("n", "result = 1 / 0")
    outcome = asyncio.run(AsyncLocalRuntime().execute_workflow_async(builder.build(), {}))
    text = "".join(traceback.format_exception(outcome.exceptions["n"]))
    assert "result = 1 / 0" in text
