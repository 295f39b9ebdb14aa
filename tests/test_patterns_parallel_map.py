"""Parallel map of the runtime: order, per-item timeout, errors, bounded workers."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Coroutine
from typing import Any

import kailash_rt as rt
import pytest


def run(coro: Coroutine[Any, Any, Any]) -> Any:
    return asyncio.run(coro)


def test_results_keep_input_order_whatever_finishes_first() -> None:
    @rt.parallel_map(max_workers=4)
    async def slow_first(item: int) -> int:
        await asyncio.sleep(0.002 * (10 - item))
        return item * 10

    out = run(slow_first(items=list(range(10))))
    assert out["results"] == [i * 10 for i in range(10)]
    assert out["errors"] == []
    stats = out["statistics"]
    assert (stats["total"], stats["successful"], stats["failed"]) == (10, 10, 0)
    assert stats["average_duration"] > 0


def test_items_that_never_suspend_and_items_that_do_mix() -> None:
    @rt.parallel_map(max_workers=3, timeout_per_item=5)
    async def mixed(item: int) -> int:
        if item % 2:
            await asyncio.sleep(0)
            await asyncio.sleep(0.001)
        return -item

    out = run(mixed(items=list(range(1000))))
    assert out["results"] == [-i for i in range(1000)]


def test_extras_are_passed_to_every_call_as_keywords() -> None:
    @rt.parallel_map(input_field="users", output_field="enriched", max_workers=2)
    async def enrich(user: dict[str, Any], *, bonus: int) -> dict[str, Any]:
        return {**user, "score": user["id"] + bonus}

    out = run(enrich(users=[{"id": 1}, {"id": 2}], bonus=100))
    assert out["enriched"] == [{"id": 1, "score": 101}, {"id": 2, "score": 102}]
    assert "results" not in out


def test_plain_function_runs_in_a_worker_thread() -> None:
    threads: set[int] = set()

    @rt.parallel_map(max_workers=2)
    def upper(item: str) -> str:
        threads.add(threading.get_ident())
        time.sleep(0.001)
        return item.upper()

    out = run(upper(items=["a", "b", "c"]))
    assert out["results"] == ["A", "B", "C"]
    assert threading.get_ident() not in threads


def test_per_item_timeout_records_the_item_and_keeps_the_rest() -> None:
    # The timeout is far longer than a quick item and far shorter than a stuck one, so a
    # loaded machine that pauses the loop cannot time a quick item out.
    @rt.parallel_map(max_workers=5, timeout_per_item=1.0, continue_on_error=True)
    async def sometimes_stuck(item: int) -> int:
        if item in (3, 7):
            await asyncio.sleep(60)
        await asyncio.sleep(0)
        return item

    started = time.perf_counter()
    out = run(sometimes_stuck(items=list(range(10))))
    assert time.perf_counter() - started < 30  # only bounds a hang: the stuck items did not run their minute
    assert out["results"] == [0, 1, 2, 4, 5, 6, 8, 9]
    assert [e["index"] for e in out["errors"]] == [3, 7]
    assert {e["error_type"] for e in out["errors"]} == {"TimeoutError"}
    assert out["errors"][0]["item"] == 3
    assert out["statistics"]["failed"] == 2


class _MovableClockLoop(asyncio.SelectorEventLoop):
    """An event loop whose clock the test moves forward: timers fire by this clock, so a test
    of timeouts states exactly how long each item took, whatever the machine's load."""

    def __init__(self) -> None:
        super().__init__()
        self.moved = 0.0

    def time(self) -> float:
        return super().time() + self.moved

    def move_clock(self, seconds: float) -> None:
        self.moved += seconds


def run_on_movable_clock(coro: Coroutine[Any, Any, Any]) -> Any:
    loop = _MovableClockLoop()
    try:
        return loop.run_until_complete(coro)
    finally:
        loop.close()


def test_each_item_gets_its_whole_timeout_whenever_it_starts() -> None:
    # One worker, a 100 s timeout on a clock the items move: item 1 starts 60 s in, after item
    # 0, and runs past item 0's deadline (the worker's timer fires then and must be re-armed,
    # not cancel item 1); item 2 outlasts its own 100 s and fails as a timeout, naming it.
    @rt.parallel_map(max_workers=1, timeout_per_item=100.0, continue_on_error=True)
    async def steps(item: int) -> int:
        loop = asyncio.get_running_loop()
        assert isinstance(loop, _MovableClockLoop)
        await asyncio.sleep(0)  # suspend first, so the item runs under the timer
        loop.move_clock(300 if item == 2 else 60)
        for _ in range(3):  # let the loop run the timers that are due now
            await asyncio.sleep(0)
        if item == 2:
            await asyncio.sleep(3600)
        return item

    out = run_on_movable_clock(steps(items=[0, 1, 2, 3]))
    assert out["results"] == [0, 1, 3]
    assert [(e["index"], e["error_type"], e["error"]) for e in out["errors"]] == [
        (2, "TimeoutError", "timed out after 100.0s")
    ]


