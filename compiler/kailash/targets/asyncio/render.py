"""Rendering for the asyncio target: the plan becomes source chunks through Jinja templates.

The module is a list of chunks, each one or more top-level statements: the header
(docstring, imports, resources), one chunk per node, and ``run()``. Chunks are formatted
one by one (see formatting.py) and joined with two blank lines, as black would.
"""

from __future__ import annotations

import ast
from collections.abc import Sequence
from functools import lru_cache, partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kailash_rt import __version__ as RUNTIME_VERSION

from ... import codeblock
from ...analysis.plan import ModulePlan, NodePlan, Param, Shape
from ...analysis.resources import ResourceBlock
from ...compile_state import TEXT_FACTS, ModuleState, key_of, remembered
from ...ir import EnvRef, InputIR
from ...python_names import STDLIB_MODULES, is_keyword_argument
from ...style import LINE_LENGTH
from ...syntax_version import OLDEST, required_version
from ..template_cache import bytecode_cache
from ..templating import Templates, template_loader, user_directory
from .literals import comment_text, docstring_text, env_call, py_literal, py_string
from .source_lines import FunctionLines

if TYPE_CHECKING:
    import jinja2

_TEMPLATE_SET = "asyncio"


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
    return Templates(partial(environment, user), tuple(template_dirs()), user)


@lru_cache(maxsize=16)
def environment(user: Path | None = None) -> jinja2.Environment:
    """One environment per templates directory (``user`` absolute; None: only the shipped templates)."""
    import jinja2

    from ...codegen.formatting import cache_dir

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
        bytecode_cache=bytecode_cache(cache_dir()),
    )
    env.filters["py"] = py_literal
    env.filters["pystr"] = py_string
    env.filters["comment"] = comment_text
    env.filters["docstring"] = docstring_text
    env.filters["indent_block"] = codeblock.indent
    return env


# The template of each node shape.
TEMPLATES = {
    Shape.PLAIN: "node_code.py.j2",
    Shape.DECORATED: "node_pattern.py.j2",
    Shape.MAPPED: "node_parallel_map.py.j2",
    Shape.FANNED_OUT: "node_scatter.py.j2",
    Shape.ASSIGNED: "node_assign.py.j2",
    Shape.OPERATIONS: "node_parallel_fetch.py.j2",
    Shape.RESOURCE: "node_resource.py.j2",
}


def render_chunks(
    plan: ModulePlan,
    source_name: str,
    user_templates: Path | None = None,
    *,
    run: bool = True,
    state: ModuleState | None = None,
) -> list[str]:
    """The module as plain-text chunks, each one or more top-level statements; ``user_templates``
    is a directory whose templates replace the shipped ones of their name. ``run=False`` leaves
    out run(), which compile_ir renders once the node chunks are formatted (see ``render_run``).
    ``state``: what the last compile of the module rendered, for the nodes it had too."""
    chosen = templates(user_templates)
    nodes = [_node_text(chosen, node_plan, state) for node_plan in plan.nodes]
    resources = render_resources(chosen, plan.resources)
    facts = [_text_facts(text, state) for text in [resources, *nodes]]
    python = max((needed for needed, _ in facts), default=OLDEST)
    imported = frozenset[str]().union(*(packages for _, packages in facts))
    header = render_header(plan, source_name, resources, python, chosen, imported, state)
    return [header, *nodes, render_run(plan, chosen)] if run else [header, *nodes]


def _node_text(chosen: Templates, node_plan: NodePlan, state: ModuleState | None) -> str:
    return remembered(state, "node", node_plan, lambda: render_node(chosen, node_plan))


def _text_facts(text: str, state: ModuleState | None) -> tuple[tuple[int, int], frozenset[str]]:
    """The oldest Python that compiles ``text``, and the packages it imports."""
    key = key_of(text) if state is not None else ""
    found = state.get(TEXT_FACTS, key) if state is not None else None
    if isinstance(found, list) and len(found) == 3 and all(isinstance(item, str) for item in found[2]):
        return (int(found[0]), int(found[1])), frozenset(found[2])
    needed, packages = required_version(text), packages_imported_in(text)
    if state is not None:
        state.put(TEXT_FACTS, key, [*needed, sorted(packages)])
    return needed, packages


@lru_cache(maxsize=4096)
def packages_imported_in(code: str) -> frozenset[str]:
    """The top-level packages outside the standard library that ``code`` imports anywhere (a
    node's body, a factory's ``create()``): what the module needs installed when it runs."""
    if "import" not in code:  # most chunks: no parse needed
        return frozenset()
    try:
        tree = ast.parse(code)
    except SyntaxError:  # syntax newer than this Python: its imports are not listed
        return frozenset()
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
    return frozenset(top for top in (name.split(".")[0] for name in names) if top not in STDLIB_MODULES)


