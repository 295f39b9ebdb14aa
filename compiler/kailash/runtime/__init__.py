"""Runtimes: ``from kailash.runtime import AsyncLocalRuntime``."""

from .async_local import AsyncLocalRuntime
from .local import LocalRuntime

__all__ = ["AsyncLocalRuntime", "LocalRuntime"]
