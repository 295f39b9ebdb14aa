"""Typed policy objects of the guide: RetryPolicy, AsyncRetryPolicy, ErrorHandler.

They check their own values and turn into IR (exception classes become importable names).
"""

from __future__ import annotations

import builtins
import importlib
import sys
from collections.abc import Sequence
from typing import Any

from .._location import caller_location, caller_namespace
from ..checks import check_number
from ..errors import WorkflowError
from ..ir import FallbackIR, RetryIR
from ..literal_values import is_literal

ExceptionSpec = type[BaseException] | str

# Workflow files loaded by path are imported under module names with this prefix (see sources.py).
WORKFLOW_FILE_MODULE_PREFIX = "_kailash_source_"

_LOG_LEVELS = ("debug", "info", "warning", "error", "critical")
_HANDLER_TYPES = ("fallback",)


class RetryPolicy:
    """Retry up to ``max_retries`` times after the first try, backing off from ``base_delay``."""

    def __init__(
        self,
        max_retries: int = 3,
        base_delay: float = 1.0,
        max_delay: float | None = 60.0,
        retry_on: Sequence[ExceptionSpec] | None = None,
        backoff_factor: float = 2.0,
    ) -> None:
        check_number("max_retries", max_retries, integer=True, minimum=0)
        check_number("base_delay", base_delay)
        if max_delay is not None:
            check_number("max_delay", max_delay)
        check_number("backoff_factor", backoff_factor)
        self.max_retries = max_retries
        self.base_delay = base_delay
        self.max_delay = max_delay
        self.backoff_factor = backoff_factor
        self.retry_on = list(retry_on or [])

    def __repr__(self) -> str:
        return (
            f"RetryPolicy(max_retries={self.max_retries!r}, base_delay={self.base_delay!r},"
            f" max_delay={self.max_delay!r}, retry_on={self.retry_on!r})"
        )

    def to_ir(self) -> RetryIR:
        return RetryIR(
            attempts=self.max_retries + 1,
            delay=float(self.base_delay),
            backoff=float(self.backoff_factor),
            max_delay=None if self.max_delay is None else float(self.max_delay),
            retry_on=tuple(exception_name(e) for e in self.retry_on),
        )


class AsyncRetryPolicy:
    """Try up to ``max_attempts`` times in all, backing off from ``initial_delay``."""

    def __init__(
        self,
        max_attempts: int = 3,
        initial_delay: float = 1.0,
        retry_exceptions: Sequence[ExceptionSpec] | None = None,
        backoff_multiplier: float = 2.0,
        max_delay: float | None = 60.0,
    ) -> None:
        check_number("max_attempts", max_attempts, integer=True, minimum=1)
        check_number("initial_delay", initial_delay)
        check_number("backoff_multiplier", backoff_multiplier)
        if max_delay is not None:
            check_number("max_delay", max_delay)
        self.max_attempts = max_attempts
        self.initial_delay = initial_delay
        self.backoff_multiplier = backoff_multiplier
        self.max_delay = max_delay
        self.retry_exceptions = list(retry_exceptions or [])

    def __repr__(self) -> str:
        return (
            f"AsyncRetryPolicy(max_attempts={self.max_attempts!r}, initial_delay={self.initial_delay!r},"
            f" retry_exceptions={self.retry_exceptions!r})"
        )

    def to_ir(self) -> RetryIR:
        return RetryIR(
            attempts=self.max_attempts,
            delay=float(self.initial_delay),
            backoff=float(self.backoff_multiplier),
            max_delay=None if self.max_delay is None else float(self.max_delay),
            retry_on=tuple(exception_name(e) for e in self.retry_exceptions),
        )


class ErrorHandler:
    """On failure, log at ``log_level`` and use ``fallback_value`` as the node's output."""

    def __init__(
        self,
        handler_type: str = "fallback",
        fallback_value: Any = None,
        log_level: str = "warning",
    ) -> None:
        if handler_type not in _HANDLER_TYPES:
            raise WorkflowError(
                f"ErrorHandler handler_type must be one of {_HANDLER_TYPES}, not {handler_type!r}",
                location=caller_location(),
            )
        if not isinstance(log_level, str) or log_level.lower() not in _LOG_LEVELS:
            raise WorkflowError(
                f"ErrorHandler log_level must be one of {_LOG_LEVELS}, not {log_level!r}", location=caller_location()
            )
        if not is_literal(fallback_value):
            raise WorkflowError(
                "ErrorHandler fallback_value must be a plain literal (None, bool, number, str,"
                f" list, dict, tuple of those), not {type(fallback_value).__name__}",
                location=caller_location(),
                hint="the fallback value is written into the generated module as a literal",
            )
        self.handler_type = handler_type
        self.fallback_value = fallback_value
        self.log_level = log_level.lower()

    def __repr__(self) -> str:
        return (
            f"ErrorHandler({self.handler_type!r}, fallback_value={self.fallback_value!r}, log_level={self.log_level!r})"
        )

    def to_ir(self) -> FallbackIR:
        return FallbackIR(value=self.fallback_value, log_level=self.log_level)


def exception_name(spec: ExceptionSpec) -> str:
    """An exception class or name as the name a generated module can import."""
    if isinstance(spec, str):
        return spec
    if isinstance(spec, type) and issubclass(spec, BaseException):
        if spec.__module__ == "builtins":
            return spec.__qualname__
        if _in_workflow_file(spec):
            raise ValueError(
                f"exception {spec.__qualname__} is defined in the workflow file, which a compiled module"
                " cannot import; define it in a module the workflow file imports"
            )
        return f"{spec.__module__}.{spec.__qualname__}"
    raise ValueError(f"retry exceptions must be exception classes or their names, not {spec!r}")


def _in_workflow_file(cls: type) -> bool:
    """Is ``cls`` defined in the workflow file making the builder call, however that file was
    imported (by path under any module name, as a module, as ``__main__``)? A class of a file
    loaded by path and never registered in ``sys.modules`` counts too: nothing can import it."""
    module = cls.__module__
    if module == "__main__" or module.startswith(WORKFLOW_FILE_MODULE_PREFIX) or sys.modules.get(module) is None:
        return True
    namespace = caller_namespace()
    return namespace is not None and namespace.get("__name__") == module


def resolve_exception(name: str) -> type[BaseException]:
    """The exception class a name refers to; ValueError saying why when there is none."""
    if "<locals>" in name or name.startswith(("__main__.", WORKFLOW_FILE_MODULE_PREFIX)):
        raise ValueError(f"exception {name!r} is not importable; define it in a module the workflow imports")
    if "." not in name:
        found = getattr(builtins, name, None)
        if not (isinstance(found, type) and issubclass(found, BaseException)):
            raise ValueError(f"{name!r} is not a built-in exception")
        return found
    parts = name.split(".")
    for split in range(len(parts) - 1, 0, -1):
        try:
            value: Any = importlib.import_module(".".join(parts[:split]))
        except ImportError:
            continue
        try:
            for attribute in parts[split:]:
                value = getattr(value, attribute)
        except AttributeError:
            break
        if isinstance(value, type) and issubclass(value, BaseException):
            return value
        break
    raise ValueError(f"{name!r} does not name an importable exception class")
