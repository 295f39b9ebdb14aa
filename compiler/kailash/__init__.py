"""kailash: the AsyncWorkflowBuilder API, compiled to plain asyncio modules by kailash-compile."""

__version__ = "0.1.0"
