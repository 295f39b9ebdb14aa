"""The run orchestrator: starts each node as soon as its inputs are ready.

A generated module registers its nodes inside ``async with Run(...) as r`` and the
nodes run when the block ends. A chain of nodes runs inline in one task; a node only
gets a task of its own when it can run beside another one.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable, Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any

from ._observe import observe_run
from ._resources import Resources, RunResources, SharedResources

if TYPE_CHECKING:
    from ._observer import Observer

NodeFunction = Callable[..., Awaitable[Any]]

_PENDING, _OK, _FAILED = 0, 1, 2


class InputError(ValueError):
    """The inputs given to a run do not fit the workflow."""


class RunResult(dict[str, Any]):
    """``{"results": {node_id: output}, "errors": {node_id: "ExcType: message"}}``.

    The exceptions behind ``errors`` are kept in ``.exceptions`` for debugging; ``.trace``
    is the run as Chrome trace-event JSON when a trace was asked for, else None.
    """

    exceptions: dict[str, BaseException]
    trace: dict[str, Any] | None = None


class UpstreamFailed(Exception):
    """A node did not run because a node it depends on failed."""


class SplitFailure(Exception):
    """Raised by a node function that also runs the work of dependent nodes, when its own
    work and theirs failed (a primary and its fallback): the node fails with ``own``, and each
    dependent whose function is a key of ``dependents`` fails with its own error instead of
    being skipped. Other dependents are skipped as usual."""

    def __init__(
        self, message: str, own: BaseException, dependents: Mapping[Callable[..., Any], BaseException]
    ) -> None:
        super().__init__(message)
        self.own = own
        self.dependents = dict(dependents)

    def error_of(self, fn: Callable[..., Any]) -> BaseException | None:
        """The error of the dependent node whose function is ``fn`` (or wraps one of ``dependents``)."""
        step: Callable[..., Any] | None = fn
        while step is not None:
            if step in self.dependents:
                return self.dependents[step]
            step = getattr(step, "__wrapped__", None)
        return None


class Output:
    """A node's output inside ``run()``; index it to pass one key downstream.

    ``out["users"]`` is ``output["users"]``; ``out["data.items"]`` walks nested keys;
    ``out["result"]`` is the whole output unless the output has a ``result`` key.
    """

    __slots__ = ()

    @property
    def _node(self) -> _Node:
        raise NotImplementedError

    def __getitem__(self, key: str) -> Output:
        return _Selected(self._node, key)

    @property
    def result(self) -> Output:
        """The node's result: its whole output, or ``output["result"]`` when it has that key."""
        return self["result"]

    def _select(self) -> Any:
        raise NotImplementedError


class _Selected(Output):
    """Part of a node's output: one key (a str) or a path of keys (a tuple)."""

    __slots__ = ("_keys", "_node")  # the slot takes the place of the base's property

    def __init__(self, node: _Node, keys: str | tuple[str, ...]) -> None:
        self._node = node  # type: ignore[misc]
        self._keys = keys

    def __getitem__(self, key: str) -> Output:
        keys = self._keys
        return _Selected(self._node, (keys, key) if isinstance(keys, str) else (*keys, key))

    def _select(self) -> Any:
        node = self._node
        keys = self._keys
        if isinstance(keys, str):
            return _select_key(node.output, keys, node.node_id)
        value = node.output
        for key in keys:
            value = _select_key(value, key, node.node_id)
        return value


_NO_DEFAULT: Any = object()


class _InputRef:
    __slots__ = ("default", "name")

    def __init__(self, name: str, default: Any = _NO_DEFAULT) -> None:
        self.name = name
        self.default = default  # used when the run is not given the input


class _ResourceRef:
    __slots__ = ("deferred", "name")

    def __init__(self, name: str, deferred: bool) -> None:
        self.name = name
        self.deferred = deferred


class Deferred:
    """A resource not created yet: a node that runs one of several functions (a primary and
    its fallback, the operations of a parallel fetch) creates only what the function it
    calls uses, with ``await resolved(kwargs)``."""

    __slots__ = ("_create",)

    def __init__(self, create: Callable[[], Awaitable[Any]]) -> None:
        self._create = create

    def get(self) -> Awaitable[Any]:
        return self._create()


