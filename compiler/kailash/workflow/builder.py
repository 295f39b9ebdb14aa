"""AsyncWorkflowBuilder: records the workflow as IR. It runs no code.

``add_*`` node methods return the node id; ``with_*``, ``require_resource`` and
``add_connection`` return the builder, so resource declarations chain.
"""

from __future__ import annotations

import ast
import logging
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, Self

from kailash_rt._secrets import has_secret

from .. import codeblock
from .._collector import collector_paused
from .._location import caller_file, caller_location
from ..analysis.graph import check_graph
from ..checks import check_description, check_number
from ..code_location import code_line
from ..errors import CodeLine, WorkflowError
from ..ir import ConnectionIR, InputIR, Location, NodeIR, ResourceIR, WorkflowIR
from ..literal_values import first_unwritable
from ..python_names import normal_form, python_identifier
from ..resources import ResourceRegistry
from ..settings import ParallelMapSettings
from .file_definitions import workflow_definitions
from .patterns import PatternMethods
from .policies import AsyncRetryPolicy, ErrorHandler, RetryPolicy, resolve_exception
from .resource_methods import ResourceMethods, check_resource_name
from .workflow import Workflow

logger = logging.getLogger("kailash.workflow")

_CACHE_BACKENDS = ("redis", "memory")
_NO_DEFAULT: Any = object()


