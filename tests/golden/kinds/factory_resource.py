"""factory_resource: compiled workflow. Do not edit; edit the workflow and compile again.

Source: tests/workflows/kinds/factory_resource.py
Inputs: none
Resources: tickets (TicketNumbers)
Environment variables: TICKETS_TOKEN
Requires: kailash-rt 0.1.0 or newer
    pip install "kailash-rt>=0.1.0"
"""

import itertools
from collections.abc import Mapping
from typing import Any

import kailash_rt as rt

rt.require_version("0.1.0", __name__)


class TicketNumbers(rt.ResourceFactory):
    """Ticket numbers counting up from ``start``; the token would authorise a real ticket service."""

    def __init__(self, start: int = 1, token: str = "") -> None:
        self.start = start
        self.token = token

    async def create(self) -> itertools.count:
        return itertools.count(self.start)


# Created on first use in a run and closed when the run ends. Every setting can be overridden
# from the environment as <RESOURCE>_<SETTING> (e.g. TICKETS_START).
RESOURCES = rt.Resources(
    tickets=rt.factory(TicketNumbers, start=100, token=rt.env("TICKETS_TOKEN"))
)


# node "next_ticket"
async def next_ticket(tickets: Any) -> Any:
    result = next(tickets)
    return result


# Where each node's code is in the workflow file; kailash_rt names the line in a note on an
# exception raised in that code. {function: (node id, file line of code line 1, runs of
# "lines=code line", lines counted from the function's first line)}
SOURCE_LINES = (
    "tests/workflows/kinds/factory_resource.py",
    {
        "next_ticket": ("next_ticket", 23, "1=1"),
    },
)


async def run(
    inputs: Mapping[str, Any] | None = None,
    *,
    resources: Mapping[str, Any] | None = None,
) -> rt.RunResult:
    """Run the workflow once: {"results": {node_id: output}, "errors": {node_id: message}}."""
    async with rt.Run("factory_resource", inputs, resources, declared=RESOURCES) as r:
        r.node("next_ticket", next_ticket, tickets=r.resource("tickets"))
    return r.result


if __name__ == "__main__":
    rt.main(run)