async def resolved(kwargs: dict[str, Any]) -> dict[str, Any]:
    """``kwargs`` with every Deferred resource created."""
    if not any(isinstance(value, Deferred) for value in kwargs.values()):
        return kwargs
    return {name: await value.get() if isinstance(value, Deferred) else value for name, value in kwargs.items()}


def add_source_note(exc: BaseException) -> None:
    """The note naming the workflow file's line an exception of node code was raised at (PEP 678)."""
    from ._source_notes import add_source_note as add  # read only when a node fails

    add(exc)


def _select_key(value: Any, key: str, node_id: str) -> Any:
    if isinstance(value, Mapping):
        if key in value:
            return value[key]
        if key == "result":
            return value
        if "." in key:
            for part in key.split("."):
                value = _select_key(value, part, node_id)
            return value
        raise KeyError(
            f"output of node {node_id!r} has no key {key!r} (it has: {', '.join(map(repr, value)) or 'none'})"
        )
    if key == "result":
        return value
    raise KeyError(f"output of node {node_id!r} is a {type(value).__name__}, not a dict with key {key!r}")


class _Node(Output):
    """A registered node; as an ``Output``, its whole output. Holds as few objects as it can:
    a large run registers thousands, and each one the garbage collector tracks slows its passes."""

    __slots__ = (
        "defaults",
        "downstream",
        "fn",
        "inputs",
        "kwargs",
        "node_id",
        "output",
        "refers",
        "state",
        "waiting",
    )

    def __init__(self, node_id: str, fn: NodeFunction, kwargs: dict[str, Any]) -> None:
        self.node_id = node_id
        self.fn = fn
        self.kwargs = kwargs
        self.inputs: tuple[str, ...] = ()
        self.defaults: dict[str, Any] | None = None
        self.downstream: list[_Node] | tuple[()] = ()
        self.refers = False
        self.waiting = 0
        upstream: list[_Node] = []  # freed on return: not one of the objects a node holds
        for value in kwargs.values():
            if isinstance(value, Output):
                self.refers = True
                if value._node not in upstream:
                    upstream.append(value._node)
            elif isinstance(value, (_InputRef, _ResourceRef)):
                self.refers = True
                if isinstance(value, _InputRef):
                    self.inputs = (*self.inputs, value.name)
                    if value.default is not _NO_DEFAULT:
                        if self.defaults is None:
                            self.defaults = {}
                        self.defaults[value.name] = value.default
        for up in upstream:
            up.link(self)
        self.state = _PENDING
        self.output: Any = None

    def link(self, down: _Node) -> None:
        """``down`` takes an input from this node's output."""
        if self.downstream:
            self.downstream.append(down)
        else:
            self.downstream = [down]
        down.waiting += 1

    @property
    def _node(self) -> _Node:
        return self

    def _select(self) -> Any:
        return self.output


