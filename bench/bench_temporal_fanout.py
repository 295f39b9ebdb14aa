"""A Temporal parallel map at several fan-out limits: how long a run of many no-op items takes,
and how many events its history holds, side by side.

Above ``FANOUT_LIMIT`` items a parallel map runs as at most that many activities, each
mapping a consecutive slice of the items; this prints what each limit costs per run and in
history events (Temporal warns at 10,240 events a run and refuses more than 51,200). One dev
server, one worker in this process, ``max_workers=10``. Needs the dev extra.

    python bench/bench_temporal_fanout.py [ITEMS [SECONDS_AN_ITEM]]
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import time
import uuid
from typing import Any

from _common import load_source
from bench_temporal import connect, start_server
from kailash.targets.temporal.compile import compile_temporal
from kailash.workflow import AsyncWorkflowBuilder

ITEMS = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
ITEM_SECONDS = float(sys.argv[2]) if len(sys.argv) > 2 else 0.0  # each item sleeps this long (a thread)
LIMITS = (1000, 250, 100, 50)
RUNS = 3


def map_builder() -> AsyncWorkflowBuilder:
    builder = AsyncWorkflowBuilder("temporal_bench_fanout")
    builder.add_async_code("items", f"result = {{'items': list(range({ITEMS}))}}")
    item = f"def process_item(item):\n    time.sleep({ITEM_SECONDS})\n    return item * 2\n"
    builder.add_parallel_map("double", item, max_workers=10)
    builder.add_connection("items", "items", "double", "items")
    return builder


async def measure(address: str, limit: int) -> tuple[float, int, int]:
    """Median seconds a run, the history's events and the activities one run schedules."""
    import kailash_rt.temporal as rtt
    from kailash_rt.temporal import _workflow

    _workflow.FANOUT_LIMIT = limit  # read by the workflow when it slices the items
    module = load_source(f"temporal_bench_fanout_{limit}", compile_temporal(map_builder().build().ir).source)
    client = await connect(address)
    queue = f"{module.TASK_QUEUE}-{limit}"
    worker = rtt.worker_for(client, module, module.Workflow, module.NODES, queue)
    times = []
    async with worker:
        for _ in range(RUNS):
            workflow_id = f"fanout-{limit}-{uuid.uuid4().hex}"
            start = time.perf_counter()
            result: dict[str, Any] = await client.execute_workflow(
                module.Workflow.run, {}, id=workflow_id, task_queue=queue
            )
            times.append(time.perf_counter() - start)
            assert result["results"]["double"]["results"] == [item * 2 for item in range(ITEMS)]
    history = await client.get_workflow_handle(workflow_id).fetch_history()
    scheduled = sum(1 for event in history.events if event.HasField("activity_task_scheduled_event_attributes"))
    return statistics.median(times), len(history.events), scheduled


def main() -> None:
    server, address = start_server()
    try:
        rows = [(limit, *asyncio.run(measure(address, limit))) for limit in LIMITS]
    finally:
        server.terminate()
        server.wait()
    base_time, base_events = rows[0][1], rows[0][2]
    what = f"items sleeping {ITEM_SECONDS} s" if ITEM_SECONDS else "no-op items"
    print(f"parallel map of {ITEMS} {what}, max_workers=10, median of {RUNS} runs (one dev server):")
    for limit, seconds, events, activities in rows:
        print(
            f"  FANOUT_LIMIT {limit:5}: {activities:5} activities a run  {seconds:7.2f} s a run"
            f" ({seconds / base_time:.2f}x)  {events:6} history events ({events / base_events:.2f}x)"
        )


if __name__ == "__main__":
    main()
