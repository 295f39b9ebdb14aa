"""Finding workflows: ``path/to/file.py``, ``path/to/file.py:attr``, ``package.module:attr``, or
``path/to/file.ir.json`` (an IR file, as ``--emit-ir`` writes it or another tool makes it)."""

from __future__ import annotations

import hashlib
import importlib
import importlib.machinery
import importlib.util
import os
import sys
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import CodeType, ModuleType
from typing import Any

from ._location import _PACKAGE_DIR
from .errors import TemplateError, WorkflowError
from .ir import NodeIR, WorkflowIR
from .workflow import Workflow, WorkflowBuilder
from .workflow.policies import WORKFLOW_FILE_MODULE_PREFIX

_IMPORTLIB_DIR = os.path.dirname(os.path.abspath(importlib.__file__))


class SourceError(Exception):
    """A SOURCE that cannot be loaded or holds no workflow; ``cause`` is set for import failures."""

    def __init__(self, message: str, cause: BaseException | None = None) -> None:
        super().__init__(message)
        self.cause = cause


@dataclass(frozen=True)
class FoundWorkflow:
    source: str  # the SOURCE argument it came from
    attribute: str
    workflow: Workflow


@dataclass(frozen=True)
class FoundIR:
    label: str  # where it came from, for messages: "flows.py:first", "out/first.ir.json"
    ir: WorkflowIR
    ir_file: str | None = None  # the IR file it was read from; None for a workflow a builder made


def load_irs(source: str) -> list[FoundIR]:
    """The IR of every workflow SOURCE names: read from an IR file, or built by the workflows it defines."""
    target, _, attribute = _split(source)
    if not is_ir_file(target):
        return [FoundIR(f"{found.source}:{found.attribute}", found.workflow.ir) for found in load_workflows(source)]
    if attribute:
        raise SourceError(f"{source}: an IR file holds one workflow; name the file without :{attribute}")
    from .ir_files import IRFileError, read_ir_file  # its checks load the analysis: only for IR files

    try:
        return [FoundIR(target, read_ir_file(Path(target)), target)]
    except IRFileError as exc:
        raise SourceError(str(exc)) from None
    except WorkflowError as exc:  # what the builder would have refused
        raise SourceError(f"{target}: {exc}") from exc


def is_ir_file(target: str) -> bool:
    """A SOURCE naming a JSON file is an IR file (``.ir.json`` is what --emit-ir writes)."""
    return target.endswith(".json")


@contextmanager
def compiling(found: FoundIR) -> Iterator[None]:
    """For a workflow read from an IR file: its errors name the file, and an IR the compiler cannot
    handle is a SourceError, not a traceback. Such an IR was not made by the builder, so it may
    hold what the builder refuses (a pattern's settings of the wrong type, say)."""
    if found.ir_file is None:
        yield
        return
    try:
        yield
    except WorkflowError as exc:
        raise SourceError(f"{found.ir_file}: {exc}") from exc
    except TemplateError:
        raise
    except Exception as exc:
        from .ir_files import IR_FILE_HINT

        node = _node_being_compiled(exc)
        where = f"{node.location}: node {node.node_id!r} (kind {node.kind!r}): " if node is not None else ""
        problem = f"it has no {exc.args[0]!r}" if isinstance(exc, KeyError) else f"{type(exc).__name__}: {exc}"
        raise SourceError(
            f"{found.ir_file}: {where}this IR cannot be compiled ({problem})"
            f"\nhint: {IR_FILE_HINT} (--verbose shows where the compiler failed)"
        ) from exc


def _node_being_compiled(exc: BaseException) -> NodeIR | None:
    """The node the compiler was working on when ``exc`` was raised: the innermost frame that has one."""
    found = None
    for frame, _ in traceback.walk_tb(exc.__traceback__):
        nodes = [value for value in frame.f_locals.values() if isinstance(value, NodeIR)]
        found = nodes[0] if len(nodes) == 1 else found
    return found


def load_workflows(source: str) -> list[FoundWorkflow]:
    target, _, attribute = _split(source)
    from .block_record import kept_for  # what it imports, the compile that follows needs

    with kept_for(_workflow_file(target)):  # the code blocks its last run checked are not checked again
        return _load_workflows(source, target, attribute)


