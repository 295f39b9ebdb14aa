"""Where a class was defined, and its source text, however its module was imported.

``inspect.getsource`` finds a class's file through ``sys.modules[cls.__module__]``, so it
fails for a workflow file loaded with ``importlib.util.spec_from_file_location`` (or
``runpy.run_path``) and never registered there, and it reads the wrong file when another
module was registered under the same name. A function defined in the class body knows both
its file (``__code__.co_filename``) and its module's namespace (``__globals__``), which is
where the class lives too: that is what is read first.
"""

from __future__ import annotations

import ast
import inspect
import linecache
import sys
from dataclasses import dataclass
from types import FunctionType
from typing import Any


@dataclass(frozen=True)
class ClassSource:
    text: str  # the class definition with its decorators, as indented in its file
    filename: str | None  # None when no file is known
    line: int  # the line of the ``class`` statement's first decorator, or of ``class``


def defining_namespace(cls: type) -> dict[str, Any]:
    """The global namespace of the module that defined ``cls`` (empty when it cannot be found)."""
    function = _defining_function(cls)
    if function is not None:
        return function.__globals__
    module = sys.modules.get(cls.__module__)
    return vars(module) if module is not None else {}


def class_source(cls: type) -> ClassSource:
    """The source of ``cls``; OSError or TypeError when it cannot be found, as for ``inspect.getsource``."""
    function = _defining_function(cls)
    if function is None:
        lines, start = inspect.getsourcelines(cls)
        return ClassSource("".join(lines), inspect.getsourcefile(cls), start)
    code = function.__code__
    lines = linecache.getlines(code.co_filename, function.__globals__)
    try:
        tree = ast.parse("".join(lines))
    except (SyntaxError, ValueError) as exc:  # the file changed since it was imported
        raise OSError(f"cannot read the source of {cls.__qualname__} in {code.co_filename}") from exc
    definition = _innermost_class(tree, cls.__name__, code.co_firstlineno)
    if definition is None or definition.end_lineno is None:
        raise OSError(f"cannot find the class {cls.__qualname__} in {code.co_filename}")
    start = min([definition.lineno, *(decorator.lineno for decorator in definition.decorator_list)])
    return ClassSource("".join(lines[start - 1 : definition.end_lineno]), code.co_filename, start)


def _defining_function(cls: type) -> FunctionType | None:
    """A function written in the class body (a method, classmethod or staticmethod), if any."""
    for value in vars(cls).values():
        function = getattr(value, "__func__", value)
        try:
            function = inspect.unwrap(function) if callable(function) else function
        except ValueError:  # a cycle of __wrapped__
            continue
        if (
            isinstance(function, FunctionType)
            and function.__globals__.get("__name__") == cls.__module__
            and function.__qualname__.startswith(f"{cls.__qualname__}.")
        ):
            return function
    return None


def _innermost_class(tree: ast.AST, name: str, line: int) -> ast.ClassDef | None:
    """The innermost ``class name`` statement whose lines hold ``line``."""
    found: ast.ClassDef | None = None
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.ClassDef)
            and node.name == name
            and node.end_lineno is not None
            and node.lineno <= line <= node.end_lineno
            and (found is None or node.lineno > found.lineno)
        ):
            found = node
    return found
