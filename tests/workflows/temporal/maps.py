"""Parallel maps on Temporal: batches, an item that fails with and without continue_on_error,
and (with a small fan-out limit set by the test) items mapped in slices."""

from kailash.workflow import AsyncWorkflowBuilder

ITEM = """
async def process_item(number):
    if number == failing:
        raise ValueError(f"bad {number}")
    return {"number": number, "double": number * 2}
"""

flow = AsyncWorkflowBuilder("temporal_maps")
flow.add_async_code("make_items", "result = {'items': list(range(10))}")
flow.add_parallel_map("lenient", ITEM, max_workers=2, batch_size=4, continue_on_error=True)
flow.add_parallel_map("strict", ITEM, max_workers=3, continue_on_error=False)
flow.add_connection("make_items", "items", "lenient", "items")
flow.add_connection("make_items", "items", "strict", "items")
