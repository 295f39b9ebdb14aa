"""Parallel map: ``process_item`` applied to every item by a bounded pool of workers.

``@parallel_map(max_workers=3, timeout_per_item=2)`` turns a per-item function into a
node: ``await enrich(items=[...], **extras)`` calls ``enrich(item, **extras)`` for every
item and returns ``{"results": [...], "statistics": {...}, "errors": [...]}``.

At most ``max_workers`` worker tasks exist at a time, however many items there are. An
async item function that finishes without suspending is run to completion on the spot,
with no timer armed; the per-item timer is armed only when the item really waits.

A plain ``def`` runs in a thread of the run's own: at most ``max_workers`` threads run
items at once, each item on a thread that is idle, so the per-item timer counts the
item's own running time only. A thread whose item timed out (or was cancelled) is left
to finish that call and exit; a fresh thread takes its place. An item cancelled before
its thread took it up (the node failed, or a loaded machine was slow to schedule the
thread) is never started. The run stops its idle threads when it ends.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import functools
import inspect
import threading
import types
from collections.abc import Awaitable, Callable, Generator, Iterator, Sequence
from time import perf_counter
from typing import TYPE_CHECKING, Any

from ._calls import check_number
from ._observe import current

if TYPE_CHECKING:
    import queue

NodeFunction = Callable[..., Awaitable[Any]]

_FAILED = object()  # marks the slot of an item that failed
_YIELD_EVERY = 256  # items finished without suspending before a worker lets others run


class ItemFailed(Exception):
    """One item of a parallel map failed and the map does not continue on error."""


def parallel_map(
    *,
    input_field: str = "items",
    output_field: str = "results",
    max_workers: int = 10,
    batch_size: int | None = None,
    timeout_per_item: float | None = None,
    continue_on_error: bool = False,
) -> Callable[[Callable[..., Any]], NodeFunction]:
    """Make a node that applies the decorated function to every item of ``input_field``.

    Results keep input order. ``batch_size`` processes the items in consecutive batches
    (the next batch starts when the previous one is done). A failing or timed-out item is
    recorded in ``errors`` with its index when ``continue_on_error``; otherwise it fails
    the node with ``ItemFailed`` naming the index, and the remaining items are not started.
    """
    check_number("max_workers", max_workers, integer=True, positive=True)
    if batch_size is not None:
        check_number("batch_size", batch_size, integer=True, positive=True)
    if timeout_per_item is not None:
        check_number("timeout_per_item", timeout_per_item, positive=True)

    def decorate(fn: Callable[..., Any]) -> NodeFunction:
        mapper = ItemMapper(fn, max_workers, batch_size, timeout_per_item, continue_on_error)

        @functools.wraps(fn)
        async def node(**kwargs: Any) -> dict[str, Any]:
            try:
                items = kwargs.pop(input_field)
            except KeyError:
                raise TypeError(f"{fn.__name__}() needs the items to map as {input_field}=[...]") from None
            if not isinstance(items, (list, tuple)):
                raise TypeError(f"{input_field} must be a list or tuple of items, not {type(items).__name__}")
            return await mapper.run(items, kwargs, output_field)

        node.process_item = fn  # type: ignore[attr-defined]
        node.kailash_patterns = ("parallel_map",)  # type: ignore[attr-defined]
        return node

    return decorate


class ItemMapper:
    """The settings of one parallel map node and the per-run driver."""

    def __init__(
        self,
        fn: Callable[..., Any],
        max_workers: int,
        batch_size: int | None,
        timeout: float | None,
        continue_on_error: bool,
    ) -> None:
        self.fn = fn
        self.is_async = inspect.iscoroutinefunction(fn)
        self.max_workers = max_workers
        self.batch_size = batch_size
        self.timeout = timeout
        self.continue_on_error = continue_on_error

    async def run(
        self, items: Sequence[Any], extras: dict[str, Any], output_field: str, start: int | None = None
    ) -> dict[str, Any]:
        """Map ``items``; ``start``: they are a slice of a larger input beginning at that index,
        and errors name items by their index in that input."""
        state = _RunState(items, extras, start)
        started = perf_counter()
        step = self.batch_size or len(items) or 1
        scope = current()
        counter = scope.item_counter(len(items), min(self.max_workers, step)) if scope is not None else None
        if counter is not None:
            state.on_item = counter.item
        try:
            for low in range(0, len(items), step):
                await self._pool(state, iter(range(low, min(low + step, len(items)))), min(step, len(items) - low))
        finally:
            for thread in state.idle_threads:
                thread.stop()
            if counter is not None:
                counter.finish()
        total = len(items)
        failed = len(state.errors)
        return {
            output_field: [value for value in state.results if value is not _FAILED],
            "statistics": {
                "total": total,
                "successful": total - failed,
                "failed": failed,
                "total_duration": perf_counter() - started,
                "average_duration": state.busy / total if total else 0.0,
            },
            "errors": sorted(state.errors, key=lambda error: error["index"]),
        }

    async def _pool(self, state: _RunState, indices: Iterator[int], count: int) -> None:
        workers = min(self.max_workers, count)
        if workers <= 1:
            await self._work(state, indices, 0)
            return
        try:
            async with asyncio.TaskGroup() as group:
                for worker in range(workers):
                    group.create_task(self._work(state, indices, worker))
        except BaseExceptionGroup as group_error:
            failures = [exc for exc in group_error.exceptions if isinstance(exc, ItemFailed)]
            if len(failures) == len(group_error.exceptions):
                raise failures[0] from failures[0].__cause__
            raise

    async def _work(self, state: _RunState, indices: Iterator[int], worker: int) -> None:
        """One worker (number ``worker``): takes the next index until none is left (the iterator is shared)."""
        fn, extras, items, results = self.fn, state.extras, state.items, state.results
        on_item = state.on_item
        deadline = _WorkerDeadline(self.timeout) if self.timeout is not None and self.is_async else None
        streak = 0
        try:
            for index in indices:
                started = perf_counter()
                try:
                    if self.is_async:
                        awaitable = fn(items[index], **extras) if extras else fn(items[index])
                        if type(awaitable) is types.CoroutineType:
                            try:
                                waiting_on = awaitable.send(None)
                            except StopIteration as done:  # finished without suspending: no timer needed
                                value = done.value
                                streak += 1
                                if streak >= _YIELD_EVERY:
                                    streak = 0
                                    await asyncio.sleep(0)
                            else:
                                streak = 0
                                resumed = _Resume(awaitable, waiting_on)
                                value = await (resumed if deadline is None else deadline.run(resumed))
                        else:
                            value = await (awaitable if deadline is None else deadline.run(awaitable))
                    else:
                        value = await self._in_thread(state, functools.partial(fn, items[index], **extras))
                except Exception as exc:
                    state.busy += perf_counter() - started
                    results[index] = _FAILED
                    state.errors.append(
                        _error_entry(state.input_index(index), items[index], exc, perf_counter() - started)
                    )
                    if on_item is not None:
                        on_item(worker, state.input_index(index), started, exc)
                    if not self.continue_on_error:
                        raise ItemFailed(f"{state.item_name(index)} failed: {type(exc).__name__}: {exc}") from exc
                else:
                    state.busy += perf_counter() - started
                    results[index] = value
                    if on_item is not None:
                        on_item(worker, state.input_index(index), started, None)
        finally:
            if deadline is not None:
                deadline.close()

    async def _in_thread(self, state: _RunState, call: Callable[[], Any]) -> Any:
        """Run a plain-def item on an idle thread of the run (a new one if none is idle)."""
        thread = state.idle_threads.pop() if state.idle_threads else _ItemThread(self.fn.__name__)
        future = thread.start(asyncio.get_running_loop(), call)
        try:
            return await _with_timeout(future, self.timeout)
        finally:
            if future.cancelled():  # timed out or cancelled: the thread is still busy with the call
                thread.stop()  # it exits once the call returns
            else:
                state.idle_threads.append(thread)


class _ItemThread:
    """A thread that runs one plain-def item at a time for a parallel map run."""

    __slots__ = ("_jobs",)

    def __init__(self, name: str) -> None:
        from queue import SimpleQueue  # only for plain-def items

        self._jobs: queue.SimpleQueue[Any] = SimpleQueue()
        threading.Thread(target=_serve, args=(self._jobs,), name=f"parallel_map {name}", daemon=True).start()

    def start(self, loop: asyncio.AbstractEventLoop, call: Callable[[], Any]) -> asyncio.Future[Any]:
        future = loop.create_future()
        self._jobs.put((loop, future, contextvars.copy_context(), call))
        return future

    def stop(self) -> None:
        self._jobs.put(None)


def _serve(jobs: queue.SimpleQueue[Any]) -> None:
    while (job := jobs.get()) is not None:
        loop, future, context, call = job
        job = None
        if future.cancelled():  # timed out or cancelled before this thread took it up: never start it
            del loop, future, context, call
            continue
        try:
            outcome: tuple[bool, Any] = (True, context.run(call))
        except StopIteration as exc:  # cannot be set on a future (PEP 479 turns it into RuntimeError too)
            outcome = (False, RuntimeError(f"process_item raised StopIteration: {exc}"))
        except BaseException as exc:
            outcome = (False, exc)
        with contextlib.suppress(RuntimeError):  # a closed loop: nobody waits for this item any more
            loop.call_soon_threadsafe(_settle, future, outcome)
        del loop, future, context, call, outcome


def _settle(future: asyncio.Future[Any], outcome: tuple[bool, Any]) -> None:
    if future.cancelled():
        return
    ok, value = outcome
    if ok:
        future.set_result(value)
    else:
        future.set_exception(value)


class _RunState:
    __slots__ = ("busy", "errors", "extras", "idle_threads", "items", "on_item", "results", "start")

    def __init__(self, items: Sequence[Any], extras: dict[str, Any], start: int | None) -> None:
        self.items = items
        self.extras = extras
        self.start = start  # the items are a slice of an input beginning at this index (scatter-gather)
        self.results: list[Any] = [_FAILED] * len(items)
        self.errors: list[dict[str, Any]] = []
        self.busy = 0.0  # seconds spent on items, summed over workers
        self.idle_threads: list[_ItemThread] = []  # threads for plain-def items, each idle now
        # Told of each finished item (worker, index in the input, start, error) while the run is observed.
        self.on_item: Callable[[int, int, float, BaseException | None], None] | None = None

    def input_index(self, index: int) -> int:
        return index if self.start is None else self.start + index

    def item_name(self, index: int) -> str:
        if self.start is None:
            return f"item {index} of {len(self.items)}"
        return f"item {self.start + index} of the input"


class _WorkerDeadline:
    """The per-item timeout of one worker's async items, with one timer for the worker.

    ``asyncio.timeout`` per item arms and cancels a loop timer for every item. Here the
    worker keeps a single timer: when it fires before the current item's deadline (the item
    started after the timer was armed) it is re-armed for that deadline; when the deadline
    has passed it cancels the worker's task, and the cancellation is turned into the item's
    ``TimeoutError`` exactly as ``asyncio.timeout`` does (an outer cancellation still wins).
    """

    __slots__ = ("_cancelling", "_due", "_expired", "_handle", "_loop", "_task", "_timeout")

    def __init__(self, timeout: float) -> None:
        self._timeout = timeout
        self._loop = asyncio.get_running_loop()
        task = asyncio.current_task()
        assert task is not None
        self._task = task
        self._due: float | None = None  # the deadline of the item awaited now; None between items
        self._handle: asyncio.TimerHandle | None = None
        self._expired = False
        self._cancelling = 0

    async def run(self, awaitable: Awaitable[Any]) -> Any:
        self._due = due = self._loop.time() + self._timeout
        if self._handle is None:
            self._handle = self._loop.call_at(due, self._on_timer)
        self._cancelling = self._task.cancelling()
        try:
            value = await awaitable
        except asyncio.CancelledError as exc:
            if self._expired:
                self._expired = False
                if self._task.uncancel() <= self._cancelling:
                    raise TimeoutError(f"timed out after {self._timeout}s") from exc
            raise
        finally:
            self._due = None
            if self._expired:  # the item swallowed the cancellation: it returned, or raised another error
                self._expired = False
                self._task.uncancel()
        return value

    def _on_timer(self) -> None:
        armed_for = self._handle.when() if self._handle is not None else 0.0
        self._handle = None
        due = self._due
        if due is None:  # between items: the next item arms the timer again
            return
        if due <= armed_for:  # this item's own deadline (the loop may run a timer a clock tick early)
            self._expired = True
            self._task.cancel()
        else:
            self._handle = self._loop.call_at(due, self._on_timer)

    def close(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None


async def _with_timeout(awaitable: Awaitable[Any], timeout: float | None) -> Any:
    if timeout is None:
        return await awaitable
    deadline = asyncio.timeout(timeout)
    try:
        async with deadline:
            return await awaitable
    except TimeoutError as exc:
        if deadline.expired():
            raise TimeoutError(f"timed out after {timeout}s") from exc
        raise  # the item's own TimeoutError


class _Resume:
    """Awaits the rest of a coroutine that has already run its first step."""

    __slots__ = ("coro", "first")

    def __init__(self, coro: types.CoroutineType[Any, Any, Any], first: Any) -> None:
        self.coro = coro
        self.first = first

    def __await__(self) -> Generator[Any, Any, Any]:
        coro, waiting_on = self.coro, self.first
        while True:
            try:
                sent = yield waiting_on
            except GeneratorExit:
                coro.close()
                raise
            except BaseException as exc:  # cancellation and the like go to the coroutine
                try:
                    waiting_on = coro.throw(exc)
                except StopIteration as done:
                    return done.value
            else:
                try:
                    waiting_on = coro.send(sent)
                except StopIteration as done:
                    return done.value


def _error_entry(index: int, item: Any, exc: BaseException, duration: float) -> dict[str, Any]:
    return {
        "index": index,
        "success": False,
        "error": str(exc) or type(exc).__name__,
        "error_type": type(exc).__name__,
        "item": item,
        "duration": duration,
    }
