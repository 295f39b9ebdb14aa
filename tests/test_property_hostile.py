"""Property test: random workflows of every node kind, hostile strings in every field a user sets.

For each workflow hypothesis draws (see hostile_workflows.py):

1. Never an internal error. Building and compiling succeeds or raises ``WorkflowError``
   naming the workflow file and line. A refusal of a workflow the test knows to be valid
   is a failure, and so is accepting a code block CPython refuses.
2. When it compiles, the module parses and runs (in process, through the generated
   module, twice), and every node outputs exactly what CPython says its code means (byte
   for byte: types, dict order, floats by repr), with the pattern outputs the guide
   documents; the ``RESOURCES`` block holds every declared setting exactly, secrets as
   environment variables.
3. No secret value (passwords, tokens, keys: by name, or in URLs and DSNs) in any file
   written: the module, everything in the compile cache (file names included, which must
   not be hashes of the secrets either), nor the IR's JSON form; no temporary file left.

Profiles: by default a CI profile (derandomized, so CI never flakes, and under a minute on
a loaded two-core machine); ``KAILASH_PROPERTY_EXAMPLES=10000`` runs that many random
examples. A failure prints the few builder lines that reproduce it.
"""

from __future__ import annotations

import ast
import asyncio
import contextlib
import inspect
import os
import sys
import tempfile
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import kailash_rt as rt
from hypothesis import HealthCheck, given, settings
from hypothesis.configuration import set_hypothesis_home_dir
from kailash.codegen import GeneratedModule, compile_ir
from kailash.errors import WorkflowError
from kailash.runtime import AsyncLocalRuntime
from kailash.runtime.async_local import compiled_module
from kailash.workflow import AsyncWorkflowBuilder, Workflow
from kailash_rt._settings import Env

from .hostile_text import nfkc, same, shown
from .hostile_workflows import ANYTHING, Declared, Program, programs

EXAMPLES_VARIABLE = "KAILASH_PROPERTY_EXAMPLES"
CI_EXAMPLES = 150
RUN_TIMEOUT = 120.0  # seconds; only bounds a hang
# Hypothesis keeps a record of every example of a run (here about 150 KB each): a long profile runs
# in chunks of this many examples, so that 10,000 examples do not hold gigabytes.
CHUNK_EXAMPLES = 500

settings.register_profile(
    "kailash-property-ci",
    max_examples=CI_EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)
settings.register_profile(
    "kailash-property-long",
    parent=settings.get_profile("kailash-property-ci"),
    max_examples=int(os.environ.get(EXAMPLES_VARIABLE) or CI_EXAMPLES),
    derandomize=False,
)
# Hypothesis writes a patch of failing examples under its home directory: keep it out of the checkout.
set_hypothesis_home_dir(Path(tempfile.gettempdir()) / "kailash-property-hypothesis")
PROFILE = settings.get_profile("kailash-property-long" if os.environ.get(EXAMPLES_VARIABLE) else "kailash-property-ci")
WORKFLOW_FILE = "hostile_workflows.py"  # where the builder calls are made: every refusal must point there


# One failure type per kind of defect, so hypothesis reports each kind separately.
class Finding(AssertionError):
    """A defect the property test found."""


class SecretWritten(Finding):
    """A secret value is in the generated module or a file of the compile cache."""


class Miscompile(Finding):
    """The compiled module fails to load or run, or a node's output is not what its code means."""


class InvalidCodeAccepted(Finding):
    """A code block CPython refuses was compiled."""


class SecretHashWritten(Finding):
    """A file name is a hash of text that holds a secret (brute-forceable offline)."""


class SecretInIR(Finding):
    """The IR's JSON form holds a secret value."""


class InternalError(Finding):
    """Building or compiling raised something other than WorkflowError."""


class ValidWorkflowRefused(Finding):
    """A workflow the test knows to be valid was refused."""


class UnclearRefusal(Finding):
    """A WorkflowError that does not name the workflow file and line, or that shows a secret."""


class Nondeterministic(Finding):
    """Compiling the same workflow twice gave different modules."""


