"""IR files: ``<module>.ir.json`` as ``kailash-compile --emit-ir`` writes it, and reading one to compile.

The file is the IR's JSON form (``WorkflowIR.to_json``), indented for review; a secret in it is
an ``{"$env": [variable, kind]}`` reference, never a value. Another tool may write one: reading
checks that the file is JSON, that it is an IR (every field there, each of its type) of a
version this compiler reads, and then what ``build()`` checks of a builder's workflow (unique
ids and names, code that parses, resource settings, the graph). Anything wrong is an
``IRFileError`` naming the file and saying what to do.
"""

from __future__ import annotations

import ast
import dataclasses
import json
import types
import typing
from pathlib import Path
from typing import Any

from kailash_rt._secrets import has_secret

from .analysis.analyse import definition_bindings
from .analysis.graph import check_graph
from .analysis.kinds import KINDS
from .errors import WorkflowError
from .ir import IR_VERSION, READABLE_IR_VERSIONS, EnvRef, InputIR, NodeIR, ResourceIR, WorkflowIR
from .literal_values import first_unwritable
from .python_names import python_identifier
from .resources import ResourceRegistry
from .settings import Settings, settings_of
from .workflow.builder import checked_code

IR_SUFFIX = ".ir.json"

_WRITE_AGAIN = f"write it with kailash-compile SOURCE -o DIR --emit-ir (IR version {IR_VERSION})"
IR_FILE_HINT = f"an IR file holds a workflow as the builder makes it; {_WRITE_AGAIN}"
_SHAPE_HINT = (
    "an IR file is the JSON object kailash-compile --emit-ir writes (ir_version, name, location, description,"
    f" nodes, connections, resources, inputs, definitions); {_WRITE_AGAIN}"
)


class IRFileError(Exception):
    """An IR file that cannot be compiled: the message names the file and what to do."""


def ir_filename(module_name: str) -> str:
    return module_name + IR_SUFFIX


def ir_file_text(ir: WorkflowIR) -> str:
    return ir.to_json(indent=2) + "\n"


def read_ir_file(path: Path) -> WorkflowIR:
    shown = path.as_posix()
    data = _parsed(path, shown)
    if not isinstance(data, dict) or "ir_version" not in data:
        found = "a JSON object without ir_version" if isinstance(data, dict) else f"JSON {_json_type(data)}"
        raise IRFileError(f"{shown}: not a workflow IR: it holds {found}\nhint: {_SHAPE_HINT}")
    version = data["ir_version"]
    if version not in READABLE_IR_VERSIONS or isinstance(version, bool):
        readable = ", ".join(map(str, READABLE_IR_VERSIONS[:-1])) + f" and {READABLE_IR_VERSIONS[-1]}"
        newer = isinstance(version, int) and not isinstance(version, bool) and version > IR_VERSION
        todo = "a newer kailash-compile wrote it: upgrade this one" if newer else _WRITE_AGAIN
        raise IRFileError(
            f"{shown}: IR version {version!r} is not one this compiler reads (it reads {readable})\nhint: {todo}"
        )
    if version in (1, 2):  # no declared inputs or definitions then
        data = {**data, "inputs": data.get("inputs", []), "definitions": data.get("definitions", [])}
    try:
        _check_fields(data, WorkflowIR, "", extra={"ir_version"})
        ir = WorkflowIR.from_dict(data)
    except (_ShapeError, KeyError, TypeError, ValueError) as exc:
        raise IRFileError(f"{shown}: not a workflow IR: {exc}\nhint: {_SHAPE_HINT}") from None
    except RecursionError:
        problem = "its values are nested too deeply"
        raise IRFileError(f"{shown}: not a workflow IR: {problem}\nhint: {_SHAPE_HINT}") from None
    check_as_built(ir)
    return ir


def _parsed(path: Path, shown: str) -> Any:
    try:
        text = path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        raise IRFileError(f"{shown}: no such file") from None
    except UnicodeDecodeError:
        raise IRFileError(f"{shown}: not UTF-8 text, so not an IR file\nhint: {_SHAPE_HINT}") from None
    except OSError as exc:
        raise IRFileError(f"{shown}: cannot read it: {exc.strerror or exc}") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise IRFileError(
            f"{shown}:{exc.lineno}:{exc.colno}: not valid JSON: {exc.msg}\nhint: fix the file, or {_WRITE_AGAIN}"
        ) from None
    except (ValueError, RecursionError) as exc:  # an integer too long to read, nesting too deep
        problem = "nested too deeply" if isinstance(exc, RecursionError) else str(exc)
        hint = f"fix the file, or {_WRITE_AGAIN}"
        raise IRFileError(f"{shown}: not valid JSON for Python: {problem}\nhint: {hint}") from None


