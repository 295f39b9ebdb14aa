"""The builder API of the guide: ``from kailash.workflow import AsyncWorkflowBuilder, ...``."""

from .builder import AsyncWorkflowBuilder, WorkflowBuilder
from .patterns import AsyncPatterns
from .policies import AsyncRetryPolicy, ErrorHandler, RetryPolicy
from .workflow import Workflow

__all__ = [
    "AsyncPatterns",
    "AsyncRetryPolicy",
    "AsyncWorkflowBuilder",
    "ErrorHandler",
    "RetryPolicy",
    "Workflow",
    "WorkflowBuilder",
]
