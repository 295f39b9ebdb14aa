"""A parallel map whose items record the worker process that ran them (in the ``seen``
directory, an input); each item waits until ``together`` items have started, so with workers
that run one activity at a time, that many workers must share the map."""

from kailash.workflow import AsyncWorkflowBuilder

flow = AsyncWorkflowBuilder("temporal_shared_map")
flow.add_async_code("make_items", "result = {'items': list(range(count))}")
flow.add_parallel_map(
    "run_items",
    """
import os
import pathlib


async def process_item(item):
    pathlib.Path(seen, f"item-{item}").write_text(str(os.getpid()))
    for _ in range(1200):  # at most a minute: the test fails rather than hang
        if len(list(pathlib.Path(seen).iterdir())) >= together:
            break
        await asyncio.sleep(0.05)
    return {"item": item, "square": item * item}
""",
    max_workers=4,
)
flow.add_connection("make_items", "items", "run_items", "items")