def check_as_built(ir: WorkflowIR) -> None:
    """What the builder checks as a workflow is built, for an IR that no builder made."""
    registry = ResourceRegistry()
    first_resources: dict[str, ResourceIR] = {}
    for resource in ir.resources:
        first_resource = first_resources.setdefault(resource.name, resource)
        if first_resource is not resource:
            raise WorkflowError(
                f"resource {resource.name!r} is already declared at {first_resource.location}",
                location=resource.location,
                hint="give every resource a unique name",
            )
        registry.register_declaration(resource)
    first_nodes: dict[str, NodeIR] = {}
    for node in ir.nodes:
        first_node = first_nodes.setdefault(node.node_id, node)
        if first_node is not node:
            raise WorkflowError(
                f"duplicate node id; the first node with this id is at {first_node.location}",
                location=node.location,
                node_id=node.node_id,
                hint="give every node a unique id",
            )
        if node.kind not in KINDS:
            raise WorkflowError(
                f"unknown node kind {node.kind!r}",
                location=node.location,
                node_id=node.node_id,
                hint=f"the kinds this compiler knows: {', '.join(sorted(KINDS))}",
            )
        checked_code(node.code, node.node_id, node.location)
        _check_settings(node)
    _check_inputs(ir)
    _check_definitions(ir)
    check_graph(ir)


def _check_inputs(ir: WorkflowIR) -> None:
    """Declared inputs as ``add_input`` makes them: identifiers, each once, literal defaults that are no secret."""
    seen: dict[str, InputIR] = {}
    for declared in ir.inputs:
        where = f"input {declared.name!r}"
        if python_identifier(declared.name) != declared.name:
            raise WorkflowError(
                f"{where}: the name is not a Python identifier in normal form", location=declared.location
            )
        if declared.name in seen:
            raise WorkflowError(f"{where} is declared twice", location=declared.location)
        seen[declared.name] = declared
        if declared.has_default:
            unwritable = first_unwritable(declared.default)
            if unwritable is not None or has_secret((declared.name,), declared.default):
                why = unwritable.reason if unwritable is not None else "is a secret"
                raise WorkflowError(f"{where}: its default {why}", location=declared.location)


def _check_definitions(ir: WorkflowIR) -> None:
    """A definition to copy is one top-level statement of its kind that binds its name."""
    for definition in ir.definitions:
        where = f"definition {definition.name!r}"
        if definition.kind not in DEFINITION_KINDS:
            raise WorkflowError(f"{where}: unknown kind {definition.kind!r}", location=definition.location)
        if definition.problem is not None:
            continue
        try:
            statements = ast.parse(definition.source).body
        except (SyntaxError, ValueError):
            raise WorkflowError(f"{where}: its source does not parse", location=definition.location) from None
        expected = _DEFINITION_STATEMENTS[definition.kind]
        if len(statements) != 1 or not isinstance(statements[0], expected):
            raise WorkflowError(
                f"{where}: its source is not one {definition.kind} statement", location=definition.location
            )
        if definition.name not in definition_bindings(definition):
            raise WorkflowError(f"{where}: its source does not bind it", location=definition.location)


DEFINITION_KINDS = ("function", "class", "constant", "import", "other")
_DEFINITION_STATEMENTS: dict[str, tuple[type[ast.stmt], ...]] = {
    "function": (ast.FunctionDef, ast.AsyncFunctionDef),
    "class": (ast.ClassDef,),
    "constant": (ast.Assign, ast.AnnAssign),
    "import": (ast.Import, ast.ImportFrom),
    "other": (),
}


def _check_settings(node: NodeIR) -> None:
    """The node's settings as its kind's settings class reads and range-checks them."""
    try:
        settings = settings_of(node, Settings)
    except TypeError as exc:  # a setting the kind does not have
        raise WorkflowError(
            f"the settings of a {node.kind!r} node do not fit it: {exc}",
            location=node.location,
            node_id=node.node_id,
            hint="write the IR again with kailash-compile --emit-ir, or compare it with one that was",
        ) from None
    settings.check(node.node_id, node.location)


