"""The import a generated module needs for a retry exception named by a dotted path.

``pkg.Outer.Inner`` (a class nested in a class, as ``exception_name`` spells it from
``__module__`` and ``__qualname__``) lives in module ``pkg``, not ``pkg.Outer``: the
module part is the longest prefix that imports as a module and from which the rest of the
name is a chain of attributes, as the builder found when it checked the name.
"""

from __future__ import annotations

import builtins
import importlib
from typing import Any

from ..ir import NodeIR
from ..settings import RetryWithBackoffSettings, settings_of


def is_workflow_file_name(name: str) -> bool:
    """Does a retry exception's name stand for a class the workflow file defines (a bare name
    that is not a built-in)? Its definition is copied into the module, which imports nothing for it."""
    return "." not in name and not hasattr(builtins, name)


def exception_module(name: str) -> str | None:
    """The module to import so that ``name`` evaluates to the exception; None for a builtin or
    a class of the workflow file.

    Without an importable prefix (a workflow IR compiled where the package is missing) it
    is the part before the last dot, the usual ``module.Class``.
    """
    if "." not in name:
        return None
    parts = name.split(".")
    for split in range(len(parts) - 1, 0, -1):
        module_name = ".".join(parts[:split])
        try:
            value: Any = importlib.import_module(module_name)
        except Exception:  # any failure to import means: not this prefix
            continue
        try:
            for attribute in parts[split:]:
                value = getattr(value, attribute)
        except AttributeError:
            continue
        return module_name
    return name.rsplit(".", 1)[0]


def retry_exception_names(node: NodeIR) -> list[str]:
    """The exceptions a node retries on: its retry policy's and the retry pattern's."""
    names = list(node.retry.retry_on) if node.retry else []
    if node.kind == "retry_with_backoff":
        names += settings_of(node, RetryWithBackoffSettings).retry_on
    return names


def exception_imports(node: NodeIR) -> tuple[str, ...]:
    """``import <module>`` lines for the node's retry exceptions, sorted."""
    modules = {exception_module(name) for name in retry_exception_names(node)}
    return tuple(sorted(f"import {module}" for module in modules if module is not None))