class WorkflowBuilder:
    """The base builder: nodes, connections, resources as IR; ``build()`` checks and freezes it.

    ``add_node("PythonCodeNode", id, {"code": ...})`` is the guide's migration path; code nodes
    compile exactly like ``add_async_code``, other node types of the interpreted SDK have no
    compiled form.
    """

    def __init__(
        self,
        name: str | None = None,
        description: str | None = None,
        resource_registry: ResourceRegistry | None = None,
    ) -> None:
        self._location = caller_location()
        if name is not None and not isinstance(name, str):
            raise WorkflowError(
                f"the workflow name must be a string, not {type(name).__name__}",
                location=self._location,
                hint='name the workflow like AsyncWorkflowBuilder("data_pipeline"); the name gives the module its name',
            )
        check_description(description, self._location)
        self.name = name or "workflow"
        self.description = description
        self._nodes: dict[str, NodeIR] = {}
        self._connections: list[ConnectionIR] = []
        self._resources: dict[str, ResourceIR] = {}
        self._inputs: dict[str, InputIR] = {}
        self._files: dict[str, str] = {}  # shown path of a file that added nodes -> its path
        # How the user spelled a name the builder records in normal form, to explain a clash.
        self._input_spellings: dict[tuple[str, str], str] = {}
        self._resource_spellings: dict[str, str] = {}
        self._registry = resource_registry if resource_registry is not None else ResourceRegistry()

    # -- nodes --------------------------------------------------------------------
    CODE_NODE_TYPES = ("PythonCodeNode", "AsyncPythonCodeNode")

    def add_node(self, node_type: str, node_id: str, config: dict[str, Any] | None = None) -> str:
        location = caller_location()
        config = dict(config or {})
        if node_type not in self.CODE_NODE_TYPES:
            raise WorkflowError(
                f"node type {node_type!r} cannot be compiled",
                location=location,
                node_id=node_id,
                hint=f"use one of {', '.join(self.CODE_NODE_TYPES)} or the AsyncWorkflowBuilder methods",
            )
        if "code" not in config:
            raise WorkflowError(f'{node_type} needs {{"code": ...}} in its config', location=location, node_id=node_id)
        code = config.pop("code")
        timeout = config.pop("timeout", None)
        description = config.pop("description", None)
        if config:
            raise WorkflowError(
                f"unsupported config keys {', '.join(map(repr, sorted(config)))}",
                location=location,
                node_id=node_id,
                hint='a code node takes "code", "timeout" and "description"',
            )
        node = self.make_node(node_id, "code", code, location, timeout=timeout, description=description)
        return self.add_node_ir(node)

    def add_connection(self, from_node: str, from_output: str, to_node: str, to_input: str) -> Self:
        """Pass ``from_node``'s output key ``from_output`` to ``to_node`` as the variable ``to_input``."""
        location = caller_location()
        name = python_identifier(to_input)
        if name is None:
            raise WorkflowError(
                f"connection target input {to_input!r} is not a Python identifier",
                location=location,
                node_id=to_node,
                hint="the target input is the variable name the node's code reads",
            )
        spelled = self._input_spellings.setdefault((to_node, name), to_input) if isinstance(to_node, str) else to_input
        if spelled != to_input:
            raise WorkflowError(
                f"inputs {spelled!r} and {to_input!r} are one name to Python, {name!r}"
                " (it reads names in NFKC normal form), so this input would be connected twice",
                location=location,
                node_id=to_node,
                hint="connect the input once, or connect this value under another name",
            )
        self._connections.append(ConnectionIR(from_node, from_output, to_node, name, location))
        logger.debug(
            "%s: connection %s[%r] -> %s.%s (%s)", self.name, from_node, from_output, to_node, to_input, location
        )
        return self

    # -- building blocks shared with patterns ---------------------------------------
    def make_node(
        self,
        node_id: str,
        kind: str,
        code: str,
        location: Location,
        *,
        settings: dict[str, Any] | None = None,
        timeout: float | None = None,
        max_concurrent_tasks: int | None = None,
        retry_policy: RetryPolicy | AsyncRetryPolicy | None = None,
        error_handler: ErrorHandler | None = None,
        required_resources: Sequence[str] | None = None,
        description: str | None = None,
    ) -> NodeIR:
        """A checked NodeIR: valid id, code that parses, policies in range."""
        if not isinstance(node_id, str) or not node_id:
            raise WorkflowError(f"node id must be a non-empty string, not {node_id!r}", location=location)
        if not isinstance(code, str):
            raise WorkflowError(f"code must be a string, not {type(code).__name__}", location=location, node_id=node_id)
        check_description(description, location, node_id)
        if timeout is not None:
            check_number("timeout", timeout, positive=True, node_id=node_id, location=location)
        if max_concurrent_tasks is not None:
            check_number(
                "max_concurrent_tasks",
                max_concurrent_tasks,
                integer=True,
                positive=True,
                node_id=node_id,
                location=location,
            )
        try:
            retry = retry_policy.to_ir() if retry_policy is not None else None
            for name in retry.retry_on if retry is not None else ():
                resolve_exception(name)
        except ValueError as exc:
            raise WorkflowError(
                f"retry policy: {exc}",
                location=location,
                node_id=node_id,
                hint=(
                    "name a built-in exception (ConnectionError), an importable one (aiohttp.ClientError)"
                    " or a class the workflow file defines at its top level"
                ),
            ) from None
        return NodeIR(
            node_id=node_id,
            kind=kind,
            code=checked_code(code, node_id, location),
            location=location,
            settings=dict(settings or {}),
            description=description,
            required_resources=tuple(
                normal_form(name) if isinstance(name, str) else name for name in required_resources or ()
            ),
            timeout=timeout,
            max_concurrent_tasks=max_concurrent_tasks,
            retry=retry,
            fallback=error_handler.to_ir() if error_handler is not None else None,
            code_line=code_line(code, location),
        )

    def add_node_ir(self, node: NodeIR) -> str:
        """Append a node; a second node with the same id is an error."""
        first = self._nodes.get(node.node_id)
        if first is not None:
            raise WorkflowError(
                f"duplicate node id; the first node with this id was added at {first.location}",
                location=node.location,
                node_id=node.node_id,
                hint="give every node a unique id",
            )
        self._nodes[node.node_id] = node
        if node.location.file not in self._files:  # the frames are walked once per file, not per node
            self._files[node.location.file] = caller_file()
        logger.debug("%s: %s node %r added (%s)", self.name, node.kind, node.node_id, node.location)
        return node.node_id

    def add_resource_ir(self, resource: ResourceIR, spelled: str | None = None) -> Self:
        """Declare a resource (its name in normal form, ``spelled`` as the user wrote it); a second
        declaration under the same name is an error."""
        first = self._resources.get(resource.name)
        spelled = spelled or resource.name
        if first is not None:
            first_spelled = self._resource_spellings.get(resource.name, resource.name)
            same = (
                f" ({first_spelled!r} and {spelled!r} are one name to Python: it reads names in NFKC normal form)"
                if first_spelled != spelled
                else ""
            )
            raise WorkflowError(
                f"resource {resource.name!r} is already declared at {first.location}{same}",
                location=resource.location,
                hint="give every resource a unique name",
            )
        self._resource_spellings[resource.name] = spelled
        self._registry.register_declaration(resource)  # checks the settings can be written into a module
        self._resources[resource.name] = resource
        logger.debug("%s: %s resource %r declared (%s)", self.name, resource.kind, resource.name, resource.location)
        return self

    def add_input(self, name: str, *, default: Any = _NO_DEFAULT, description: str | None = None) -> Self:
        """Declare a workflow input: a name code blocks read that no connection gives, passed to
        ``run()`` (``--inputs`` of a compiled module), with a ``default`` used when it is not given.

        A declared input is listed in the module's docstring and ``--help``, with its default,
        and is not an error under ``--strict``. The default is a literal the module holds.
        """
        location = caller_location()
        ident = python_identifier(name)
        if ident is None:
            raise WorkflowError(
                f"input name {name!r} is not a Python identifier",
                location=location,
                hint="an input is the variable name code blocks read",
            )
        check_description(description, location)
        first = self._inputs.get(ident)
        if first is not None:
            raise WorkflowError(
                f"input {ident!r} is already declared at {first.location}",
                location=location,
                hint="declare each input once",
            )
        has_default = default is not _NO_DEFAULT
        if has_default:
            found = first_unwritable(default)
            if found is not None:
                inside = f" (at {'.'.join(found.path)})" if found.path else ""
                raise WorkflowError(
                    f"the default of input {ident!r}{inside} {found.reason}, which a compiled module cannot hold",
                    location=location,
                    hint="give a plain literal (str, int, float, bool, None, lists, tuples and dicts of them)",
                )
            if has_secret((ident,), default):
                raise WorkflowError(
                    f"the default of input {ident!r} is a secret, which a compiled module must not contain",
                    location=location,
                    hint="declare the input without a default and pass the secret at run time,"
                    " or read it from the environment in the code",
                )
        self._inputs[ident] = InputIR(ident, location, has_default, default if has_default else None, description)
        logger.debug("%s: input %r declared (%s)", self.name, ident, location)
        return self

    # -- inspection -------------------------------------------------------------------
    def get_node_metadata(self, node_id: str) -> dict[str, Any]:
        """Description, required resources and settings of one node."""
        node = self._nodes.get(node_id)
        if node is None:
            raise KeyError(f"no node {node_id!r} (nodes: {', '.join(map(repr, self._nodes))})")
        return node_metadata(node)

    def list_required_resources(self) -> list[str]:
        """Every resource the workflow declares (or uses from a shared registry) or a node requires, sorted."""
        return required_resources(self.to_ir())

    def get_resource_registry(self) -> ResourceRegistry:
        return self._registry

    def to_ir(self) -> WorkflowIR:
        """The IR; resources of a shared registry are included when a node uses them by name."""
        resources = dict(self._resources)
        shared = [resource for resource in self._registry.declared_resources() if resource.name not in resources]
        used = names_nodes_use(self._nodes.values()) if shared else set()  # read only when there is one to add
        for resource in shared:
            if resource.name in used:
                resources[resource.name] = resource
        return WorkflowIR(
            name=self.name,
            location=self._location,
            description=self.description,
            nodes=tuple(self._nodes.values()),
            connections=tuple(self._connections),
            resources=tuple(resources.values()),
            inputs=tuple(self._inputs.values()),
            definitions=workflow_definitions(self._nodes.values(), self._connections, self._files),
        )

    def build(self) -> Workflow:
        """Check the graph (unknown nodes, inputs connected twice, cycles) and freeze it."""
        with collector_paused():
            ir = self.to_ir()
            check_graph(ir)
            workflow = Workflow(ir, builder=self, required_resources=required_resources(ir))
        logger.debug("%s: built with %d nodes, %d connections", self.name, len(ir.nodes), len(ir.connections))
        return workflow


