"""How a compiled module rebuilds a custom ResourceFactory: by import, or from its source.

A factory class from an importable module is referenced by import. A class defined in the
workflow file itself (which the compiled module must not import) has its source copied
into the module, together with import lines for the names that source reads. The
constructor arguments recorded by ``ResourceFactory.__new__`` are bound to the parameter
names of ``__init__`` so the module passes them by keyword (and secrets by variable).
"""

from __future__ import annotations

import ast
import builtins
import importlib.machinery
import inspect
import symtable
import sys
import textwrap
from types import ModuleType
from typing import Any

from kailash_rt import ResourceFactory

from ..errors import WorkflowError
from ..ir import Location

_LITERAL_SCALARS = (type(None), bool, int, float, str)


def describe_factory(name: str, factory: Any, location: Location) -> dict[str, Any]:
    """The settings of a ``factory`` resource: class reference, arguments, and source when inlined."""
    if isinstance(factory, type):
        raise WorkflowError(
            f"resource {name!r}: pass a factory object, not the class {factory.__name__}",
            location=location,
            hint=f"require_resource({name!r}, {factory.__name__}(...))",
        )
    if not isinstance(factory, ResourceFactory):
        raise WorkflowError(
            f"resource {name!r}: {type(factory).__name__} is not a ResourceFactory",
            location=location,
            hint="subclass kailash.resources.ResourceFactory and implement async create()",
        )
    cls = type(factory)
    args, kwargs = _bound_arguments(cls, factory.init_args, factory.init_kwargs)
    for label, value in [*((f"argument {i + 1}", a) for i, a in enumerate(args)), *kwargs.items()]:
        if not _is_literal(value):
            raise WorkflowError(
                f"resource {name!r}: {cls.__name__} argument {label!r} is a {type(value).__name__},"
                " which a compiled module cannot rebuild",
                location=location,
                hint="pass plain values (str, int, float, bool, None, lists and dicts of them)"
                " and build richer objects inside create()",
            )
    module_name = cls.__module__
    settings: dict[str, Any] = {
        "class_name": cls.__name__,
        "module": None,
        "args": list(args),
        "kwargs": kwargs,
        "source": None,
        "imports": [],
    }
    if _importable(cls):
        settings["module"] = module_name
        settings["imports"] = [f"from {module_name} import {cls.__name__}"]
    else:
        source, imports = _inline_source(name, cls, location)
        settings["source"] = source
        settings["imports"] = imports
    return settings


