"""How a compiled module rebuilds a custom ResourceFactory: by import, or from its source.

A factory class from an importable module is referenced by import. A class defined in the
workflow file itself (which the compiled module must not import) has its source copied
into the module, together with import lines for the names that source reads. The
constructor arguments recorded by ``ResourceFactory.__new__`` are bound to the parameter
names of ``__init__`` so the module passes them by keyword (and secrets by variable).

Copied source must not carry a secret either: a secret default of the inlined class's
``__init__`` (``def __init__(self, token="...")``) is passed as an argument instead (so the
module reads it from ``<RESOURCE>_TOKEN``) and written as ``None`` in the copy; any other
secret literal in the class (an attribute, a keyword argument, a dict entry, a URL with
a password) is a WorkflowError naming its line.
"""

from __future__ import annotations

import ast
import builtins
import importlib.machinery
import inspect
import sys
import textwrap
from collections.abc import Iterator, Sequence
from types import ModuleType
from typing import Any

from kailash_rt import ResourceFactory
from kailash_rt._secrets import has_secret, is_secret

from ..errors import WorkflowError
from ..ir import Location
from ..literal_values import first_unwritable
from ..module_reads import module_names_read
from .class_source import ClassSource, class_source, defining_namespace


def describe_factory(
    name: str, factory: Any, location: Location, *, workflow_namespace: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The settings of a ``factory`` resource: class reference, arguments, and source when inlined.

    A class defined in the workflow file (whose namespace is ``workflow_namespace``) is copied
    however that file was imported (by path under any module name, or as a module); it is
    imported from the file only when it cannot be copied and the file is importable.
    """
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
        found = first_unwritable(value)
        if found is not None:
            inside = f" (at {'.'.join(found.path)})" if found.path else ""
            raise WorkflowError(
                f"resource {name!r}: {cls.__name__} argument {label!r}{inside} {found.reason},"
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
    importable = _importable(cls)
    in_workflow_file = workflow_namespace is not None and defining_namespace(cls) is workflow_namespace
    if importable and not in_workflow_file:
        return {**settings, "module": module_name, "imports": [f"from {module_name} import {cls.__name__}"]}
    try:
        return {**settings, **_copied(name, cls, kwargs, location)}
    except WorkflowError:
        if not importable:
            raise
    # Copying failed, and the workflow file is importable under its module name: import from it then.
    return {**settings, "module": module_name, "imports": [f"from {module_name} import {cls.__name__}"]}


def _copied(name: str, cls: type, kwargs: dict[str, Any], location: Location) -> dict[str, Any]:
    """The settings of a factory whose class source is copied into the module."""
    definition = _found_source(name, cls, location)
    source, imports = _inline_source(name, cls, textwrap.dedent(definition.text), location)
    source, defaults = _secret_defaults_removed(source, set(kwargs))
    _check_no_secret_literal(name, cls, source, definition, location)
    return {"kwargs": {**kwargs, **defaults}, "source": source, "imports": imports}


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
    # With values for *args, every parameter before it must be passed by position.
    by_position = any(p.kind is p.VAR_POSITIONAL and bound.arguments.get(p.name) for p in params)
    for param in params:
        if param.name not in bound.arguments:
            continue
        value = bound.arguments[param.name]
        if param.kind is param.POSITIONAL_ONLY or (param.kind is param.POSITIONAL_OR_KEYWORD and by_position):
            positional.append(value)
        elif param.kind is param.VAR_POSITIONAL:
            positional.extend(value)
        elif param.kind is param.VAR_KEYWORD:
            named.update(value)
        else:
            named[param.name] = value
    return positional, named


def _secret_defaults_removed(source: str, passed: set[str]) -> tuple[str, dict[str, Any]]:
    """``source`` with the secret defaults of the class's own ``__init__`` written as ``None``,
    and those defaults by parameter name (to be passed as arguments instead).

    Parameters the factory was constructed with already (``passed``) are skipped too: the
    module always passes them, so their defaults are never used, but they are still secret.
    """
    tree = ast.parse(source)
    cls = tree.body[0] if tree.body and isinstance(tree.body[0], ast.ClassDef) else None
    init = next((f for f in (cls.body if cls else []) if isinstance(f, ast.FunctionDef) and f.name == "__init__"), None)
    if init is None:
        return source, {}
    arguments = init.args
    positional = [*arguments.posonlyargs, *arguments.args]
    with_default = positional[len(positional) - len(arguments.defaults) :]
    pairs = [
        # a positional-only parameter cannot be passed by name: its secret default is refused later
        *((p, d) for p, d in zip(with_default, arguments.defaults, strict=True) if p not in arguments.posonlyargs),
        *zip(arguments.kwonlyargs, arguments.kw_defaults, strict=True),
    ]
    spans: list[tuple[ast.expr, str]] = []
    defaults: dict[str, Any] = {}
    for param, default in pairs:
        if default is None:
            continue
        try:
            value = ast.literal_eval(default)
        except (ValueError, TypeError, SyntaxError, RecursionError):
            continue
        if has_secret((param.arg,), value):
            spans.append((default, "None"))
            if param.arg not in passed:
                defaults[param.arg] = value
    return _replaced(source, spans), defaults


def _check_no_secret_literal(name: str, cls: type, source: str, found: ClassSource, location: Location) -> None:
    """A secret written as a literal in the class source would be copied into the module."""
    for (what, key), value in _named_literals(ast.parse(source)):
        if not (isinstance(value, ast.Constant) and is_secret((key,), value.value)):
            continue
        line = found.line + value.lineno - 1
        where = f"{found.filename}:{line}" if found.filename is not None else f"line {value.lineno} of the class"
        label = f"{what} {key!r}" if key else "a URL holding a password or key"
        raise WorkflowError(
            f"resource {name!r}: {label} in {cls.__name__} ({where}) is a secret, which the compiled module"
            " would contain: the class source is copied into it",
            location=location,
            hint="pass the secret as an argument of the factory (the compiled module then reads it from"
            " the environment), or read os.environ inside create()",
        )


def secret_literals(source: str) -> Iterator[tuple[str, int]]:
    """The secrets written as literals in ``source`` (code copied into a compiled module): a
    description of each ("the value of 'API_TOKEN'") and its line in ``source``."""
    for (what, key), value in _named_literals(ast.parse(source)):
        if isinstance(value, ast.Constant) and is_secret((key,), value.value):
            yield (f"{what} {key!r}" if key else "a URL holding a password or key"), value.lineno


def _named_literals(tree: ast.AST) -> Iterator[tuple[tuple[str, str], ast.expr]]:
    """Values in ``tree`` with the name they are given: defaults, assignments, keyword
    arguments, dict entries; and every other string constant (under the name "")."""
    named: set[int] = set()
    for node in ast.walk(tree):
        pairs: list[tuple[tuple[str, str], ast.expr | None]] = []
        if isinstance(node, ast.arguments):
            params = [*node.posonlyargs, *node.args]
            with_default = params[len(params) - len(node.defaults) :]
            pairs += [(("the default of", p.arg), d) for p, d in zip(with_default, node.defaults, strict=True)]
            pairs += [(("the default of", p.arg), d) for p, d in zip(node.kwonlyargs, node.kw_defaults, strict=True)]
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            for target in node.targets if isinstance(node, ast.Assign) else [node.target]:
                target_name = target.id if isinstance(target, ast.Name) else getattr(target, "attr", None)
                if isinstance(target_name, str):
                    pairs.append((("the value of", target_name), node.value))
        elif isinstance(node, ast.keyword) and node.arg is not None:
            pairs.append((("argument", node.arg), node.value))
        elif isinstance(node, ast.Dict):
            pairs += [
                (("the entry", k.value), v)
                for k, v in zip(node.keys, node.values, strict=True)
                if isinstance(k, ast.Constant) and isinstance(k.value, str)
            ]
        for what, value in pairs:
            if value is not None:
                named.add(id(value))
                yield what, value
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in named:
            yield ("the string", ""), node


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


def _found_source(name: str, cls: type, location: Location) -> ClassSource:
    try:
        return class_source(cls)
    except (OSError, TypeError):
        raise WorkflowError(
            f"resource {name!r}: the source of {cls.__name__} cannot be found, so it cannot be compiled",
            location=location,
            hint="define the factory class in a .py file (or an importable module)",
        ) from None


def _inline_source(name: str, cls: type, source: str, location: Location) -> tuple[str, list[str]]:
    namespace = defining_namespace(cls)
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
    spots = [
        (node, replacement) for node in ast.walk(ast.parse(source)) if isinstance(node, ast.Name) and node.id in names
    ]
    return _replaced(source, spots)


def _replaced(source: str, spans: Sequence[tuple[ast.expr, str]]) -> str:
    """``source`` with the text of each expression replaced."""
    if not spans:
        return source
    raw = source.encode("utf-8")  # ast offsets count UTF-8 bytes
    starts = [0]
    for line in raw.splitlines(keepends=True):
        starts.append(starts[-1] + len(line))
    edits = sorted(
        (
            (starts[node.lineno - 1] + node.col_offset, starts[node.end_lineno - 1] + node.end_col_offset, text)
            for node, text in spans
            if node.end_lineno is not None and node.end_col_offset is not None
        ),
        reverse=True,
    )
    for start, end, text in edits:
        raw = raw[:start] + text.encode("utf-8") + raw[end:]
    return raw.decode("utf-8")


def _free_names(source: str, class_name: str) -> list[str]:
    """Module-level names the class definition reads (bases, decorators, method bodies)."""
    return module_names_read(source, {class_name}, nested_too=False)


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
