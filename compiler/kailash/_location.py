"""Where in the user's files a builder call was made (deterministic: no absolute paths)."""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from types import FrameType
from typing import Any

from .ir import Location

_PACKAGE_DIR = str(Path(__file__).resolve().parent)
_REAL_PATHS: dict[str, str] = {}  # display path -> the file it names, as builder calls were seen


# Set while the command line (or the compile API) works for a project whose root it knows.
_display_root: ContextVar[Path | None] = ContextVar("kailash_display_root", default=None)


def display_path(filename: str) -> str:
    """A path for messages and generated files: relative to the project root when under it
    (``kailash.config``: the directory of the pyproject.toml configuring kailash-compile, or
    else the working directory), so a module does not depend on where it was compiled from."""
    if filename.startswith("<"):
        return filename
    cwd = os.getcwd()
    return _display_path(filename, cwd, display_root(cwd))


@functools.lru_cache(maxsize=256)
def _display_path(filename: str, cwd: str, root: Path) -> str:
    # Resolving touches the file system for every part of the path: done once per file,
    # working directory and root, not once per builder call.
    path = Path(cwd, filename).resolve()
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return path.name


def display_root(cwd: str | None = None) -> Path:
    """The project root paths are shown relative to; ``cwd``: the working directory, when known."""
    root = _display_root.get()
    return root if root is not None else _project_root(os.getcwd() if cwd is None else cwd)


@contextmanager
def paths_relative_to(root: Path) -> Iterator[None]:
    """Within the block, ``display_path`` gives paths relative to ``root``."""
    token = _display_root.set(root.resolve())
    try:
        yield
    finally:
        _display_root.reset(token)


@functools.lru_cache(maxsize=16)
def _project_root(cwd: str) -> Path:
    from .config import project_root

    return project_root(Path(cwd))


def caller_location() -> Location:
    """The first frame on the stack outside the kailash package: the user's builder call."""
    cwd = os.getcwd()  # once per call: the frames' files and the shown path are read against it
    frame = _caller_frame(cwd)
    if frame is None:
        return Location("<unknown>", 0)
    filename = frame.f_code.co_filename
    shown = filename if filename.startswith("<") else _display_path(filename, cwd, display_root(cwd))
    _REAL_PATHS[shown] = filename
    return Location(shown, frame.f_lineno)


def real_path(shown: str) -> str | None:
    """The file a display path names: one a builder call was seen in, else that path under the
    project root if it is there."""
    if shown in _REAL_PATHS:
        return _REAL_PATHS[shown]
    if shown.startswith("<"):
        return None
    path = display_root() / shown
    return str(path) if path.is_file() else None


def caller_file() -> str:
    """The absolute path of the user's file that made the builder call (``<...>`` when there is none)."""
    frame = _caller_frame(os.getcwd())
    filename = frame.f_code.co_filename if frame is not None else "<unknown>"
    return filename if filename.startswith("<") else os.path.abspath(filename)


def caller_namespace() -> dict[str, Any] | None:
    """The global namespace of the user's builder call: the workflow file's, however it was imported."""
    frame = _caller_frame(os.getcwd())
    return frame.f_globals if frame is not None else None


def _caller_frame(cwd: str) -> FrameType | None:
    """The innermost frame whose code is outside the kailash package (file names read against ``cwd``)."""
    frame: FrameType | None = sys._getframe(1)
    while frame is not None:
        if not _in_package(frame.f_code.co_filename, cwd):
            return frame
        frame = frame.f_back
    return None


@functools.lru_cache(maxsize=256)
def _in_package(filename: str, cwd: str) -> bool:
    return os.path.normpath(os.path.join(cwd, filename)).startswith(_PACKAGE_DIR + os.sep)