def test_an_item_past_its_deadline_times_out_even_when_its_timer_fires_late() -> None:
    # The loop is held up past the deadline (moved clock): the item's timer runs late, in the
    # same turn as the item's own wake-up, and the item is a timeout, as with asyncio.timeout.
    @rt.parallel_map(max_workers=2, timeout_per_item=10.0, continue_on_error=True)
    async def held_up(item: int) -> int:
        loop = asyncio.get_running_loop()
        assert isinstance(loop, _MovableClockLoop)
        await asyncio.sleep(0)
        if item == 1:
            loop.move_clock(20)
        await asyncio.sleep(1 if item < 2 else 0)  # items 0 and 1: due before the deadline they outlive
        return item

    out = run_on_movable_clock(held_up(items=[0, 1, 2, 3]))
    assert [(e["index"], e["error"]) for e in out["errors"]] == [
        (0, "timed out after 10.0s"),
        (1, "timed out after 10.0s"),
    ]
    assert out["results"] == [2, 3]


def test_an_items_own_timeout_error_and_a_swallowed_timeout_are_the_items() -> None:
    @rt.parallel_map(max_workers=2, timeout_per_item=0.05, continue_on_error=True)
    async def odd(item: int) -> str:
        if item == 0:
            await asyncio.sleep(0)
            raise TimeoutError("the service gave up")
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            return "swallowed"  # as with asyncio.timeout, an item that swallows the cancellation returns
        return "slept"

    async def main() -> tuple[dict[str, Any], int]:
        out = await odd(items=[0, 1])
        task = asyncio.current_task()
        assert task is not None
        return out, task.cancelling()

    out, cancelling = run(main())
    assert out["results"] == ["swallowed"]
    assert [(e["index"], e["error"]) for e in out["errors"]] == [(0, "the service gave up")]
    assert cancelling == 0


def test_an_item_that_turns_its_timeout_into_another_error_leaves_no_cancellation_behind() -> None:
    # One worker runs in the node's own task: the timer's cancellation of that task must be
    # taken back however the item ends, or a later outer cancellation would be taken for a timeout.
    @rt.parallel_map(max_workers=1, timeout_per_item=0.05, continue_on_error=True)
    async def closes(item: int) -> int:
        try:
            await asyncio.sleep(60)
        except asyncio.CancelledError:
            raise ConnectionError("connection closed") from None
        return item

    async def main() -> tuple[dict[str, Any], int]:
        out = await closes(items=[0, 1])
        task = asyncio.current_task()
        assert task is not None
        return out, task.cancelling()

    out, cancelling = run(main())
    assert [(e["index"], e["error_type"]) for e in out["errors"]] == [(0, "ConnectionError"), (1, "ConnectionError")]
    assert cancelling == 0


def test_a_timed_out_item_fails_the_node_without_continue_on_error() -> None:
    @rt.parallel_map(max_workers=3, timeout_per_item=0.05)
    async def stuck(item: int) -> int:
        await asyncio.sleep(30 if item == 4 else 0)
        return item

    with pytest.raises(rt.ItemFailed, match=r"item 4 of 9 failed: TimeoutError: timed out after 0\.05s"):
        run(stuck(items=list(range(9))))


def test_timeout_applies_to_plain_functions_too() -> None:
    released = threading.Event()

    @rt.parallel_map(max_workers=2, timeout_per_item=1.0, continue_on_error=True)
    def blocking(item: int) -> int:
        if item == 1:
            released.wait(30)  # stuck until the run has returned (the bound only ends a hang)
        return item

    try:
        out = run(blocking(items=[0, 1, 2]))
    finally:
        released.set()
    assert out["results"] == [0, 2]
    assert out["errors"][0]["index"] == 1