# Fields an IR file may leave out (written only when known); every other field must be there.
OPTIONAL_FIELDS = frozenset({"code_line"})


class _ShapeError(Exception):
    """A value of the wrong type at a place in the file; the message says where."""


def _check_fields(data: Any, cls: type[Any], path: str, extra: set[str] | None = None) -> None:
    """``data`` is the JSON object of dataclass ``cls``: each field present and of its type."""
    where = path or "the top level"
    if not isinstance(data, dict):
        raise _ShapeError(f"{where}: expected an object, found {_json_type(data)}")
    hints = typing.get_type_hints(cls)
    fields = [field.name for field in dataclasses.fields(cls)]
    for name in fields:
        if name not in data:
            if name in OPTIONAL_FIELDS:
                continue
            raise _ShapeError(f"{where}: missing field {name!r}")
        _check_value(data[name], hints[name], f"{path}.{name}" if path else name)
    unknown = sorted(set(data) - set(fields) - (extra or set()))
    if unknown:
        raise _ShapeError(f"{where}: unknown field {unknown[0]!r} (an object here has {', '.join(fields)})")


def _check_value(value: Any, hint: Any, path: str) -> None:
    origin = typing.get_origin(hint)
    if hint is Any:
        _check_encoded(value, path)
    elif dataclasses.is_dataclass(hint):
        _check_fields(value, typing.cast(type[Any], hint), path)
    elif origin in (types.UnionType, typing.Union):
        (kind,) = [arg for arg in typing.get_args(hint) if arg is not type(None)]
        if value is not None:
            _check_value(value, kind, path)
    elif origin is tuple:
        if not isinstance(value, list):
            raise _ShapeError(f"{path}: expected an array, found {_json_type(value)}")
        for index, item in enumerate(value):
            _check_value(item, typing.get_args(hint)[0], f"{path}[{index}]")
    elif origin is dict:
        if not isinstance(value, dict) or set(value) & {_TUPLE, _ENV, _INT}:
            raise _ShapeError(f"{path}: expected an object of settings, found {_json_type(value)}")
        _check_encoded(value, path)
    elif not _is_instance(value, hint):
        raise _ShapeError(f"{path}: expected {_JSON_NAMES[hint]}, found {_json_type(value)}")


# A literal value keeps its Python type through JSON as ir.encode_value writes it: these tagged
# objects stand for a tuple, an environment variable reference, a long int, a dict with keys
# that are not strings.
_TUPLE, _ENV, _INT, _ITEMS = "$tuple", "$env", "$int", "$items"


def _check_encoded(value: Any, path: str) -> None:
    if isinstance(value, list):
        for index, item in enumerate(value):
            _check_encoded(item, f"{path}[{index}]")
    elif isinstance(value, dict):
        tag = next(iter(value), None) if len(value) == 1 else None
        if tag == _TUPLE:
            _check_encoded(_expect(value[tag], list, path, "an array of items"), path)
        elif tag == _ENV:
            reference = value[tag]
            if not (
                isinstance(reference, list)
                and len(reference) == 2
                and isinstance(reference[0], str)
                and reference[1] in EnvRef.KINDS
            ):
                kinds = " or ".join(map(repr, EnvRef.KINDS))
                raise _ShapeError(f"{path}: a secret reference is [variable, kind] with kind {kinds}")
        elif tag == _INT:
            text = _expect(value[tag], str, path, "a hexadecimal integer")
            try:
                int(text, 16)
            except ValueError:
                raise _ShapeError(f"{path}: expected a hexadecimal integer, found {text[:40]!r}") from None
        elif tag == _ITEMS:
            for index, pair in enumerate(_expect(value[tag], list, path, "an array of [key, value] pairs")):
                if not (isinstance(pair, list) and len(pair) == 2):
                    raise _ShapeError(f"{path}[{index}]: expected a [key, value] pair")
                _check_encoded(pair, f"{path}[{index}]")
        else:
            for key, item in value.items():
                _check_encoded(item, f"{path}.{key}")


def _expect(value: Any, kind: type, path: str, wanted: str) -> Any:
    if not isinstance(value, kind):
        raise _ShapeError(f"{path}: expected {wanted}, found {_json_type(value)}")
    return value


def _is_instance(value: Any, hint: Any) -> bool:
    if hint is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, hint)


_JSON_NAMES = {str: "a string", int: "an integer", float: "a number", bool: "true or false"}


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true or false"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    return "an array" if isinstance(value, list) else "an object"
