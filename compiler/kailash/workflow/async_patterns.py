"""The reference SDK's module path of the patterns: ``from kailash.workflow.async_patterns import
AsyncPatterns`` keeps working. The guide's path is ``kailash.workflow``."""

from .patterns import AsyncPatterns

__all__ = ["AsyncPatterns"]
