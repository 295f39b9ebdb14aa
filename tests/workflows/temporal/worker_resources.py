"""A resource in the worker process: the file LEDGER_FILE names records when the resource is
created, used and closed, so a test sees one creation shared by every activity of a worker."""

import os
import pathlib

from kailash.resources import ResourceFactory
from kailash.workflow import AsyncWorkflowBuilder


class Ledger(ResourceFactory):
    """Appends lines to the file LEDGER_FILE names; the line "closed" when closed."""

    async def create(self) -> pathlib.Path:
        path = pathlib.Path(os.environ["LEDGER_FILE"])
        with path.open("a") as ledger:
            ledger.write(f"created {os.getpid()}\n")
        return path

    async def cleanup(self, resource: pathlib.Path) -> None:
        with resource.open("a") as ledger:
            ledger.write("closed\n")


flow = AsyncWorkflowBuilder("temporal_worker_resources")
flow.require_resource("ledger", Ledger())
first = flow.add_async_code("first", "ledger.open('a').write('used\\n')\nresult = {'step': 1}")
second = flow.add_async_code("second", "ledger.open('a').write('used\\n')\nresult = {'step': step + 1}")
flow.add_connection(first, "step", second, "step")