def test_errors_are_collected_with_continue_on_error() -> None:
    @rt.parallel_map(max_workers=3, continue_on_error=True)
    async def picky(item: int) -> int:
        if item % 4 == 0:
            await asyncio.sleep(0.001)
            raise ValueError(f"bad {item}")
        if item % 4 == 1:
            raise KeyError(item)  # fails before suspending
        return item

    out = run(picky(items=list(range(8))))
    assert out["results"] == [2, 3, 6, 7]
    assert [(e["index"], e["error_type"]) for e in out["errors"]] == [
        (0, "ValueError"),
        (1, "KeyError"),
        (4, "ValueError"),
        (5, "KeyError"),
    ]
    assert out["errors"][0]["error"] == "bad 0"


def test_one_failing_item_fails_the_node_naming_its_index_and_stops_the_rest() -> None:
    started: list[int] = []

    @rt.parallel_map(max_workers=2)
    async def fails_at_three(item: int) -> int:
        started.append(item)
        await asyncio.sleep(0.001)
        if item == 3:
            raise ValueError("no threes")
        return item

    with pytest.raises(rt.ItemFailed, match=r"item 3 of 100 failed: ValueError: no threes") as info:
        run(fails_at_three(items=list(range(100))))
    assert isinstance(info.value.__cause__, ValueError)
    assert len(started) < 10


def test_failure_without_suspending_and_a_single_worker() -> None:
    @rt.parallel_map(max_workers=1)
    async def fails_at_once(item: int) -> int:
        if item == 2:
            raise RuntimeError("two")
        return item

    with pytest.raises(rt.ItemFailed, match="item 2 of 5"):
        run(fails_at_once(items=list(range(5))))


def test_peak_live_tasks_and_concurrency_are_bounded_by_max_workers() -> None:
    running = peak_running = peak_tasks = 0
    baseline = 0

    @rt.parallel_map(max_workers=7, timeout_per_item=5)
    async def track(item: int) -> int:
        nonlocal running, peak_running, peak_tasks
        running += 1
        peak_running = max(peak_running, running)
        peak_tasks = max(peak_tasks, len(asyncio.all_tasks()) - baseline)
        await asyncio.sleep(0.0005)
        running -= 1
        return item

    async def main() -> dict[str, Any]:
        nonlocal baseline
        baseline = len(asyncio.all_tasks())
        return await track(items=list(range(300)))

    out = run(main())
    assert len(out["results"]) == 300
    assert peak_running == 7
    assert peak_tasks <= 7


def test_no_task_is_created_per_item() -> None:
    created = 0

    def counting_factory(loop: asyncio.AbstractEventLoop, coro: Any, **kwargs: Any) -> asyncio.Task[Any]:
        nonlocal created
        created += 1
        return asyncio.Task(coro, loop=loop, **kwargs)

    @rt.parallel_map(max_workers=8, timeout_per_item=5)
    async def suspend(item: int) -> int:
        await asyncio.sleep(0)
        return item

    async def main() -> tuple[dict[str, Any], int]:
        asyncio.get_running_loop().set_task_factory(counting_factory)
        out = await suspend(items=list(range(20_000)))
        return out, created

    out, created_by_map = run(main())
    assert len(out["results"]) == 20_000
    assert created_by_map <= 8


def test_batches_run_one_after_another() -> None:
    finished: list[int] = []
    violations: list[int] = []

    @rt.parallel_map(max_workers=10, batch_size=4)
    async def batched(item: int) -> int:
        batch_start = item - item % 4
        if any(i not in finished for i in range(batch_start)):
            violations.append(item)
        await asyncio.sleep(0.001 * (item % 3))
        finished.append(item)
        return item

    out = run(batched(items=list(range(14))))
    assert out["results"] == list(range(14))
    assert violations == []


def test_a_node_timeout_cancels_the_workers() -> None:
    still_running: list[int] = []

    @rt.node(timeout=0.05)
    @rt.parallel_map(max_workers=3)
    async def stuck(item: int) -> int:
        try:
            await asyncio.sleep(5)
        finally:
            still_running.append(item)
        return item

    async def main() -> None:
        with pytest.raises(TimeoutError):
            await stuck(items=[1, 2, 3, 4])
        await asyncio.sleep(0.01)

    run(main())
    assert sorted(still_running) == [1, 2, 3]  # the three started items were cancelled; the fourth never started


def test_inputs_are_checked() -> None:
    @rt.parallel_map()
    async def noop(item: int) -> int:
        return item

    with pytest.raises(TypeError, match=r"items=\[\.\.\.\]"):
        run(noop())
    with pytest.raises(TypeError, match="list or tuple"):
        run(noop(items="abc"))
    assert run(noop(items=()))["results"] == []
    with pytest.raises(ValueError, match="max_workers"):
        rt.parallel_map(max_workers=0)
    with pytest.raises(ValueError, match="timeout_per_item"):
        rt.parallel_map(timeout_per_item=-1)