def _load_workflows(source: str, target: str, attribute: str) -> list[FoundWorkflow]:
    module = _import(target)
    if attribute:
        if not hasattr(module, attribute):
            raise SourceError(f"{source}: {target} has no attribute {attribute!r}")
        value = getattr(module, attribute)
        if callable(value) and not isinstance(value, (WorkflowBuilder, Workflow)):
            try:
                value = value()
            except BaseException as exc:
                raise _import_failure(source, exc, "calling it") from exc
        found = _workflows_in({attribute: value}, source, strict_type=True)
    else:
        found = _workflows_in(vars(module), source, strict_type=False)
    if not found:
        raise SourceError(
            f"{source}: no workflow found; define a module-level AsyncWorkflowBuilder (or WorkflowBuilder) or Workflow,"
            " or name one with SOURCE:attribute"
        )
    return found


def _split(source: str) -> tuple[str, str, str]:
    return source.partition(":") if not _is_drive(source) else (source, "", "")


def _is_drive(source: str) -> bool:
    """``C:\\path\\file.py`` on Windows: the colon of a drive letter is not ``:attr``."""
    return os.name == "nt" and len(source) > 2 and source[1] == ":" and source[2] in "\\/"


def _workflow_file(target: str) -> Path | None:
    """The file a target names (the file need not exist); None for a module name."""
    return Path(target) if target.endswith(".py") or "/" in target or Path(target).is_file() else None


def _import(target: str) -> ModuleType:
    path = _workflow_file(target)
    if path is not None:
        if not path.is_file():
            raise SourceError(f"{target}: no such file")
        digest = hashlib.sha256(str(path.resolve()).encode()).hexdigest()[:16]
        name = f"{WORKFLOW_FILE_MODULE_PREFIX}{digest}"
        spec = importlib.util.spec_from_file_location(name, path, loader=_FromSource(name, str(path)))
        if spec is None or spec.loader is None:
            raise SourceError(f"{target}: cannot be imported as a Python file")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        directory = str(path.resolve().parent)
        sys.path.insert(0, directory)
        try:
            spec.loader.exec_module(module)
        except BaseException as exc:
            del sys.modules[name]
            raise _import_failure(target, exc) from exc
        finally:
            sys.path.remove(directory)
        return module
    try:
        return importlib.import_module(target)
    except BaseException as exc:
        raise _import_failure(target, exc) from exc


class _FromSource(importlib.machinery.SourceFileLoader):
    """Loads a workflow file from its text, never from a ``__pycache__`` file: Python checks a
    cached file against the source's size and modification time in whole seconds, so an edit
    that keeps the size within the second of the last save would compile the file as it was."""

    def get_code(self, fullname: str) -> CodeType:
        return self.source_to_code(self.get_data(self.path), self.path)


def _import_failure(target: str, exc: BaseException, doing: str = "importing it") -> Exception:
    _drop_loader_frames(exc)

    if isinstance(exc, WorkflowError):
        return exc
    if isinstance(exc, (KeyboardInterrupt, SystemExit)):
        return SourceError(f"{target}: {doing} exited ({type(exc).__name__})", exc)
    return SourceError(f"{target}: {doing} raised {type(exc).__name__}: {exc}", exc)


def _drop_loader_frames(exc: BaseException) -> None:
    """Start the traceback at the user's code: drop the frames of this module and of importlib."""
    tb = exc.__traceback__
    while tb is not None and _is_loader_frame(tb.tb_frame.f_code.co_filename):
        tb = tb.tb_next
    exc.__traceback__ = tb


def _is_loader_frame(filename: str) -> bool:
    path = os.path.abspath(filename)
    return filename.startswith("<frozen ") or path.startswith((_PACKAGE_DIR + os.sep, _IMPORTLIB_DIR + os.sep))


def _workflows_in(namespace: dict[str, Any], source: str, *, strict_type: bool) -> list[FoundWorkflow]:
    """Module-level builders and workflows; a builder and a workflow built from it count once."""
    values: list[Any] = []
    for attribute, value in namespace.items():
        items = value if isinstance(value, (list, tuple)) and strict_type else [value]
        for item in items:
            if isinstance(item, (WorkflowBuilder, Workflow)):
                values.append((attribute, item))
            elif strict_type:
                raise SourceError(f"{source}: {attribute!r} is a {type(item).__name__}, not a workflow or builder")
    built_from = {id(v.builder) for _, v in values if isinstance(v, Workflow)}
    found: list[FoundWorkflow] = []
    seen: set[int] = set()
    for attribute, value in values:
        if id(value) in seen:
            continue
        seen.add(id(value))
        if isinstance(value, WorkflowBuilder):
            if id(value) in built_from:
                continue
            value = value.build()
        found.append(FoundWorkflow(source, attribute, value))
    return found
