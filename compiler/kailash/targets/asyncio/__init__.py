"""The asyncio target: a standalone module that runs the workflow with ``kailash_rt``."""

from __future__ import annotations

from .render import render_chunks

__all__ = ["render_chunks"]
