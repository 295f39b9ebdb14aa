"""The Temporal target: the same plan as the asyncio target, as a durable Temporal workflow module."""
