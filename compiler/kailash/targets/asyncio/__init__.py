"""The asyncio target: a standalone module that runs the workflow with ``kailash_rt``.

Its emitter is ``render.render_chunks``. The package itself imports nothing, so importing any
of its modules does not pull in the pipeline around it.
"""