# The kailash_rt function that declares each kind of resource.
_RESOURCE_CALLS = {"postgres": "postgres", "http": "http_client", "cache": "cache"}


def render_resources(chosen: Templates, block: ResourceBlock) -> str:
    """``RESOURCES = rt.Resources(...)`` and the factory classes it needs, or "" without resources."""
    if not block.declarations:
        return ""
    resources = []
    for declaration in block.declarations:
        texts = [(key, py_literal(value, secret=env_call)) for key, value in declaration.settings]
        resources.append(
            {
                "name": declaration.name,
                "kind": declaration.kind,
                "class_name": declaration.class_name,
                "args": [py_literal(value, secret=env_call) for value in declaration.args],
                "entries": [(key, text) for key, text in texts if is_keyword_argument(key)],
                "keyed": [(key, text) for key, text in texts if not is_keyword_argument(key)],
            }
        )
    context = {"block": block, "resources": resources, "calls": _RESOURCE_CALLS}
    return chosen.render("resources.py.j2", context, what="the resource declarations")


def render_header(
    plan: ModulePlan,
    source_name: str,
    resources_source: str,
    python: tuple[int, int],
    chosen: Templates,
    imported: frozenset[str],
    state: ModuleState | None = None,
) -> str:
    ir = plan.ir
    resources = plan.resources
    inputs: dict[str, list[str]] = {}
    for node_plan in plan.nodes:
        for name in node_plan.inputs:
            inputs.setdefault(name, []).append(node_plan.node.node_id)
    declared = {declared.name: declared for declared in ir.inputs}
    stdlib = {"from collections.abc import Mapping", "from typing import Any"}
    third_party = {"import kailash_rt as rt"}
    for line in [*(f"import {m}" for m in plan.modules), *plan.imports, *resources.imports]:
        (stdlib if _is_stdlib_import(line) else third_party).add(line)
    requires = _installed_modules(third_party, resources, imported)
    context = {
        "name": ir.name,
        "description": ir.description,
        "source": source_name,
        "inputs": inputs,
        "declared_inputs": {name: _declared_input(declared[name]) for name in inputs if name in declared},
        "definitions": [(str(d.location), d.source.rstrip("\n")) for d in plan.definitions],
        "resources": resources,
        "resources_source": resources_source,
        "python": None if python == OLDEST else "{}.{}".format(*python),
        "stdlib_imports": _sorted_imports(stdlib),
        "third_party_imports": _sorted_imports(third_party),
        # The same without kailash_rt: what the module imports inside rt.client_libraries().
        "client_imports": _sorted_imports(third_party - {"import kailash_rt as rt"}),
        "requires": requires,
        "install": [_DISTRIBUTIONS.get(module, module) for module in requires],
        "runtime_version": RUNTIME_VERSION,
    }
    return chosen.render("header.py.j2", context, what="the module header", state=state)


_SHOWN_DEFAULT = 60  # characters of a default shown in the docstring


def _declared_input(declared: InputIR) -> dict[str, Any]:
    """How the docstring shows a declared input: its default (shortened) and description."""
    default = py_literal(declared.default) if declared.has_default else None
    if default is not None and len(default) > _SHOWN_DEFAULT:
        default = default[: _SHOWN_DEFAULT - 1] + "…"
    return {"default": default, "description": declared.description}


def render_run(
    plan: ModulePlan,
    chosen: Templates,
    source_lines: Sequence[FunctionLines] = (),
    state: ModuleState | None = None,
) -> str:
    """``run()``: one ``r.node(...)`` registration per node, in topological order; before it
    ``SOURCE_LINES``, where each node's code is in the workflow file (see source_lines.py).
    ``state``: what the last compile of the module rendered, for the registrations it had too."""
    calls = []
    for node_id in plan.order:
        node_plan = plan.plan(node_id)
        call = {
            "handle": plan.handles.get(node_id),
            "node_id": py_string(node_id),
            "ident": node_plan.ident,
            "args": [(p.name, _argument(p, plan)) for p in node_plan.params],
        }
        calls.append(_call_text(chosen, call, node_id, state))
    context = {
        "name": py_string(plan.ir.name),
        "declared": bool(plan.ir.resources),
        "calls": calls,
        "source_file": plan.ir.location.file,
        "source_lines": list(source_lines),
    }
    text = chosen.render("run.py.j2", context, what="run()", state=state)
    if calls:
        first = "        " + calls[0].split("\n", 1)[0]
        chosen.require_line("run.py.j2", text, first, "where run() registers the nodes")
    return text