def test_map_inside_a_run() -> None:
    @rt.parallel_map(max_workers=3, timeout_per_item=2, continue_on_error=True)
    async def enrich_users(user: dict[str, Any]) -> dict[str, Any]:
        await asyncio.sleep(0.01)
        return {**user, "score": user["id"] * 10}

    async def fetch_users() -> dict[str, Any]:
        return {"users": [{"id": i} for i in range(1, 6)]}

    async def main() -> rt.RunResult:
        async with rt.Run("pipeline") as r:
            users = r.node("fetch_users", fetch_users)
            r.node("enrich_users", enrich_users, items=users["users"])
        return r.result

    result = run(main())
    assert result["errors"] == {}
    assert [u["score"] for u in result["results"]["enrich_users"]["results"]] == [10, 20, 30, 40, 50]


# -- plain-def items: the run's own threads ----------------------------------------------------
def _threads_of(fn_name: str, ran_items: list[threading.Thread]) -> set[threading.Thread]:
    """The threads the parallel maps of ``fn_name`` made, called after the maps returned.

    A map names its threads after its function: the live ones are found by name, the ended
    ones among ``ran_items`` (the threads that ran an item, each added when it began). Live
    threads are listed first: a thread ends only after adding itself, so none that ran an
    item is missed (a thread that ran none and ended has nothing left to check).
    """
    alive = {thread for thread in threading.enumerate() if thread.name == f"parallel_map {fn_name}"}
    return alive | set(ran_items)


def _still_running(threads: list[threading.Thread]) -> list[threading.Thread]:
    """The given threads that have not ended within a generous bound (it only bounds a hang)."""
    deadline = time.monotonic() + 10
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    return [thread for thread in threads if thread.is_alive()]


def test_plain_def_items_run_max_workers_at_once_beyond_the_default_executor() -> None:
    # Every item waits until all 64 are running at once: the loop's default executor, with
    # cpu_count + 4 threads, would break the barrier (its timeout only bounds a hang).
    all_at_once = threading.Barrier(64, timeout=30)

    @rt.parallel_map(max_workers=64)
    def meet(item: int) -> int:
        all_at_once.wait()
        return item

    out = run(meet(items=list(range(64))))
    assert out["results"] == list(range(64))
    assert not all_at_once.broken


def test_plain_def_threads_are_bounded_by_max_workers_and_reused_across_batches() -> None:
    threads: set[int] = set()
    running = peak = 0
    lock = threading.Lock()

    # The first three items wait until all three run at once (the bound only ends a hang).
    first_three = threading.Barrier(3, timeout=30)

    @rt.parallel_map(max_workers=3, batch_size=4)
    def work(item: int) -> int:
        nonlocal running, peak
        threads.add(threading.get_ident())
        with lock:
            running += 1
            peak = max(peak, running)
        if item < 3:
            first_three.wait()
        time.sleep(0.002)
        with lock:
            running -= 1
        return item

    out = run(work(items=list(range(40))))
    assert out["results"] == list(range(40))
    assert peak == 3
    assert len(threads) <= 3


def test_the_item_timer_does_not_count_time_spent_waiting_for_a_thread() -> None:
    # 64 items of 0.2 s at once, each with 1.5 s (far more than its own 0.2 s): queued in
    # rounds on the default executor's cpu + 4 threads, the last ones would have run past
    # their timeout before they even started (on machines of up to 5 cores)
    @rt.parallel_map(max_workers=64, timeout_per_item=1.5, continue_on_error=True)
    def slow(item: int) -> int:
        time.sleep(0.2)
        return item

    out = run(slow(items=list(range(64))))
    assert out["errors"] == []
    assert out["results"] == list(range(64))


def test_a_timed_out_thread_does_not_keep_its_slot() -> None:
    released = threading.Event()

    @rt.parallel_map(max_workers=8, timeout_per_item=1.0, continue_on_error=True)
    def stuck_then_quick(item: int) -> int:
        if item < 8:
            released.wait(30)  # stuck until the run has returned (the bound only ends a hang)
        return item

    started = time.monotonic()
    try:
        out = run(stuck_then_quick(items=list(range(24))))
    finally:
        released.set()
    # Had the quick items waited for the stuck threads' slots, the run would have lasted 30 s.
    assert time.monotonic() - started < 20
    assert [e["index"] for e in out["errors"]] == list(range(8))
    assert {e["error"] for e in out["errors"]} == {"timed out after 1.0s"}
    assert out["results"] == list(range(8, 24))