class TemporaryFileLeft(Finding):
    """A temporary file was left behind in the compile cache."""


SEVERITY = (
    SecretWritten,
    Miscompile,
    InvalidCodeAccepted,
    SecretHashWritten,
    SecretInIR,
    InternalError,
    ValidWorkflowRefused,
    UnclearRefusal,
    Nondeterministic,
    TemporaryFileLeft,
)

Findings = list[tuple[type[Finding], str]]


def test_hostile_workflows_compile_to_modules_that_do_exactly_what_they_say() -> None:
    remaining = PROFILE.max_examples
    while remaining > 0:
        run_examples(min(remaining, CHUNK_EXAMPLES))
        remaining -= CHUNK_EXAMPLES


def run_examples(count: int) -> None:
    """One hypothesis run of ``count`` examples; a long profile makes several, each with fresh random examples."""

    @settings(PROFILE, max_examples=count)
    @given(program=programs())
    def hostile_workflow_compiles_to_a_module_that_does_exactly_what_it_says(program: Program) -> None:
        findings = examine(program)
        for kind in SEVERITY:
            messages = [message for found, message in findings if found is kind]
            if messages:
                raise kind("\n".join(messages))

    hostile_workflow_compiles_to_a_module_that_does_exactly_what_it_says()


@contextlib.contextmanager
def private_cache() -> Iterator[Path]:
    """A compile cache of this example's own: everything in it was written for this workflow."""
    before = os.environ.get("KAILASH_COMPILE_CACHE")
    with tempfile.TemporaryDirectory(prefix="kailash-property-") as directory:
        os.environ["KAILASH_COMPILE_CACHE"] = directory
        try:
            yield Path(directory)
        finally:
            if before is None:
                del os.environ["KAILASH_COMPILE_CACHE"]
            else:
                os.environ["KAILASH_COMPILE_CACHE"] = before


# What the compiler and the in-process runtime keep in memory per process: formatted chunks,
# loaded modules, resource specs. A chunk or module found there is not written to disk again.
_PROCESS_CACHES = (
    ("kailash.codegen.formatting", "_memory"),
    ("kailash.runtime.async_local", "_compiled"),
    ("kailash.resources.specs", "_DECLARED"),
    ("kailash.resources.specs", "_SECRETS"),
)
GENERATED_MODULE_PREFIX = "_kailash_generated_"


def as_in_a_fresh_process() -> None:
    """Forget what earlier examples compiled, so each example writes (and is checked for) all it
    would write in a fresh process, and hypothesis sees the same outcome when it replays one."""
    for module_name, attribute in _PROCESS_CACHES:
        clear = getattr(getattr(sys.modules.get(module_name), attribute, None), "clear", None)
        if callable(clear):
            clear()
    for name in [name for name in sys.modules if name.startswith(GENERATED_MODULE_PREFIX)]:
        del sys.modules[name]


def examine(program: Program) -> Findings:
    """Every defect this program shows: build, compile, run twice, then look at every file written."""
    findings: Findings = []
    as_in_a_fresh_process()
    with private_cache() as cache:
        workflow, generated, refusal = compile_program(program, findings)
        if generated is not None and workflow is not None:
            run_program(program, workflow, generated, findings)
        look_for_secrets(program, cache, workflow, generated, refusal, findings)
    return findings


def compile_program(
    program: Program, findings: Findings
) -> tuple[Workflow | None, GeneratedModule | None, WorkflowError | None]:
    workflow = None
    try:
        workflow = program.build().build()
        generated = compile_ir(workflow.ir)
    except WorkflowError as refusal:
        check_refusal(program, refusal, findings)
        return workflow, None, refusal
    except Exception as exc:
        findings.append((InternalError, f"{type(exc).__name__}: {exc} ({raised_at(exc)})"[:4000]))
        return workflow, None, None
    if program.must_refuse:
        findings.append((InvalidCodeAccepted, "; ".join(program.must_refuse)))
    return workflow, generated, None