class AsyncWorkflowBuilder(ResourceMethods, PatternMethods, WorkflowBuilder):
    """Extends WorkflowBuilder with async code nodes, parallel map, patterns and resources."""

    # -- nodes --------------------------------------------------------------------
    def add_async_code(
        self,
        node_id: str,
        code: str,
        *,
        timeout: float | None = None,
        max_concurrent_tasks: int | None = None,
        retry_policy: RetryPolicy | AsyncRetryPolicy | None = None,
        error_handler: ErrorHandler | None = None,
        required_resources: Sequence[str] | None = None,
        description: str | None = None,
    ) -> str:
        """Add a node running ``code`` as the body of an async function; its output is ``result``."""
        location = caller_location()
        node = self.make_node(
            node_id,
            "code",
            code,
            location,
            timeout=timeout,
            max_concurrent_tasks=max_concurrent_tasks,
            retry_policy=retry_policy,
            error_handler=error_handler,
            required_resources=required_resources,
            description=description,
        )
        return self.add_node_ir(node)

    def add_parallel_map(
        self,
        node_id: str,
        code: str,
        *,
        input_field: str = "items",
        output_field: str = "results",
        max_workers: int = 10,
        batch_size: int | None = None,
        timeout_per_item: float | None = None,
        continue_on_error: bool = False,
        description: str | None = None,
    ) -> str:
        """Add a node applying ``process_item(item)`` (defined by ``code``) to every item of ``input_field``."""
        location = caller_location()
        settings = ParallelMapSettings(
            input_field=_identifier("input_field", input_field, node_id, location),
            output_field=output_field,
            max_workers=max_workers,
            batch_size=batch_size,
            timeout_per_item=timeout_per_item,
            continue_on_error=continue_on_error,
        )
        settings.check(node_id, location)
        node = self.make_node(
            node_id, "parallel_map", code, location, settings=settings.to_dict(), description=description
        )
        require_function(node, "process_item")
        return self.add_node_ir(node)

    # -- resources ------------------------------------------------------------------
    def with_database(
        self,
        name: str = "db",
        host: str = "localhost",
        port: int = 5432,
        database: str = "postgres",
        user: str = "postgres",
        password: str | None = None,
        min_size: int = 1,
        max_size: int = 10,
        **kwargs: Any,
    ) -> AsyncWorkflowBuilder:
        """Declare a PostgreSQL connection pool (asyncpg); created on first use.

        Extra keyword arguments (``command_timeout``, ``ssl``, ...) go to ``asyncpg.create_pool``
        and must be plain values the generated module can hold: ``ssl`` is a mode string
        ("require", "verify-full", with the CA file in ``PGSSLROOTCERT``) or comes from the
        ``<NAME>_SSL`` environment variable; an ``SSLContext`` belongs in a ResourceFactory's
        ``create()``.
        """
        settings = {
            "host": host,
            "port": port,
            "database": database,
            "user": user,
            "password": password,
            "min_size": min_size,
            "max_size": max_size,
            **kwargs,
        }
        return self.add_resource_ir(_resource(name, "postgres", settings), spelled=name)

    def with_http_client(
        self,
        name: str = "http",
        base_url: str | None = None,
        headers: dict[str, str] | None = None,
        timeout: float = 30,
        **kwargs: Any,
    ) -> AsyncWorkflowBuilder:
        """Declare an HTTP client session (aiohttp); created on first use."""
        settings = {"base_url": base_url, "headers": dict(headers or {}), "timeout": timeout, **kwargs}
        return self.add_resource_ir(_resource(name, "http", settings), spelled=name)

    def with_cache(
        self,
        name: str = "cache",
        backend: str = "redis",
        host: str = "localhost",
        port: int = 6379,
        db: int = 0,
        **kwargs: Any,
    ) -> AsyncWorkflowBuilder:
        """Declare a cache: Redis (redis.asyncio) or the embedded in-process memory cache."""
        location = caller_location()
        if backend not in _CACHE_BACKENDS:
            raise WorkflowError(
                f"cache {name!r}: unsupported backend {backend!r}",
                location=location,
                hint=f"use one of: {', '.join(_CACHE_BACKENDS)}",
            )
        settings = {"backend": backend, "host": host, "port": port, "db": db, **kwargs}
        return self.add_resource_ir(_resource(name, "cache", settings), spelled=name)


