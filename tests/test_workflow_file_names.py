"""Names the workflow file defines, and inputs the workflow declares, as a user meets them.

A code block that reads a function, class, constant or import of the workflow file gets it
copied into the compiled module (with what it reads in turn), or the compile is refused
naming the definition and its line: it never becomes a required workflow input.
``builder.add_input(name, default=...)`` declares an input, which ``--strict`` accepts and
the module's docstring and ``--help`` list; ``--strict`` reports every error at once.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from kailash.errors import WorkflowError
from kailash.runtime import AsyncLocalRuntime
from kailash.sources import load_workflows
from kailash.workflow import AsyncWorkflowBuilder

from .conftest import run_cli, run_generated
from .test_cli import assert_refused, write

HELPERS = """
import math
from functools import lru_cache

from kailash.workflow import AsyncWorkflowBuilder

TAX_RATE = 0.2
PRICES = {"widget": 2.5, "gadget": 10.0}


@lru_cache(maxsize=None)
def unit_price(sku):
    return PRICES[sku]


def priced(line):
    return round(unit_price(line["sku"]) * line["qty"] * (1 + TAX_RATE), 2)


class Receipt:
    currency = "EUR"

    def __init__(self, total):
        self.total = math.ceil(total)

    def as_dict(self):
        return {"total": self.total, "currency": self.currency}


builder = AsyncWorkflowBuilder("receipts")
builder.add_input("order")
builder.add_async_code("price", "result = {'total': sum(priced(line) for line in order)}")
builder.add_async_code("receipt", "result = Receipt(total).as_dict()")
builder.add_connection("price", "total", "receipt", "total")
"""


def compile_ok(source: Path, out: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    result = run_cli(str(source), "-o", str(out), *extra, cwd=source.parent)
    assert result.returncode == 0, result.stderr
    return result


def test_functions_classes_constants_and_imports_of_the_file_are_copied_and_run(tmp_path: Path) -> None:
    source = write(tmp_path / "flows.py", HELPERS)
    compile_ok(source, tmp_path / "out", "--strict", "--emit-ir")
    module = (tmp_path / "out" / "receipts.py").read_text()
    for copied in ("TAX_RATE = 0.2", "def unit_price(sku):", "@lru_cache(maxsize=None)", "class Receipt:"):
        assert copied in module
    assert "from functools import lru_cache" in module and "import math" in module
    assert "# copied from the workflow file, flows.py:11" in module  # the line of `def unit_price`
    assert "AsyncWorkflowBuilder" not in module
    docstring = module.split('"""')[1]
    assert (
        "Inputs:\n    order (used by price; required)\nResources" in docstring
    )  # the one real input; no helper is one
    # The module runs where the compiler is not installed, and gives what the file's helpers give.
    done = run_generated(tmp_path / "out" / "receipts.py", "--inputs", '{"order": [{"sku": "widget", "qty": 3}]}')
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["results"]["receipt"] == {"total": 9, "currency": "EUR"}
    # The IR carries the copies: compiled from it elsewhere, the module is the same bytes.
    again = run_cli(str(tmp_path / "out" / "receipts.ir.json"), "-o", str(tmp_path / "again"), cwd=ROOT_ELSEWHERE)
    assert again.returncode == 0, again.stderr
    assert (tmp_path / "again" / "receipts.py").read_text() == module


ROOT_ELSEWHERE = Path("/")