def check_refusal(program: Program, refusal: WorkflowError, findings: Findings) -> None:
    location = refusal.location
    summary = f"{refusal.problem[:1500]} (node {short(refusal.node_id)}"
    if refusal.code_line is not None:
        summary += f", code line {refusal.code_line.number}: {short(refusal.code_line.text)}"
    summary += ")"
    if location is None or not location.file.endswith(WORKFLOW_FILE) or location.line <= 0:
        findings.append((UnclearRefusal, f"the refusal does not point at the builder call ({location}): {summary}"))
    if not program.may_refuse and not program.must_refuse:
        findings.append((ValidWorkflowRefused, summary))


def raised_at(exc: BaseException) -> str:
    """Where in the compiler (or the library it called) an exception was raised."""
    frames = traceback.extract_tb(exc.__traceback__)
    own = [f for f in frames if "/kailash/" in f.filename or "/kailash_rt/" in f.filename] or frames
    return f"raised at {'/'.join(Path(own[-1].filename).parts[-2:])}:{own[-1].lineno} in {own[-1].name}"


def short(value: Any) -> str:
    text = shown(value)
    return text if len(text) <= 80 else text[:60] + f"...({len(text)} characters)"


def run_program(program: Program, workflow: Workflow, generated: GeneratedModule, findings: Findings) -> None:
    try:
        ast.parse(generated.source)
    except SyntaxError as exc:
        findings.append((Miscompile, f"the module does not parse: {exc}"))
        return
    runtime = AsyncLocalRuntime()
    for run in (1, 2):
        try:
            result = asyncio.run(
                asyncio.wait_for(runtime.execute_workflow_async(workflow, program.inputs), RUN_TIMEOUT)
            )
        except Exception as exc:
            findings.append((Miscompile, f"run {run} raised {type(exc).__name__}: {exc} ({raised_at(exc)})"[:4000]))
            return
        check_outputs(program, workflow, result, run, findings)
    loaded = compiled_module(workflow)
    if loaded[0].source != generated.source:
        findings.append((Nondeterministic, "the in-process compile differs from compile_ir's"))
    check_resources(program, loaded[1], findings)


def check_outputs(program: Program, workflow: Workflow, result: Any, run: int, findings: Findings) -> None:
    results, errors = result["results"], result["errors"]
    for node_id in workflow.nodes:
        where = f"run {run}, node {short(node_id)}"
        if (node_id in results) == (node_id in errors):
            findings.append((Miscompile, f"{where}: in both or neither of results and errors"))
            continue
        expectation = program.expectations.get(node_id, ANYTHING)
        if expectation.error is not None:
            if node_id not in errors:
                findings.append((Miscompile, f"{where}: should fail, output {shown(results[node_id])[:2000]}"))
            elif expectation.error and errors[node_id] != expectation.error:
                findings.append((Miscompile, f"{where}: error {errors[node_id]!r}, expected {expectation.error!r}"))
        elif expectation.check is not None:
            if node_id in errors:
                findings.append((Miscompile, f"{where}: failed: {errors[node_id]}"[:4000]))
                continue
            problem = expectation.check(results[node_id], run)
            if problem:
                findings.append((Miscompile, f"{where}: {problem}"))
    unknown = (set(results) | set(errors)) - set(workflow.nodes)
    if unknown:
        findings.append((Miscompile, f"run {run}: outputs of nodes the workflow does not have: {sorted(unknown)!r}"))