def node_metadata(node: NodeIR) -> dict[str, Any]:
    return {
        "kind": node.kind,
        "description": node.description,
        "required_resources": list(node.required_resources),
        "timeout": node.timeout,
        "max_concurrent_tasks": node.max_concurrent_tasks,
        "location": str(node.location),
        **node.settings,
    }


def required_resources(ir: WorkflowIR) -> list[str]:
    """Every resource the IR declares or a node of it requires, sorted."""
    required = {resource.name for resource in ir.resources}
    for node in ir.nodes:
        required.update(node.required_resources)
    return sorted(required)


def names_nodes_use(nodes: Iterable[NodeIR]) -> set[str]:
    """Every name a node might use a resource by: free names of its code, required
    resources, ``get_resource("...")`` literals, and plain-name strings in its settings."""
    names: set[str] = set()
    for node in nodes:
        names.update(node.required_resources)
        texts = [node.code, *_strings(node.settings)]
        for text in texts:
            if text.isidentifier():
                names.add(normal_form(text))
                continue
            try:
                names.update(codeblock.free_names(text))
                names.update(name for name, _, _ in codeblock.resource_literals(text))
            except (SyntaxError, ValueError, codeblock.CodeSyntaxError):
                continue  # a setting that is not code (ValueError: one no source file can hold)
    return names


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _strings(item)


