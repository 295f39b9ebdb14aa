"""require_resource: a resource made by a ResourceFactory defined beside the workflow (inlined in the module)."""

import itertools

from kailash.resources import ResourceFactory
from kailash.workflow import AsyncWorkflowBuilder


class TicketNumbers(ResourceFactory):
    """Ticket numbers counting up from ``start``; the token would authorise a real ticket service."""

    def __init__(self, start: int = 1, token: str = "") -> None:
        self.start = start
        self.token = token

    async def create(self) -> itertools.count:
        return itertools.count(self.start)


builder = AsyncWorkflowBuilder("factory_resource")
builder.require_resource("tickets", TicketNumbers(start=100, token="kinds-golden-factory-secret"))

builder.add_async_code("next_ticket", "result = next(tickets)")
