"""The rules every generated asyncio module keeps, whatever templates produced it.

1. It imports only the standard library, ``kailash_rt`` and the modules the workflow
   declares: the well-known and client modules its code uses without importing them, the
   modules of its retry exceptions, and what its code blocks and resource factories import.
2. Each node's function, and each function a node defines for its stages or operations, is
   bound exactly once, by a statement at the top of the module, under its planned name, in
   the node's own chunk: an ``async def`` for a node that runs code, a ``def`` or ``async def``
   (the map's item function) for a parallel map, and a definition or assignment of any kind
   for a pattern stage made by an expression (``lookup = rt.cache_check(...)``).
3. ``run()`` registers every node exactly once, with its function:
   ``r.node("<node id>", <function>, ...)`` in its ``async with rt.Run(...) as r:`` block.
4. Nothing rebinds a name the runtime or another node uses: ``rt`` (the one
   ``import kailash_rt as rt``), ``run`` and ``RESOURCES`` (each bound exactly once), the
   header's imports, and each node's functions and helpers are bound only in the chunk that
   owns them, and no two chunks bind one name at module level.

What each chunk binds, imports and registers is read with the standard library's ``ast``
(read_facts.py) and cached by the chunk's text (chunk_facts.py); here those facts are only
compared with the plan, which is cheap, so a warm compile stays fast. A broken rule is a
GeneratedModuleError that names the template and shows the generated line.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ... import codeblock
from ...analysis.analyse import definition_bindings
from ...analysis.namespace import import_bindings
from ...analysis.plan import ModulePlan, Shape
from ...compile_state import ModuleState
from ...errors import CompilerBug, GeneratedModuleError, WorkflowError
from ...python_names import STDLIB_MODULES
from ...source_text import split_lines
from ..templating import Templates
from . import render
from .chunk_facts import chunk_facts
from .facts import REBINDING, REGISTRATION, Binding, ChunkFacts, TooDeep

IMPORTS = "it imports only the standard library, kailash_rt and the modules the workflow declares"
NODE_FUNCTIONS = "each node's function is defined exactly once, at the top of the module, under its planned name"
REGISTRATIONS = "run() registers every node exactly once, with its function"
MODULE_NAMES = "nothing rebinds a name the runtime or another node uses"
_RULES = {REGISTRATION: REGISTRATIONS, REBINDING: MODULE_NAMES}

_ASYNC = frozenset({"async def"})
_FUNCTION = frozenset({"async def", "def"})
_BOUND = frozenset({"async def", "def", "assignment"})
# How each shape of node binds its function in an asyncio module: code runs in an `async def`; a
# map's (and scatter-gather's) item function is the user's, sync or async; a node whose callable
# a pattern makes (a stage, a parallel fetch, a scatter) is bound by an assignment, or by a
# definition if a template wraps it in one.
NODE_FORMS: dict[Shape, frozenset[str]] = {
    Shape.PLAIN: _ASYNC,
    Shape.DECORATED: _ASYNC,
    Shape.RESOURCE: _ASYNC,
    Shape.MAPPED: _FUNCTION,
    Shape.FANNED_OUT: _BOUND,
    Shape.ASSIGNED: _BOUND,
    Shape.OPERATIONS: _BOUND,
}
# How the other functions a node defines are bound: parallel fetch's operations, scatter-gather's item function.
FUNCTION_FORMS: dict[Shape, frozenset[str]] = {Shape.OPERATIONS: _ASYNC, Shape.FANNED_OUT: _FUNCTION}
_FORM_NAMES = {
    _ASYNC: "an `async def`",
    _FUNCTION: "a function (`def` or `async def`)",
    _BOUND: "a function or an assignment",
    frozenset({"import"}): "an import",
    frozenset({"assignment"}): "an assignment",
}
_BINDING_FORMS = {
    "async def": "an `async def`",
    "def": "a `def`",
    "class": "a class",
    "import": "an import",
    "assignment": "an assignment",
}

HEADER_TEMPLATE = "header.py.j2"
RESOURCES_TEMPLATE = "resources.py.j2"
RUN_TEMPLATE = "run.py.j2"
RUN_CALL_TEMPLATE = "run_call.py.j2"


def validate_module(
    plan: ModulePlan,
    chunks: Sequence[str],
    *,
    jobs: int = 1,
    templates: Path | None = None,
    state: ModuleState | None = None,
) -> None:
    """Raise GeneratedModuleError for the first rule the formatted chunks (the header, one per
    node in plan order, then run()) break; ``templates``: the user's templates they were rendered
    with, which the message names. ``jobs`` > 1 lets many new chunks be read in that many
    worker processes. ``state``: the facts the last compile of the module read."""
    texts = [chunk.rstrip("\n") + "\n" for chunk in chunks]
    if len(texts) != len(plan.nodes) + 2:
        raise CompilerBug(f"{len(texts)} chunks for a module of {len(plan.nodes)} nodes; expected a header and run()")
    try:
        facts = chunk_facts(texts, jobs=jobs, state=state)
    except TooDeep as exc:
        raise _too_deep(plan, texts, exc.text) from None
    starts = [1]
    for text in texts[:-1]:
        starts.append(starts[-1] + text.count("\n") + 2)  # chunks are two blank lines apart
    violations = _Checker(plan, facts, starts).violations()
    if violations:
        # What is missing is reported after what is there but wrong, which it most likely follows from.
        primary = [violation for violation in violations if not violation.missing] or violations
        raise _error(plan, texts, facts, starts, min(primary), render.templates(templates))


@dataclass(frozen=True, order=True)
class _Violation:
    chunk: int
    line: int  # in the chunk
    rule: str = field(compare=False)
    problem: str = field(compare=False)
    hint: str = field(compare=False)
    node_id: str | None = field(default=None, compare=False)
    missing: bool = field(default=False, compare=False)  # shown at the chunk's anchor line


@dataclass(frozen=True)
class _Owner:
    """What a name of the module is, and which chunk binds it."""

    chunk: int
    description: str
    node_id: str | None = None
    exactly_once: bool = False
    forms: frozenset[str] | None = None
    target: str = ""  # an import: what it must bind


class _Checker:
    def __init__(self, plan: ModulePlan, facts: list[ChunkFacts], starts: list[int]) -> None:
        self.plan = plan
        self.facts = facts
        self.starts = starts
        self.run_chunk = len(facts) - 1
        self.found: list[_Violation] = []

    def violations(self) -> list[_Violation]:
        self._problems()
        self._imports()
        self._names()
        self._registrations()
        return self.found

    def report(
        self,
        chunk: int,
        line: int,
        rule: str,
        problem: str,
        hint: str,
        node_id: str | None = None,
        *,
        missing: bool = False,
    ) -> None:
        if node_id is None and 0 < chunk < self.run_chunk:
            node_id = self.plan.nodes[chunk - 1].node.node_id
        self.found.append(_Violation(chunk, line, rule, problem, hint, node_id, missing))

    def lines(self, chunk: int, lines: Sequence[int]) -> str:
        """Chunk lines as lines of the module."""
        return ", ".join(str(self.starts[chunk] + line - 1) for line in lines)

    def _problems(self) -> None:
        for chunk, facts in enumerate(self.facts):
            for problem in facts.problems:
                self.report(chunk, problem.line, _RULES[problem.rule], problem.message, problem.hint)

    def _imports(self) -> None:
        declared = declared_modules(self.plan)
        for chunk, facts in enumerate(self.facts):
            for found in facts.imports:
                package = _package(found.module)
                if package in STDLIB_MODULES or package == "kailash_rt" or package in declared:
                    continue
                self.report(
                    chunk,
                    found.line,
                    IMPORTS,
                    f"it imports {found.module!r}, which is neither the standard library nor kailash_rt,"
                    " nor a module the workflow declares",
                    "a module needs nothing installed beside kailash-rt but what the workflow's code imports or uses"
                    f" (here: {', '.join(sorted(declared)) or 'nothing'})",
                )

    def _names(self) -> None:
        owners = module_owners(self.plan)
        bound: dict[str, list[tuple[int, Binding]]] = {}
        for chunk, facts in enumerate(self.facts):
            for binding in facts.bindings:
                bound.setdefault(binding.name, []).append((chunk, binding))
        for name, found in bound.items():
            owner = owners.get(name)
            if owner is None:
                self._unowned(name, found)
                continue
            for chunk, binding in found:
                if chunk != owner.chunk:
                    self.report(
                        chunk,
                        binding.line,
                        MODULE_NAMES,
                        f"it binds {name!r}, {owner.description}",
                        "code a template adds must not bind the names of the runtime, the header or another node",
                    )
        for name, owner in owners.items():
            if owner.exactly_once:
                self._once(name, owner, [binding for chunk, binding in bound.get(name, []) if chunk == owner.chunk])

    def _unowned(self, name: str, found: list[tuple[int, Binding]]) -> None:
        """A name no plan owns may be bound at module level by one chunk only (a code block's own
        ``global`` names are the analysis's business)."""
        module_level = [(chunk, binding) for chunk, binding in found if not binding.via_global]
        if len({chunk for chunk, _ in module_level}) < 2:
            return
        first_chunk, first = module_level[0]
        for chunk, binding in module_level:
            if chunk != first_chunk:
                self.report(
                    chunk,
                    binding.line,
                    MODULE_NAMES,
                    f"it binds {name!r} at module level, and so does {self._chunk_name(first_chunk)}"
                    f" (line {self.lines(first_chunk, [first.line])})",
                    "give the names a template adds at module level something unique to the node, such as its"
                    " function's name",
                )

    def _once(self, name: str, owner: _Owner, own: list[Binding]) -> None:
        rule = NODE_FUNCTIONS if owner.node_id is not None else MODULE_NAMES
        shape = _FORM_NAMES.get(owner.forms, "bound") if owner.forms else "bound"
        what = f"{name!r}, {owner.description},"
        hint = f"{name!r} must be {shape}, bound once by a statement at the top of the module"
        if not own:
            anchor = self.facts[owner.chunk].anchor
            problem = f"{what} is missing: nothing at the top of the module binds it"
            self.report(owner.chunk, anchor, rule, problem, hint, owner.node_id, missing=True)
            return
        if len(own) > 1:
            lines = self.lines(owner.chunk, [binding.line for binding in own])
            problem = f"{what} is bound {len(own)} times (lines {lines})"
            self.report(owner.chunk, own[1].line, rule, problem, hint, owner.node_id)
        binding = own[0]
        if binding.via_global or not binding.top:
            how = "by an assignment under `global` inside a function" if binding.via_global else "inside a block"
            problem = f"{what} is bound {how}, not by a statement at the top of the module"
            self.report(owner.chunk, binding.line, rule, problem, hint, owner.node_id)
        elif owner.forms is not None and binding.form not in owner.forms:
            problem = f"{what} must be {shape}, but here it is {_BINDING_FORMS.get(binding.form, binding.form)}"
            self.report(owner.chunk, binding.line, rule, problem, hint, owner.node_id)
        elif owner.target and binding.target != owner.target:
            problem = f"{what} must import {owner.target!r}, but here it imports {binding.target or 'something else'!r}"
            self.report(owner.chunk, binding.line, rule, problem, hint, owner.node_id)

    def _registrations(self) -> None:
        facts = self.facts[self.run_chunk]
        node_ids = {node_plan.node.node_id for node_plan in self.plan.nodes}
        hint = "run() registers each node once, in its runner block: `r.node(<node id>, <the node's function>, ...)`"
        calls: dict[str, list[int]] = {}
        for call in facts.registrations:
            if call.node_id is None:
                problem = f"`{call.receiver}.node(...)` is given a node id that is not a string literal"
                self.report(self.run_chunk, call.line, REGISTRATIONS, problem, hint)
            elif call.node_id not in node_ids:
                problem = f"run() registers {call.node_id!r}, which is not a node of the workflow"
                self.report(self.run_chunk, call.line, REGISTRATIONS, problem, hint)
            else:
                calls.setdefault(call.node_id, []).append(call.line)
                ident = self.plan.plan(call.node_id).ident
                if call.function != ident:
                    given = f"`{call.function}`" if call.function is not None else "something else"
                    problem = f"run() registers node {call.node_id!r} with {given}, not with its function `{ident}`"
                    self.report(self.run_chunk, call.line, REGISTRATIONS, problem, hint, call.node_id)
        for node_id in self.plan.order:
            lines = calls.get(node_id, [])
            if not lines:
                problem = f"run() does not register node {node_id!r}"
                self.report(self.run_chunk, facts.anchor, REGISTRATIONS, problem, hint, node_id, missing=True)
            elif len(lines) > 1:
                problem = (
                    f"run() registers node {node_id!r} {len(lines)} times (lines {self.lines(self.run_chunk, lines)})"
                )
                self.report(self.run_chunk, lines[1], REGISTRATIONS, problem, hint, node_id)

    def _chunk_name(self, chunk: int) -> str:
        if chunk == 0:
            return "the module header"
        if chunk == self.run_chunk:
            return "run()"
        return f"the code of node {self.plan.nodes[chunk - 1].node.node_id!r}"


def module_owners(plan: ModulePlan) -> dict[str, _Owner]:
    """The names of the module the plan gives an owner, each with its chunk and what it must be."""
    owners = {
        "Any": _Owner(0, "which the module header imports from typing"),
        "Mapping": _Owner(0, "which the module header imports from collections.abc"),
    }
    resources = plan.resources
    for line in [*(f"import {module}" for module in plan.modules), *plan.imports, *resources.imports]:
        for name, _ in import_bindings(line):
            owners.setdefault(name, _Owner(0, f"which `{line}` in the module header binds"))
    for name in resources.bindings:
        owners.setdefault(name, _Owner(0, "a name of the module's resource declarations"))
    for definition in plan.definitions:
        for name in definition_bindings(definition):
            owners[name] = _Owner(0, f"copied from the workflow file ({definition.location})", exactly_once=True)
    owners["rt"] = _Owner(
        0,
        "the runtime (`import kailash_rt as rt`)",
        exactly_once=True,
        forms=frozenset({"import"}),
        target="kailash_rt",
    )
    owners["RESOURCES"] = _Owner(
        0,
        "the module's resource declarations",
        exactly_once=bool(plan.ir.resources),
        forms=frozenset({"assignment"}),
    )
    for chunk, node_plan in enumerate(plan.nodes, start=1):
        node = node_plan.node
        owners[node_plan.ident] = _Owner(
            chunk,
            f"the function of node {node.node_id!r} ({node.kind})",
            node.node_id,
            True,
            NODE_FORMS[node_plan.shape],
        )
        for name in node_plan.functions:
            owners[name] = _Owner(
                chunk,
                f"a function of node {node.node_id!r}",
                node.node_id,
                True,
                FUNCTION_FORMS.get(node_plan.shape, _FUNCTION),
            )
        for name in node_plan.module_names:
            owners[name] = _Owner(chunk, f"a helper of node {node.node_id!r}", node.node_id)
    owners["run"] = _Owner(len(plan.nodes) + 1, "the module's run()", exactly_once=True, forms=_ASYNC)
    owners["SOURCE_LINES"] = _Owner(
        len(plan.nodes) + 1, "the workflow file's lines of the module's node code", forms=frozenset({"assignment"})
    )
    return owners


def declared_modules(plan: ModulePlan) -> set[str]:
    """The packages (and relative modules) the workflow declares, besides the standard library and kailash_rt."""
    resources = plan.resources
    lines = [*(f"import {module}" for module in plan.modules), *plan.imports, *resources.imports]
    modules = {_package(module) for line in lines for module in _imported_modules(ast.parse(line))}
    for code in _code(plan):
        if "import" in code:
            tree = ast.parse(codeblock.as_function(code))
            modules.update(_package(module) for module in _imported_modules(tree))
    return modules - {"kailash_rt"} - STDLIB_MODULES


def _code(plan: ModulePlan) -> Iterator[str]:
    """The workflow's own code the module holds: node code, map functions and their helpers,
    parallel fetch's operations, the factory classes of resources."""
    for node_plan in plan.nodes:
        yield from (text for text in (node_plan.code, node_plan.function, node_plan.preamble) if text)
        yield from (operation.code for operation in node_plan.operations)
    yield from plan.resources.classes
    yield from (definition.source for definition in plan.definitions)


def _imported_modules(tree: ast.AST) -> Iterator[str]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            yield "." * node.level + (node.module or "")


def _package(module: str) -> str:
    """What must be installed for ``import module``: its top-level package (a relative import as written)."""
    return module if module.startswith(".") else module.split(".")[0]


# -- the message -------------------------------------------------------------------------------
def _too_deep(plan: ModulePlan, texts: list[str], unit: str) -> Exception:
    """The node whose code nests too deeply for Python's parser, or a compiler bug when that is not a node's."""
    for node_plan, text in zip(plan.nodes, texts[1:-1], strict=True):
        if text == unit:
            version = "{}.{}".format(*sys.version_info[:2])
            return WorkflowError(
                f"its code nests too deeply for Python {version} to parse as part of the compiled module"
                " (which is parsed to check the rules every compiled module keeps)",
                location=node_plan.node.location,
                node_id=node_plan.node.node_id,
                hint="split the deeply nested expression (a long chain of operators, say) into several statements,"
                " or nest fewer blocks",
            )
    return CompilerBug(f"the generated code nests too deeply for Python's parser:\n{unit}")


def _error(
    plan: ModulePlan,
    texts: list[str],
    facts: list[ChunkFacts],
    starts: list[int],
    violation: _Violation,
    chosen: Templates,
) -> GeneratedModuleError:
    line_text = split_lines(texts[violation.chunk])[violation.line - 1]
    names = _template_names(plan, facts, violation)
    users = [part for part in map(chosen.users_part, names) if part is not None]
    template = " or ".join(users or names)
    if users:
        hint = f"change {template}: {violation.hint}"
    else:
        hint = (
            f"the line comes from kailash-compile's own {'templates' if len(names) > 1 else 'template'}"
            f" {template}: that is a bug in kailash-compile; please report it with the workflow"
        )
    node_id = violation.node_id
    location = plan.plan(node_id).node.location if node_id is not None else plan.ir.location
    return GeneratedModuleError(
        violation.rule,
        violation.problem,
        module_file=f"{plan.module_name}.py",
        line=starts[violation.chunk] + violation.line - 1,
        text=line_text,
        template=template,
        location=location,
        node_id=node_id,
        hint=hint,
    )


def _template_names(plan: ModulePlan, facts: list[ChunkFacts], violation: _Violation) -> list[str]:
    """The templates the generated line may come from (the header holds the resource declarations)."""
    if violation.chunk == 0:
        return [HEADER_TEMPLATE, RESOURCES_TEMPLATE] if plan.resources.declarations else [HEADER_TEMPLATE]
    if violation.chunk <= len(plan.nodes):
        return [render.TEMPLATES[plan.nodes[violation.chunk - 1].shape]]
    first, last = facts[violation.chunk].body
    return [RUN_CALL_TEMPLATE if first <= violation.line <= last else RUN_TEMPLATE]