def checked_code(code: str, node_id: str, location: Location) -> str:
    """The dedented code block; a syntax error names the line of the block with a caret."""
    text = codeblock.dedent(code)
    try:
        codeblock.check(text)
    except codeblock.CodeSyntaxError as exc:
        raise WorkflowError(
            f"syntax error in the code block: {exc.message}",
            location=location,
            node_id=node_id,
            code_line=CodeLine(exc.line, exc.text, exc.column),
            hint="the code block runs as the body of an async function; fix it and compile again",
        ) from None
    return text


def require_function(node: NodeIR, name: str) -> None:
    """The code block must define ``name`` at its top level (a map function, say)."""
    tree = codeblock.parse(node.code)
    for statement in tree.body:
        if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef)) and statement.name == name:
            return
    raise WorkflowError(
        f"the code block does not define {name}()",
        location=node.location,
        node_id=node.node_id,
        hint=f"define `async def {name}(item): ...` (or a plain def) at the top level of the code block",
    )


def _resource(name: str, kind: str, settings: dict[str, Any]) -> ResourceIR:
    location = caller_location()
    return ResourceIR(name=check_resource_name(name, location), kind=kind, settings=settings, location=location)


def _identifier(name: str, value: Any, node_id: str, location: Location) -> str:
    """``value`` in normal form; a WorkflowError unless it is an identifier."""
    ident = python_identifier(value)
    if ident is None:
        raise WorkflowError(f"{name} must be a Python identifier, not {value!r}", location=location, node_id=node_id)
    return ident
