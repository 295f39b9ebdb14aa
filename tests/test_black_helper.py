"""The black helper of the command (kailash/black_helper.py): black imports itself in a
process beside the compiler's while the workflow loads, and formats what a compile sends it.

Each check runs the command's code in a fresh interpreter (the helper is a fork of it) and
compares what it wrote with a compile in this process, which has no helper.
"""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
from pathlib import Path

import pytest
from kailash import compile_source

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the helper is forked on Linux only")

WORKFLOW = """
from kailash.workflow import AsyncWorkflowBuilder

builder = AsyncWorkflowBuilder("helped")
first = builder.add_async_code("first", "# {note}\\nresult = {{'value': 1}}")
second = builder.add_async_code("second", "result = {{'total': value + 1, 'label': 'second'}}")
builder.add_connection(first, "value", second, "value")
"""

# The command's own steps (as kailash.cli.run takes them), with what this process imported and
# the helper's process id printed before the exit; ``kill`` ends the helper before the compile.
COMMAND = """
import json, os, signal, sys
from kailash import black_helper
black_helper.start()
helper = black_helper.running()
if sys.argv[1] == "kill":
    os.kill(helper, signal.SIGKILL)
from kailash.cli import main
try:
    main(sys.argv[2:], standalone_mode=False)
except SystemExit as exc:
    assert not exc.code, exc.code
print(json.dumps({"black": "black" in sys.modules, "helper": helper, "after": black_helper.running()}))
sys.stdout.flush()
if sys.argv[1] != "leave":
    black_helper.stop()
os._exit(0)
"""


def command(how: str, directory: Path) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-c", COMMAND, how, "flow.py", "-o", "out"],
        capture_output=True,
        text=True,
        cwd=directory,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    outcome: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return outcome


def expected(directory: Path) -> str:
    """The module compiled in this process, with no cache: nothing the command kept is read."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("KAILASH_COMPILE_CACHE", "")
        return compile_source(directory / "flow.py")[0].source


def test_a_compile_formats_its_new_chunks_in_the_helper_and_writes_what_black_would(
    tmp_path: Path, state_cache: Path
) -> None:
    (tmp_path / "flow.py").write_text(WORKFLOW.format(note="first version"))
    outcome = command("use", tmp_path)
    assert outcome["black"] is False  # the compiler's process never imported black
    assert isinstance(outcome["helper"], int) and outcome["after"] == outcome["helper"]
    assert (tmp_path / "out" / "helped.py").read_text() == expected(tmp_path)

    (tmp_path / "flow.py").write_text(WORKFLOW.format(note="an edited, longer comment"))  # a new shape
    outcome = command("use", tmp_path)
    assert outcome["black"] is False
    assert (tmp_path / "out" / "helped.py").read_text() == expected(tmp_path)


def test_a_helper_that_died_leaves_the_formatting_to_the_compilers_process(tmp_path: Path, state_cache: Path) -> None:
    (tmp_path / "flow.py").write_text(WORKFLOW.format(note="helper killed"))
    outcome = command("kill", tmp_path)
    assert outcome["black"] is True
    assert outcome["after"] is None  # stopped once it failed to answer
    assert (tmp_path / "out" / "helped.py").read_text() == expected(tmp_path)


def test_a_text_that_raises_in_the_helper_raises_in_the_compilers_process_as_without_it() -> None:
    script = """
import json
from kailash import black_helper
from kailash.codegen import formatting
from kailash.errors import CompilerBug
black_helper.start()
replies = black_helper.run("_format_valid", ["x = (1,\\n", "y  =  2\\n"])
try:
    formatting._in_parallel(formatting._format_valid, ["x = (1,\\n"], jobs=1)
except CompilerBug as exc:
    raised = str(exc).splitlines()[0]
print(json.dumps({"replies": replies, "raised": raised}))
black_helper.stop()
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    outcome = json.loads(done.stdout)
    assert outcome["replies"] == [[False, None], [True, "y = 2\n"]]
    assert outcome["raised"].startswith("black cannot format the generated code")


def test_the_helper_ends_when_the_command_ends_without_stopping_it(tmp_path: Path, state_cache: Path) -> None:
    # The command's output ends when the command does (the helper holds none of its streams),
    # and the helper, left running, ends on its own once the compiler's end of its pipe closes.
    (tmp_path / "flow.py").write_text(WORKFLOW.format(note="left running"))
    helper = command("leave", tmp_path)["helper"]
    assert isinstance(helper, int)
    try:
        handle = os.pidfd_open(helper)
    except ProcessLookupError:
        return  # already gone
    try:
        readable, _, _ = select.select([handle], [], [], 120)  # readable once the process has ended
    finally:
        os.close(handle)
    assert readable, f"the helper {helper} still runs two minutes after its command ended"


def test_the_helper_ends_at_once_when_the_command_is_killed(tmp_path: Path) -> None:
    # A black whose import never ends: the helper still importing it when the command is
    # killed ends with it (the kernel ends it), instead of running on, holding what it was given.
    stuck = tmp_path / "stuck" / "black"
    stuck.mkdir(parents=True)
    (stuck / "__init__.py").write_text("import threading\nthreading.Event().wait()\n")
    script = (
        "import os, signal\nfrom kailash import black_helper\nblack_helper.start()\n"
        "print(black_helper.running(), flush=True)\nos.kill(os.getpid(), signal.SIGKILL)\n"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(stuck.parent), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == -9, done.stderr
    helper = int(done.stdout)
    try:
        handle = os.pidfd_open(helper)
    except ProcessLookupError:
        return  # already gone
    try:
        readable, _, _ = select.select([handle], [], [], 60)
    finally:
        os.close(handle)
        if not readable:
            os.kill(helper, 9)
    assert readable, "the helper outlived the killed command"