def test_the_in_process_runtime_runs_the_copies(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    source = write(tmp_path / "flows.py", HELPERS)
    monkeypatch.chdir(tmp_path)
    (found,) = load_workflows(str(source))
    result = asyncio.run(
        AsyncLocalRuntime().execute_workflow_async(found.workflow, {"order": [{"sku": "gadget", "qty": 1}]})
    )
    assert result["errors"] == {} and result["results"]["receipt"] == {"total": 12, "currency": "EUR"}


REFUSED = """
from kailash.workflow import AsyncWorkflowBuilder

LIMIT = 1
LIMIT = 2
SEEN = []
SEEN.append("x")
API_TOKEN = "tok-4f4f4f4f4f4f"

builder = AsyncWorkflowBuilder("refused")
first = builder.add_async_code("first", "result = {'v': 1}")
builder.add_async_code("second", "result = [first, LIMIT, SEEN, API_TOKEN, missing]")
"""


def test_what_cannot_be_copied_is_refused_naming_each_definition_and_its_line(tmp_path: Path) -> None:
    source = write(tmp_path / "flows.py", REFUSED)
    result = run_cli(str(source), "-o", "out", cwd=tmp_path)
    assert_refused(
        result,
        "4 errors in the workflow:",
        "flows.py:11: node 'second': the code reads 'first', which the workflow file assigns at flows.py:10,"
        " but that cannot be copied",
        "it comes from the kailash compiler package",
        "the code reads 'LIMIT', which the workflow file assigns at flows.py:3",
        "binds it 2 times at its top level (lines 3, 4)",
        "the code reads 'SEEN', which the workflow file assigns at flows.py:5",
        "changes it after its definition (line 6)",
        "the code reads 'API_TOKEN', which the workflow file assigns at flows.py:7",
        "is a secret",
        "builder.add_input('first')",
    )
    assert "tok-4f4f4f4f4f4f" not in result.stderr
    assert "reads 'missing'" not in result.stderr  # not --strict: a name nothing binds is still an input
    assert not (tmp_path / "out").exists()


def test_a_copied_name_that_clashes_with_the_module_is_refused(tmp_path: Path) -> None:
    source = write(
        tmp_path / "flows.py",
        """
        from kailash.workflow import AsyncWorkflowBuilder

        def run():
            return 1

        builder = AsyncWorkflowBuilder("clash")
        builder.add_async_code("a", "result = run()")
        """,
    )
    assert_refused(
        run_cli(str(source), "-o", "out", cwd=tmp_path),
        "flows.py:3: the workflow file's 'run' (flows.py:3), which a code block reads, would be copied",
        "the module's run()",
    )


DECLARED = """
from kailash.workflow import AsyncWorkflowBuilder

builder = AsyncWorkflowBuilder("convert")
builder.add_input("amount", description="the amount to convert")
builder.add_input("currency", default="EUR")
builder.add_input("rates", default={"EUR": 1.0, "USD": 1.25})
builder.add_async_code("convert", "result = {'value': amount * rates[currency], 'currency': currency}")
"""


def test_declared_inputs_compile_under_strict_are_listed_and_take_their_defaults(tmp_path: Path) -> None:
    source = write(tmp_path / "flows.py", DECLARED)
    compile_ok(source, tmp_path / "out", "--strict")
    module = tmp_path / "out" / "convert.py"
    shown = run_generated(module, "--help")
    assert shown.returncode == 0
    assert "    amount (used by convert; required): the amount to convert" in shown.stdout
    assert '    currency (used by convert; default "EUR")' in shown.stdout
    assert '    rates (used by convert; default {"EUR": 1.0, "USD": 1.25})' in shown.stdout
    done = run_generated(module, "--inputs", '{"amount": 4}')
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["results"]["convert"] == {"value": 4.0, "currency": "EUR"}
    other = run_generated(module, "--inputs", '{"amount": 4, "currency": "USD"}')
    assert json.loads(other.stdout)["results"]["convert"] == {"value": 5.0, "currency": "USD"}
    missing = run_generated(module, "--inputs", "{}")
    assert missing.returncode == 2 and "needs input 'amount'" in missing.stderr
    assert "currency" not in missing.stderr and "Traceback" not in missing.stderr


def test_a_default_is_fresh_in_every_run(tmp_path: Path) -> None:
    builder = AsyncWorkflowBuilder("fresh")
    builder.add_input("seen", default=[])
    builder.add_async_code("a", "seen.append(1)\nresult = len(seen)")
    runtime = AsyncLocalRuntime()
    workflow = builder.build()
    for _ in range(2):
        assert asyncio.run(runtime.execute_workflow_async(workflow, {}))["results"]["a"] == 1


STRICT = """
from kailash.workflow import AsyncWorkflowBuilder

builder = AsyncWorkflowBuilder("many")
builder.add_input("unused")
builder.add_async_code("a", "result = alpha + beta")
builder.add_async_code("b", "result = gamma")
"""


def test_strict_reports_every_error_at_once(tmp_path: Path) -> None:
    source = write(tmp_path / "flows.py", STRICT)
    lenient = run_cli(str(source), "-o", "out", cwd=tmp_path)
    assert lenient.returncode == 0, lenient.stderr
    assert "warning: flows.py:4: input 'unused' is declared, but no code block reads it" in lenient.stderr
    result = run_cli(str(source), "-o", "out2", "--strict", cwd=tmp_path)
    assert_refused(
        result,
        "4 errors in the workflow:",
        "flows.py:5: node 'a': name 'alpha' is not bound",
        "flows.py:5: node 'a': name 'beta' is not bound",
        "flows.py:6: node 'b': name 'gamma' is not bound",
        "flows.py:4: input 'unused' is declared, but no code block reads it",
    )
    assert not (tmp_path / "out2").exists()


@pytest.mark.parametrize(
    ("call", "message"),
    [
        ('add_input("not valid")', "input name 'not valid' is not a Python identifier"),
        ('add_input("x"); b.add_input("x")', "input 'x' is already declared at"),
        ('add_input("x", default=object())', "the default of input 'x' is a value of type object"),
        ('add_input("api_token", default="tok-123456789")', "the default of input 'api_token' is a secret"),
    ],
)
def test_add_input_refuses_what_a_module_cannot_hold(tmp_path: Path, call: str, message: str) -> None:
    source = write(
        tmp_path / "flows.py",
        f"from kailash.workflow import AsyncWorkflowBuilder\nb = AsyncWorkflowBuilder('w')\nb.{call}\n",
    )
    result = run_cli(str(source), "-o", "out", cwd=tmp_path)
    assert result.returncode == 2 and message in result.stderr and "flows.py:3" in result.stderr, result.stderr
    assert "tok-123456789" not in result.stderr


def test_a_declared_input_wins_over_a_definition_of_the_same_name(tmp_path: Path) -> None:
    builder = AsyncWorkflowBuilder("wins")
    builder.add_input("HELPERS")  # this test file defines HELPERS at its top level
    builder.add_async_code("a", "result = HELPERS")
    result = asyncio.run(AsyncLocalRuntime().execute_workflow_async(builder.build(), {"HELPERS": 7}))
    assert result["results"]["a"] == 7


def test_a_name_this_file_defines_is_refused_in_process_too() -> None:
    builder = AsyncWorkflowBuilder("in_process")
    builder.add_async_code("a", "result = compile_ok")
    with pytest.raises(WorkflowError, match=r"the code reads 'compile_ok', which the workflow file defines as a"):
        asyncio.run(AsyncLocalRuntime().execute_workflow_async(builder.build(), {}))


def test_before_this_a_helper_became_a_required_input_now_the_module_runs(tmp_path: Path) -> None:
    """The behaviour the change replaces: ``double`` used to be listed as an input of the module."""
    source = write(
        tmp_path / "flows.py",
        """
        from kailash.workflow import AsyncWorkflowBuilder

        def double(x):
            return x * 2

        builder = AsyncWorkflowBuilder("doubling")
        builder.add_async_code("a", "result = double(21)")
        """,
    )
    compile_ok(source, tmp_path / "out")
    module = tmp_path / "out" / "doubling.py"
    assert "Inputs: none" in module.read_text()
    done = subprocess.run(
        [sys.executable, str(module)], capture_output=True, text=True, check=False, env={**os.environ}
    )
    assert done.returncode == 0 and json.loads(done.stdout)["results"]["a"] == 42