def test_no_thread_outlives_the_run() -> None:
    # Only the threads of this test's maps are watched: other tests' threads come and go.
    used: list[threading.Thread] = []
    released = threading.Event()

    @rt.parallel_map(max_workers=5, timeout_per_item=1.0, continue_on_error=True)
    def outlives_work(item: int) -> int:
        used.append(threading.current_thread())
        if item == 0:
            released.wait(30)  # stuck until the runs have returned (the bound only ends a hang)
        return item

    try:
        for _ in range(3):
            out = run(outlives_work(items=list(range(20))))
            assert out["results"] == list(range(1, 20))
    finally:
        released.set()
    made = _threads_of("outlives_work", used)
    assert threading.main_thread() not in made
    assert _still_running(list(made)) == []  # the idle ones stop at once, the stuck ones when their items are done

    used.clear()

    @rt.parallel_map(max_workers=4)
    def outlives_failure(item: int) -> int:
        used.append(threading.current_thread())
        time.sleep(0.001)
        if item == 5:
            raise ValueError("five")
        return item

    with pytest.raises(rt.ItemFailed, match="item 5"):
        run(outlives_failure(items=list(range(50))))
    made = _threads_of("outlives_failure", used)
    assert made
    assert _still_running(list(made)) == []


def test_an_item_cancelled_before_its_thread_takes_it_up_is_never_started() -> None:
    # A thread slow to take up its item (a loaded machine) while the item is cancelled (its
    # node failed or timed out): the item must not start after the run has given up on it.
    # The thread is held on a first item so the second is cancelled before it is taken up.
    from kailash_rt._parallel import _ItemThread

    started: list[str] = []
    gate = threading.Event()

    async def main() -> None:
        loop = asyncio.get_running_loop()
        thread = _ItemThread("held")
        try:
            held = thread.start(loop, lambda: gate.wait(30))
            cancelled = thread.start(loop, lambda: started.append("cancelled item"))
            cancelled.cancel()
            gate.set()
            assert await held is True
            assert await thread.start(loop, lambda: "next") == "next"
        finally:
            thread.stop()

    run(main())
    assert started == []


def test_an_items_own_timeout_error_is_not_reported_as_the_item_timer() -> None:
    @rt.parallel_map(max_workers=2, timeout_per_item=5, continue_on_error=True)
    def locked(item: int) -> int:
        if item == 1:
            raise TimeoutError("db lock")
        return item

    @rt.parallel_map(max_workers=2, timeout_per_item=5, continue_on_error=True)
    async def locked_async(item: int) -> int:
        await asyncio.sleep(0.001)
        if item == 1:
            raise TimeoutError("db lock")
        return item

    for node in (locked, locked_async):
        out = run(node(items=[0, 1, 2]))
        assert out["results"] == [0, 2]
        assert [(e["index"], e["error_type"], e["error"]) for e in out["errors"]] == [(1, "TimeoutError", "db lock")]

    @rt.parallel_map(max_workers=2, timeout_per_item=5)
    def locked_strict(item: int) -> int:
        raise TimeoutError("db lock")

    with pytest.raises(rt.ItemFailed, match="item 0 of 1 failed: TimeoutError: db lock"):
        run(locked_strict(items=[0]))


def test_stop_iteration_from_a_plain_def_item_is_an_error_of_that_item() -> None:
    @rt.parallel_map(max_workers=2, timeout_per_item=2, continue_on_error=True)
    def exhausted(item: int) -> int:
        if item == 1:
            return next(iter([]))
        return item

    out = run(exhausted(items=[0, 1, 2]))
    assert out["results"] == [0, 2]
    assert [(e["index"], e["error_type"]) for e in out["errors"]] == [(1, "RuntimeError")]


def test_non_finite_timeout_is_rejected() -> None:
    for value in (float("inf"), float("nan")):
        with pytest.raises(ValueError, match="timeout_per_item"):
            rt.parallel_map(timeout_per_item=value)


@pytest.mark.parametrize("field", ["statistics", "errors"])
def test_an_output_field_the_map_output_has_already_is_refused(field: str) -> None:
    from kailash.errors import WorkflowError
    from kailash.workflow import AsyncWorkflowBuilder

    builder = AsyncWorkflowBuilder("clash")
    with pytest.raises(WorkflowError, match=f"output_field '{field}' is a key the map's output has already"):
        builder.add_parallel_map("m", "def process_item(item):\n    return item", output_field=field)