def holds_env(value: Any) -> bool:
    if isinstance(value, Env):
        return True
    if isinstance(value, dict):
        return any(holds_env(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return any(holds_env(v) for v in value)
    return False


def check_resources(program: Program, module: Any, findings: Findings) -> None:
    """The module's RESOURCES hold each declared setting exactly; secrets only as ``rt.env(...)``."""
    specs = module.RESOURCES.specs if program.declared else {}
    for declared in program.declared:
        # A name may be normalised (NFKC) as Python normalises identifiers, consistently everywhere.
        spec = specs.get(declared.name, specs.get(nfkc(declared.name)))
        if spec is None:
            findings.append((Miscompile, f"resource {declared.name!r} is not in RESOURCES ({sorted(specs)!r})"))
            continue
        settings_of = dict(spec.settings)
        if declared.kind == "factory" and isinstance(spec, rt._backends.FactorySpec) and spec.args:
            findings.append((Miscompile, f"resource {declared.name!r}: positional arguments {spec.args!r}"))
        findings.extend((Miscompile, problem) for problem in setting_problems(declared, settings_of))


# The settings a with_* call records when not given: the defaults of its signature (the guide's API).
_DEFAULTS = {
    kind: {
        name: parameter.default
        for name, parameter in inspect.signature(method).parameters.items()
        if parameter.default is not inspect.Parameter.empty and name != "name"
    }
    for kind, method in (
        ("postgres", AsyncWorkflowBuilder.with_database),
        ("http", AsyncWorkflowBuilder.with_http_client),
        ("cache", AsyncWorkflowBuilder.with_cache),
    )
}
_MEMORY_CACHE_IGNORES = ("host", "port", "db")  # an in-process cache has no server


def setting_problems(declared: Declared, actual: dict[str, Any]) -> list[str]:
    problems = []
    defaults = dict(_DEFAULTS.get(declared.kind, {}))
    if declared.kind == "http":
        defaults["headers"] = {}  # headers=None is recorded as {}
    if declared.settings.get("backend") == "memory":
        defaults = {k: v for k, v in defaults.items() if k not in _MEMORY_CACHE_IGNORES}
    declared = Declared(declared.name, declared.kind, {**defaults, **declared.settings}, declared.secret_keys)
    for key, value in declared.settings.items():
        where = f"resource {declared.name!r} setting {key!r}"
        if key not in actual:
            problems.append(f"{where} is missing from RESOURCES")
        elif key in declared.secret_keys:
            if not holds_env(actual[key]):
                problems.append(f"{where} holds a secret, yet RESOURCES has it as a literal")
        elif not same(actual[key], value) and not holds_env(actual[key]):
            problems.append(f"{where}: RESOURCES has {shown(actual[key])[:500]}, declared {shown(value)[:500]}")
    for key in set(actual) - set(declared.settings):
        if not holds_env(actual[key]):
            problems.append(f"resource {declared.name!r}: RESOURCES has a setting {key!r} never declared")
    return problems


def look_for_secrets(
    program: Program,
    cache: Path,
    workflow: Workflow | None,
    generated: GeneratedModule | None,
    refusal: WorkflowError | None,
    findings: Findings,
) -> None:
    files = sorted(path for path in cache.rglob("*") if path.is_file())
    contents = {path: path.read_bytes() for path in files}
    for path in files:
        if path.name.endswith(".tmp") or path.name.startswith("tmp"):
            findings.append((TemporaryFileLeft, f"{path.relative_to(cache)}"))
    ir_json = ""
    if workflow is not None:
        try:
            ir_json = workflow.ir.to_json()
        except Exception as exc:
            findings.append((InternalError, f"the IR has no JSON form: {type(exc).__name__}: {exc}"[:4000]))
            workflow = None
    for secret in program.secrets:
        encoded = secret.encode("utf-8")
        if generated is not None and secret in generated.source:
            findings.append((SecretWritten, f"the module text holds the secret {secret!r}"))
        for path, data in contents.items():
            if encoded in data or secret in str(path.relative_to(cache)):
                findings.append((SecretWritten, f"{path.relative_to(cache)} in the compile cache holds {secret!r}"))
        if secret in ir_json:
            findings.append((SecretInIR, f"the IR's JSON holds the secret {secret!r}"))
        if refusal is not None and secret in str(refusal):
            findings.append((UnclearRefusal, f"the refusal shows the secret {secret!r}"))
    if workflow is not None and any(secret in ir_json for secret in program.secrets):
        digest = workflow.ir.content_hash()
        for path in files:
            if digest[:12] in path.name:
                findings.append((SecretHashWritten, f"{path.relative_to(cache)} is named by a hash over the secrets"))
