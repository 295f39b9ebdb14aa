"""The reference SDK's module path of the builder: ``from kailash.workflow.async_builder import
AsyncWorkflowBuilder`` keeps working. The guide's path is ``kailash.workflow``."""

from .builder import AsyncWorkflowBuilder
from .policies import ErrorHandler, RetryPolicy

__all__ = ["AsyncWorkflowBuilder", "ErrorHandler", "RetryPolicy"]
