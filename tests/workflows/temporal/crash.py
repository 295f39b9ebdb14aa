"""Two nodes in a row, each counting its runs in a file of the ``counts`` directory (an
input); the second holds for ``hold`` seconds, long enough to kill its worker meanwhile."""

from kailash.workflow import AsyncWorkflowBuilder

flow = AsyncWorkflowBuilder("temporal_crash")
flow.add_async_code(
    "first",
    """
import pathlib
with pathlib.Path(counts, "first").open("a") as tally:
    tally.write("ran\\n")
result = {"value": 21}
""",
)
flow.add_async_code(
    "second",
    """
import pathlib
with pathlib.Path(counts, "second").open("a") as tally:
    tally.write("ran\\n")
await asyncio.sleep(hold)
result = {"value": value * 2}
""",
)
flow.add_connection("first", "value", "second", "value")