class Run:
    """One run of a workflow: ``async with Run(...) as r: r.node(...)``; then ``r.result``."""

    def __init__(
        self,
        workflow: str,
        inputs: Mapping[str, Any] | None = None,
        resources: Mapping[str, Any] | Resources | SharedResources | None = None,
        *,
        declared: Resources | None = None,
    ) -> None:
        self.workflow = workflow
        self._given = dict(inputs or {})
        self._nodes: list[_Node] = []
        self._by_id: dict[str, _Node] = {}
        self._errors: dict[str, BaseException] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._remaining = 0
        self._done: asyncio.Future[None] | None = None
        self._observer: Observer | None = None
        self.resources = RunResources(declared, resources)
        self.result = RunResult(results={}, errors={})
        self.result.exceptions = {}

    # -- registration -------------------------------------------------------------
    def node(self, node_id: str, fn: NodeFunction, /, **kwargs: Any) -> Output:
        """Register a node; keyword values may be outputs, inputs or resources."""
        entry = _Node(node_id, fn, kwargs)
        self._nodes.append(entry)
        self._by_id[node_id] = entry
        return entry

    def input(self, name: str, *, default: Any = _NO_DEFAULT) -> Any:
        """A workflow input, given per node or for the whole workflow; ``default`` when neither gives it."""
        return _InputRef(name, default)

    def resource(self, name: str, *, deferred: bool = False) -> Any:
        """A declared resource, created on first use in this run (``deferred``: passed as a
        ``Deferred`` the node creates only if the function it calls needs it)."""
        return _ResourceRef(name, deferred)

    async def get_resource(self, name: str) -> Any:
        """``await get_resource("name")`` inside node code. The name is read as Python reads an
        identifier, in NFKC normal form: the resource a module declares as ``\u210cc`` (black-letter
        H) is named ``Hc`` there, and ``get_resource("\u210cc")`` finds it."""
        if isinstance(name, str) and not name.isascii():
            import unicodedata  # only for names that are not plain ASCII

            name = unicodedata.normalize("NFKC", name)
        return await self.resources.get(name)

    # -- execution ----------------------------------------------------------------
    async def __aenter__(self) -> Run:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        failure: BaseException | None = None
        try:
            if exc_type is None:
                inputs = self._bind_inputs()
                await self._execute(inputs)
                self._collect()
        except BaseException as exc:
            failure = exc
            raise
        finally:
            try:
                await self.resources.aclose()
            finally:
                if self._observer is not None:
                    self._finish_observing(failure)
                self._release()

    def _bind_inputs(self) -> dict[tuple[str, str], Any]:
        """Check the given inputs against what the nodes need; one error lists all problems."""
        wanted = {n.node_id: n.inputs for n in self._nodes if n.inputs}
        all_names = sorted({name for names in wanted.values() for name in names})
        per_node: dict[str, Mapping[str, Any]] = {}
        shared: dict[str, Any] = {}
        problems: list[str] = []
        for key, value in self._given.items():
            if key in self._by_id and isinstance(value, Mapping):
                valid = wanted.get(key, ())
                unknown = [name for name in value if name not in valid]
                if unknown:
                    ambiguous = (
                        f"; {key!r} is both a node id and an input, so a dict given for it is taken as"
                        f" that node's inputs; pass the input per node instead: {{<node id>: {{{key!r}: ...}}}}"
                        if key in all_names
                        else ""
                    )
                    problems.append(
                        f"node {key!r} takes no input {', '.join(map(repr, unknown))}"
                        f" (its inputs: {', '.join(map(repr, valid)) or 'none'}){ambiguous}"
                    )
                per_node[key] = value
            elif key in all_names:
                shared[key] = value
            else:
                problems.append(
                    f"unknown input {key!r} (workflow inputs: {', '.join(map(repr, all_names)) or 'none'};"
                    " or a node id with a dict of that node's inputs)"
                )
        bound: dict[tuple[str, str], Any] = {}
        for node_id, names in wanted.items():
            own = per_node.get(node_id, {})
            for name in names:
                if name in own:
                    bound[node_id, name] = own[name]
                elif name in shared:
                    bound[node_id, name] = shared[name]
                elif name in (defaults := self._by_id[node_id].defaults or {}):
                    bound[node_id, name] = defaults[name]
                else:
                    problems.append(
                        f"node {node_id!r} needs input {name!r}: pass {{{name!r}: ...}}"
                        f" or {{{node_id!r}: {{{name!r}: ...}}}}"
                    )
        if problems:
            raise InputError(f"workflow {self.workflow!r}: " + "; ".join(problems))
        return bound

    async def _execute(self, inputs: dict[tuple[str, str], Any]) -> None:
        self._inputs = inputs
        self._observer = observe_run(self.workflow)
        if self._observer is not None:
            self._observer.run_started()
        self._remaining = len(self._nodes)
        ready = [n for n in self._nodes if n.waiting == 0]
        if not ready:
            return
        self._done = asyncio.get_running_loop().create_future()
        try:
            for entry in ready[1:]:
                self._spawn(entry)
            await self._drive(ready[0])
            if self._remaining:
                await self._done
        finally:
            await self._cancel_tasks()

    async def _cancel_tasks(self) -> None:
        """Cancel the node tasks still running and wait for them.

        Which tasks are running is read from the tasks themselves, never from when the loop
        runs their done-callbacks: since Python 3.12 ``gather`` of finished tasks returns
        without yielding, so a set emptied by callbacks would never empty here. Loops
        because a node that swallows its cancellation may still start a downstream task.
        """
        while running := [task for task in self._tasks if not task.done()]:
            for task in running:
                task.cancel()
            await asyncio.wait(running)
        self._tasks.clear()

    def _spawn(self, entry: _Node) -> None:
        task = asyncio.get_running_loop().create_task(self._drive(entry))
        self._tasks.add(task)
        task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if task.cancelled():
            return
        exc = task.exception()
        if exc is not None and self._done is not None and not self._done.done():
            self._done.set_exception(exc)  # a bug here, not a node failure: surface it rather than wait forever

    async def _drive(self, entry: _Node | None) -> None:
        while entry is not None:
            await self._run_node(entry)
            following = None
            if entry.state == _OK:
                for down in entry.downstream:
                    if down.state != _PENDING:
                        continue
                    down.waiting -= 1
                    if down.waiting == 0:
                        if following is None:
                            following = down
                        else:
                            self._spawn(down)
            entry = following

    async def _run_node(self, entry: _Node) -> None:
        if self._observer is not None:
            await self._run_node_observed(entry, self._observer)
        else:
            await self._call(entry)

    async def _call(self, entry: _Node) -> None:
        """Run one node; its output or its error is recorded, nothing is raised."""
        try:
            kwargs = await self._arguments(entry) if entry.refers else entry.kwargs
            entry.output = await entry.fn(**kwargs)
        except Exception as exc:  # a failing node is a result, not a crash of the run
            self._fail(entry, exc)
        except asyncio.CancelledError as exc:
            task = asyncio.current_task()
            if task is not None and task.cancelling():
                raise  # the run itself is being cancelled
            self._fail(entry, exc)  # node code let a CancelledError of its own escape
        else:
            entry.state = _OK
            self._finish_one()

    async def _run_node_observed(self, entry: _Node, observer: Observer) -> None:
        scope = observer.node_started(entry.node_id, entry.fn)
        outcome = "cancelled"
        try:
            await self._call(entry)
            outcome = "ok" if entry.state == _OK else "failed"
        finally:
            observer.node_finished(scope, outcome, self._errors.get(entry.node_id))

    def _finish_observing(self, failure: BaseException | None) -> None:
        observer = self._observer
        assert observer is not None
        observer.run_finished(self.result["errors"], failure)
        if observer.trace is not None:
            self.result.trace = observer.trace.document()

    async def _arguments(self, entry: _Node) -> dict[str, Any]:
        kwargs = {}
        for name, value in entry.kwargs.items():
            if isinstance(value, Output):
                kwargs[name] = value._select()
            elif isinstance(value, _InputRef):
                kwargs[name] = self._inputs[entry.node_id, value.name]
            elif isinstance(value, _ResourceRef):
                if value.deferred:
                    kwargs[name] = Deferred(functools.partial(self.resources.get, value.name))
                else:
                    kwargs[name] = await self.resources.get(value.name)
            else:
                kwargs[name] = value
        return kwargs

    def _fail(self, entry: _Node, exc: BaseException) -> None:
        split = exc if isinstance(exc, SplitFailure) else None
        entry.state = _FAILED
        self._errors[entry.node_id] = split.own if split else exc
        add_source_note(split.own if split else exc)
        self._finish_one()
        stack = [(down, entry.node_id) for down in entry.downstream]
        while stack:
            down, failed = stack.pop()
            if down.state != _PENDING:
                continue
            down.state = _FAILED
            own = split.error_of(down.fn) if split and failed == entry.node_id else None
            if own is None:
                self._errors[down.node_id] = UpstreamFailed(f"skipped because upstream node {failed!r} failed")
            else:  # its work ran inside the failed node and failed too: its own error
                self._errors[down.node_id] = own
                add_source_note(own)
                failed = down.node_id
            if self._observer is not None:
                self._observer.node_skipped(down.node_id, self._errors[down.node_id])
            self._finish_one()
            stack.extend((after, failed) for after in down.downstream)

    def _finish_one(self) -> None:
        self._remaining -= 1
        if self._remaining == 0 and self._done is not None and not self._done.done():
            self._done.set_result(None)

    def _release(self) -> None:
        """Break the links between the nodes (each links to those downstream, which link back
        through their inputs): the run's objects are then freed as soon as it ends, not left
        to the garbage collector, which would traverse every node of a large run again and again."""
        for entry in self._nodes:
            entry.downstream = ()

    def _collect(self) -> None:
        results = self.result["results"]
        errors = self.result["errors"]
        for entry in self._nodes:
            if entry.state == _OK:
                results[entry.node_id] = entry.output
            else:
                exc = self._errors[entry.node_id]
                errors[entry.node_id] = f"{type(exc).__name__}: {exc}"
                self.result.exceptions[entry.node_id] = exc