def _bound_arguments(cls: type, args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[list[Any], dict[str, Any]]:
    """Arguments by parameter name where the signature allows; the rest stay positional."""
    try:
        signature = inspect.signature(cls.__init__)  # type: ignore[misc]
        bound = signature.bind(None, *args, **kwargs)
    except (TypeError, ValueError):
        return list(args), dict(kwargs)
    positional: list[Any] = []
    named: dict[str, Any] = {}
    params = list(signature.parameters.values())[1:]
    for param in params:
        if param.name not in bound.arguments:
            continue
        value = bound.arguments[param.name]
        if param.kind is param.POSITIONAL_ONLY:
            positional.append(value)
        elif param.kind is param.VAR_POSITIONAL:
            positional.extend(value)
        elif param.kind is param.VAR_KEYWORD:
            named.update(value)
        elif positional:  # a parameter after positional-only ones: keep the order
            positional.append(value)
        else:
            named[param.name] = value
    return positional, named


def _is_literal(value: Any) -> bool:
    if isinstance(value, _LITERAL_SCALARS):
        return not isinstance(value, float) or value == value  # NaN cannot round-trip through JSON
    if isinstance(value, (list, tuple)):
        return all(_is_literal(v) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and _is_literal(v) for k, v in value.items())
    return False


def _importable(cls: type) -> bool:
    """Can a compiled module do ``from <module> import <Class>`` and get this very class?"""
    module_name = cls.__module__
    if module_name == "__main__" or "<locals>" in cls.__qualname__ or cls.__qualname__ != cls.__name__:
        return False
    module = sys.modules.get(module_name)
    if module is None or getattr(module, cls.__name__, None) is not cls:
        return False
    origin = module_origin(module_name)
    return origin is not None and origin == getattr(module, "__file__", None)


def module_origin(module_name: str) -> str | None:
    """The file ``import <module_name>`` would load from ``sys.path``, ignoring ``sys.modules``.

    A workflow file imported by path under a made-up name has no such file: its classes
    must be copied into the compiled module, not imported.
    """
    path: list[str] | None = None
    spec = None
    for part in module_name.split("."):
        try:
            spec = importlib.machinery.PathFinder.find_spec(part, path)
        except (ImportError, ValueError):
            return None
        if spec is None:
            return None
        path = list(spec.submodule_search_locations or [])
    return spec.origin if spec is not None else None


def _inline_source(name: str, cls: type, location: Location) -> tuple[str, list[str]]:
    try:
        source = textwrap.dedent(inspect.getsource(cls))
    except (OSError, TypeError):
        raise WorkflowError(
            f"resource {name!r}: the source of {cls.__name__} cannot be found, so it cannot be compiled",
            location=location,
            hint="define the factory class in a .py file (or an importable module)",
        ) from None
    module = sys.modules.get(cls.__module__)
    namespace = vars(module) if module is not None else {}
    imports: list[str] = []
    runtime_names: set[str] = set()
    for free in _free_names(source, cls.__name__):
        if hasattr(builtins, free):
            continue
        if free not in namespace:
            raise WorkflowError(
                f"resource {name!r}: {cls.__name__} reads {free!r}, which its module does not define",
                location=location,
            )
        if namespace[free] is ResourceFactory:
            runtime_names.add(free)
        else:
            imports.append(_import_line(name, cls, free, namespace[free], location))
    return _renamed(source, runtime_names, "rt.ResourceFactory"), sorted(set(imports))


def _renamed(source: str, names: set[str], replacement: str) -> str:
    """``source`` with every read of one of ``names`` replaced by ``replacement`` (the module's ``rt``)."""
    if not names:
        return source
    lines = source.splitlines(keepends=True)
    spots = sorted(
        (
            (node.lineno, node.col_offset, node.end_col_offset)
            for node in ast.walk(ast.parse(source))
            if isinstance(node, ast.Name) and node.id in names
        ),
        reverse=True,
    )
    for line, start, end in spots:
        raw = lines[line - 1].encode("utf-8")  # ast offsets count UTF-8 bytes
        lines[line - 1] = (raw[:start] + replacement.encode() + raw[end:]).decode("utf-8")
    return "".join(lines)


def _free_names(source: str, class_name: str) -> list[str]:
    """Module-level names the class definition reads (bases, decorators, method bodies)."""
    table = symtable.symtable(source, "<factory>", "exec")
    found: set[str] = set()
    stack = [table]
    while stack:
        scope = stack.pop()
        for symbol in scope.get_symbols():
            name = symbol.get_name()
            if scope is table:
                if symbol.is_referenced() and name != class_name:
                    found.add(name)
            elif symbol.is_global() and symbol.is_referenced():
                found.add(name)
        stack.extend(scope.get_children())
    order = [n.id for n in ast.walk(ast.parse(source)) if isinstance(n, ast.Name)]
    return sorted(found, key=lambda n: order.index(n) if n in order else len(order))


def _import_line(name: str, cls: type, free: str, value: Any, location: Location) -> str:
    if isinstance(value, ModuleType):
        module = value.__name__
        if module.split(".")[0] == "kailash":
            raise _unrebuildable(name, cls, free, location, "the kailash compiler package")
        if module == free:
            return f"import {module}"
        if "." in module:
            parent, leaf = module.rsplit(".", 1)
            if leaf == free:
                return f"from {parent} import {leaf}"
        return f"import {module} as {free}"
    module_name = getattr(value, "__module__", None)
    qualname = getattr(value, "__qualname__", None)
    if isinstance(module_name, str) and qualname == getattr(value, "__name__", None) and module_name != "__main__":
        home = sys.modules.get(module_name)
        if (
            home is not None
            and getattr(home, str(qualname), None) is value
            and module_name.split(".")[0] != "kailash"
            and module_origin(module_name) == getattr(home, "__file__", None)
        ):
            alias = "" if qualname == free else f" as {free}"
            return f"from {module_name} import {qualname}{alias}"
    return _raise(_unrebuildable(name, cls, free, location, "the workflow file"))


def _unrebuildable(name: str, cls: type, free: str, location: Location, where: str) -> WorkflowError:
    return WorkflowError(
        f"resource {name!r}: {cls.__name__} reads {free!r}, which comes from {where}; the compiled module"
        " cannot import it",
        location=location,
        hint="move it into the factory class, import it inside create(), or put the factory in an importable module",
    )


def _raise(error: WorkflowError) -> str:
    raise error
