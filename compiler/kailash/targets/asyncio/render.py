"""Rendering for the asyncio target: the plan becomes source chunks through Jinja templates.

The module is a list of chunks, each one or more top-level statements: the header
(docstring, imports, resources), one chunk per node, and ``run()``. Chunks are formatted
one by one (see formatting.py) and joined with two blank lines, as black would.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2

from ...analysis.plan import ModulePlan, NodePlan, Param
from ...codegen.formatting import BlockChunk
from ...ir import NodeIR, RetryIR
from ...python_names import STDLIB_MODULES
from ...syntax_version import OLDEST, required_version
from ..templating import Templates, template_loader, user_directory
from .literals import comment_text, docstring_text, py_literal, py_string

_TEMPLATE_SET = "asyncio"
LINE_LENGTH = 88


def template_dirs() -> list[Path]:
    """Templates ship inside the wheel (kailash/templates); in a checkout they are in templates/."""
    here = Path(__file__).resolve().parent
    candidates = [here.parents[1] / "templates" / _TEMPLATE_SET, here.parents[3] / "templates" / _TEMPLATE_SET]
    return [path for path in candidates if path.is_dir()]


def templates(user: Path | None = None) -> Templates:
    """The asyncio templates, with ``user`` (a directory of the user's templates) before the shipped ones."""
    return _templates(user_directory(user))


@lru_cache(maxsize=16)
def _templates(user: Path | None) -> Templates:
    return Templates(environment(user), tuple(template_dirs()), user)


@lru_cache(maxsize=16)
def environment(user: Path | None = None) -> jinja2.Environment:
    """One environment per templates directory (``user`` absolute; None: only the shipped templates)."""
    env = jinja2.Environment(
        loader=template_loader(template_dirs(), user),
        autoescape=False,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
        # A user's templates may be edited while a process compiles; the shipped ones are not,
        # and not checking their files saves a stat() per node.
        auto_reload=user is not None,
    )
    env.filters["py"] = py_literal
    env.filters["pystr"] = py_string
    env.filters["comment"] = comment_text
    env.filters["docstring"] = docstring_text
    return env


def render_chunks(plan: ModulePlan, source_name: str, user_templates: Path | None = None) -> list[str | BlockChunk]:
    """The module's chunks; ``user_templates`` is a directory whose templates replace the shipped ones of their name."""
    chosen = templates(user_templates)
    nodes = [
        chosen.render(
            node_plan.template,
            {"node": _node_context(node_plan), **node_plan.context},
            what=f"node {node_plan.node.node_id!r}",
        )
        for node_plan in plan.nodes
    ]
    python = max((required_version(text) for text in [plan.resources.source, *nodes]), default=OLDEST)
    return [render_header(plan, source_name, python, chosen), *nodes, render_run(plan, chosen)]


def render_header(
    plan: ModulePlan, source_name: str, python: tuple[int, int] = OLDEST, chosen: Templates | None = None
) -> str:
    ir = plan.ir
    resources = plan.resources
    inputs: dict[str, list[str]] = {}
    for node_plan in plan.nodes:
        for name in node_plan.inputs:
            inputs.setdefault(name, []).append(node_plan.node.node_id)
    stdlib = {"from collections.abc import Mapping", "from typing import Any"}
    third_party = {"import kailash_rt as rt"}
    for line in [*(f"import {m}" for m in plan.modules), *plan.imports, *resources.imports]:
        (stdlib if _is_stdlib_import(line) else third_party).add(line)
    context = {
        "name": ir.name,
        "description": ir.description,
        "source": source_name,
        "inputs": inputs,
        "resources": resources,
        "python": None if python == OLDEST else "{}.{}".format(*python),
        "stdlib_imports": _sorted_imports(stdlib),
        "third_party_imports": _sorted_imports(third_party),
        "requires": _installed_modules(third_party),
    }
    return (chosen or templates()).render("header.py.j2", context, what="the module header")


def render_run(plan: ModulePlan, chosen: Templates | None = None) -> BlockChunk:
    """``run()``: its one ``pass`` line stands for the node registrations, formatted in groups."""
    chosen = chosen or templates()
    calls = []
    for node_id in plan.order:
        node_plan = plan.plan(node_id)
        call = {
            "handle": plan.handles.get(node_id),
            "node_id": py_string(node_id),
            "ident": node_plan.ident,
            "args": [(p.name, _argument(p, plan)) for p in node_plan.params],
        }
        what = f"the registration of node {node_id!r}"
        line = chosen.render("run_call.py.j2", {"call": call, "exploded": False}, what=what)
        if len(line.rstrip("\n")) + 8 > LINE_LENGTH:
            # One argument per line with a trailing comma: black keeps that form as it is,
            # and it diffs one argument at a time.
            line = chosen.render("run_call.py.j2", {"call": call, "exploded": True}, what=what)
        calls.append(line)
    context = {"name": py_string(plan.ir.name), "declared": bool(plan.ir.resources)}
    skeleton = chosen.render("run.py.j2", context, what="run()")
    chosen.require_line("run.py.j2", skeleton, "        pass", "where run() registers the nodes")
    return BlockChunk(skeleton=skeleton, statements=tuple(calls), depth=2)


def _argument(param: Param, plan: ModulePlan) -> str:
    if param.source == "connection":
        assert param.from_node is not None
        handle = plan.handles[param.from_node]
        if param.from_output is None:
            return handle
        if param.from_output == "result":
            return f"{handle}.result"
        return f"{handle}[{py_string(param.from_output)}]"
    if param.source == "input":
        return f"r.input({py_string(param.name)})"
    if param.source == "resource":
        deferred = ", deferred=True" if param.deferred else ""
        return f"r.resource({py_string(param.name)}{deferred})"
    if param.source == "get_resource":
        return "r.get_resource"
    raise AssertionError(f"unknown parameter source {param.source!r}")


def _node_context(node_plan: NodePlan) -> dict[str, Any]:
    node = node_plan.node
    return {
        "id": node.node_id,
        "ident": node_plan.ident,
        "location": str(node.location),
        "description": node.description,
        "policy": policy_decorator(node),
        "params": [p.name for p in node_plan.params],
    }


def policy_decorator(node: NodeIR) -> str | None:
    """``rt.node(...)`` with the node's timeout, concurrency limit, retry and fallback, or None."""
    arguments = []
    if node.timeout is not None:
        arguments.append(f"timeout={py_literal(node.timeout)}")
    if node.max_concurrent_tasks is not None:
        arguments.append(f"max_concurrent_tasks={py_literal(node.max_concurrent_tasks)}")
    if node.retry is not None:
        arguments.append(f"retry={_retry(node.retry)}")
    if node.fallback is not None:
        fallback = node.fallback
        level = "" if fallback.log_level == "warning" else f", log_level={py_string(fallback.log_level)}"
        arguments.append(f"on_error=rt.Fallback({py_literal(fallback.value)}{level})")
    return f"rt.node({', '.join(arguments)})" if arguments else None


def _retry(retry: RetryIR) -> str:
    parts = [f"attempts={retry.attempts}", f"delay={py_literal(retry.delay)}"]
    if retry.backoff != 2.0:
        parts.append(f"backoff={py_literal(retry.backoff)}")
    if retry.max_delay is not None:
        parts.append(f"max_delay={py_literal(retry.max_delay)}")
    if retry.retry_on:
        names = ", ".join(retry.retry_on)
        parts.append(f"retry_on=({names},)" if len(retry.retry_on) == 1 else f"retry_on=({names})")
    return f"rt.Retry({', '.join(parts)})"


def _is_stdlib_import(line: str) -> bool:
    return _imported_package(line) in STDLIB_MODULES


def _imported_package(line: str) -> str:
    return line.split()[1].split(".")[0]


def _installed_modules(third_party: set[str]) -> list[str]:
    """The top-level packages the module imports besides the standard library and kailash_rt:
    what a machine that runs it must have installed."""
    packages = {_imported_package(line) for line in third_party} - {"kailash_rt", ""}
    return sorted(packages, key=str.lower)


def _sorted_imports(lines: set[str]) -> list[str]:
    """isort's order inside a section: ``import x`` lines first, then ``from x import y``, by module."""

    def key(line: str) -> tuple[int, str]:
        return (line.startswith("from "), line.split()[1].lower())

    return sorted(lines, key=key)
