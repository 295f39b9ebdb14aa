"""Runtimes: ``from kailash.runtime import AsyncLocalRuntime``."""

from .async_local import AsyncLocalRuntime

__all__ = ["AsyncLocalRuntime"]
