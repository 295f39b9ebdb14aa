"""Where in the user's files a builder call was made (deterministic: no absolute paths)."""

from __future__ import annotations

import os
import sys
from functools import lru_cache
from pathlib import Path

from .ir import Location

_PACKAGE_DIR = str(Path(__file__).resolve().parent)


def display_path(filename: str) -> str:
    """A path for messages and generated files: relative to the working directory when under it."""
    if filename.startswith("<"):
        return filename
    return _display_path(filename, os.getcwd())


@lru_cache(maxsize=256)
def _display_path(filename: str, cwd: str) -> str:
    # Resolving touches the file system for every part of both paths: done once per file
    # and working directory, not once per builder call.
    path = Path(cwd, filename).resolve()
    try:
        return path.relative_to(Path(cwd).resolve()).as_posix()
    except ValueError:
        return path.name


def caller_location() -> Location:
    """The first frame on the stack outside the kailash package: the user's builder call."""
    frame = sys._getframe(1)
    cwd = os.getcwd()
    while frame is not None:
        filename = frame.f_code.co_filename
        if not _in_package(filename, cwd):
            return Location(display_path(filename), frame.f_lineno)
        frame = frame.f_back  # type: ignore[assignment]
    return Location("<unknown>", 0)


@lru_cache(maxsize=256)
def _in_package(filename: str, cwd: str) -> bool:
    return os.path.normpath(os.path.join(cwd, filename)).startswith(_PACKAGE_DIR + os.sep)
