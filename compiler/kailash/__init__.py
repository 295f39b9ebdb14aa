"""kailash: the AsyncWorkflowBuilder API, compiled to plain asyncio modules by kailash-compile.

``from kailash import compile_workflow, compile_source`` is the compile API
(``kailash.compile_api``); it is imported on first use, so importing the builder does not
load the compiler's back end.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kailash_rt._version import __version__ as __version__

if TYPE_CHECKING:
    from .compile_api import GeneratedModule, compile_source, compile_sources, compile_workflow

_COMPILE_API = ("GeneratedModule", "compile_source", "compile_sources", "compile_workflow")

__all__ = ["GeneratedModule", "__version__", "compile_source", "compile_sources", "compile_workflow"]


def __getattr__(name: str) -> Any:
    if name in _COMPILE_API:
        from . import compile_api

        return getattr(compile_api, name)
    raise AttributeError(f"module 'kailash' has no attribute {name!r}")