def _call_text(chosen: Templates, call: dict[str, Any], node_id: str, state: ModuleState | None) -> str:
    return remembered(state, "call", call, lambda: _rendered_call(chosen, call, node_id))


def _rendered_call(chosen: Templates, call: dict[str, Any], node_id: str) -> str:
    what = f"the registration of node {node_id!r}"
    line = chosen.render("run_call.py.j2", {"call": call, "exploded": False}, what=what)
    if len(line.rstrip("\n")) + 8 > LINE_LENGTH:
        # One argument per line with a trailing comma: black keeps that form as it is,
        # and it diffs one argument at a time.
        line = chosen.render("run_call.py.j2", {"call": call, "exploded": True}, what=what)
    return line


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
        declared = next((d for d in plan.ir.inputs if d.name == param.name and d.has_default), None)
        default = f", default={py_literal(declared.default)}" if declared is not None else ""
        return f"r.input({py_string(param.name)}{default})"
    if param.source == "resource":
        deferred = ", deferred=True" if param.deferred else ""
        return f"r.resource({py_string(param.name)}{deferred})"
    if param.source == "get_resource":
        return "r.get_resource"
    raise AssertionError(f"unknown parameter source {param.source!r}")


def render_node(chosen: Templates, node_plan: NodePlan) -> str:
    values: dict[str, Any] = {"node": _node_context(node_plan), "plan": node_plan}
    if node_plan.shape in (Shape.PLAIN, Shape.DECORATED):
        values["body"] = codeblock.indent(node_plan.code)
    if node_plan.shape is Shape.RESOURCE:
        values["arguments"], values["keyed"] = _resource_arguments(node_plan)
    return chosen.render(TEMPLATES[node_plan.shape], values, what=f"node {node_plan.node.node_id!r}")


def _node_context(node_plan: NodePlan) -> dict[str, Any]:
    node = node_plan.node
    return {
        "id": node.node_id,
        "ident": node_plan.ident,
        "location": str(node.location),
        "description": node.description,
        "params": [p.name for p in node_plan.params],
        "has_policy": any((node.timeout is not None, node.max_concurrent_tasks is not None, node.retry, node.fallback)),
        "timeout": node.timeout,
        "max_concurrent_tasks": node.max_concurrent_tasks,
        "retry": node.retry,
        "fallback": node.fallback,
    }


def _resource_arguments(node_plan: NodePlan) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """A resource operation's arguments as source text: keyword arguments, and those whose
    keys are no identifier (passed as ``**{...}``). A secret is read when the node runs."""
    assert node_plan.pattern is not None
    texts = [(key, py_literal(value, secret=_read_when_run)) for key, value in node_plan.pattern.settings]
    texts += [(name, name) for name in node_plan.signature or ()]
    return (
        [(key, text) for key, text in texts if is_keyword_argument(key)],
        [(key, text) for key, text in texts if not is_keyword_argument(key)],
    )


def _read_when_run(ref: EnvRef) -> str:
    return f"{env_call(ref)}.read()"


def _is_stdlib_import(line: str) -> bool:
    return _imported_package(line) in STDLIB_MODULES


def _imported_package(line: str) -> str:
    return line.split()[1].split(".")[0]


# Well-known modules whose distribution (what pip installs) has another name; any other module
# is assumed to come from the distribution of its name.
_DISTRIBUTIONS = {
    "PIL": "Pillow",
    "bs4": "beautifulsoup4",
    "cv2": "opencv-python",
    "dateutil": "python-dateutil",
    "jwt": "PyJWT",
    "sklearn": "scikit-learn",
    "yaml": "PyYAML",
}
# The client library each kind of declared resource is created with.
_RESOURCE_LIBRARIES = {"postgres": "asyncpg", "http": "aiohttp"}


def _installed_modules(third_party: set[str], resources: ResourceBlock, imported: frozenset[str]) -> list[str]:
    """The top-level packages the module imports besides the standard library and kailash_rt (at
    its top, or in its nodes' and factories' code), and the client libraries of its declared
    resources: what a machine that runs it must have installed beside kailash-rt."""
    packages = ({_imported_package(line) for line in third_party} | imported) - {"kailash_rt", ""}
    for declaration in resources.declarations:
        library = _RESOURCE_LIBRARIES.get(declaration.kind)
        if declaration.kind == "cache" and dict(declaration.settings).get("backend", "redis") == "redis":
            library = "redis"
        if library is not None:
            packages.add(library)
    return sorted(packages, key=str.lower)


def _sorted_imports(lines: set[str]) -> list[str]:
    """isort's order inside a section: ``import x`` lines first, then ``from x import y``, by module."""

    def key(line: str) -> tuple[int, str]:
        return (line.startswith("from "), line.split()[1].lower())

    return sorted(lines, key=key)
