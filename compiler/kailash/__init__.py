"""kailash: the AsyncWorkflowBuilder API, compiled to plain asyncio modules by kailash-compile."""

from kailash_rt._version import __version__ as __version__
