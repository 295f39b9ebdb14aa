"""Where in the user's files a builder call was made (deterministic: no absolute paths)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from .ir import Location

_PACKAGE_DIR = str(Path(__file__).resolve().parent)


def display_path(filename: str) -> str:
    """A path for messages and generated files: relative to the working directory when under it."""
    if filename.startswith("<"):
        return filename
    path = Path(filename).resolve()
    try:
        return path.relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return path.name


def caller_location() -> Location:
    """The first frame on the stack outside the kailash package: the user's builder call."""
    found = _caller()
    return Location(display_path(found[0]), found[1]) if found is not None else Location("<unknown>", 0)


def caller_file() -> str:
    """The absolute path of the user's file that made the builder call (``<...>`` when there is none)."""
    found = _caller()
    filename = found[0] if found is not None else "<unknown>"
    return filename if filename.startswith("<") else os.path.abspath(filename)


def _caller() -> tuple[str, int] | None:
    frame = sys._getframe(2)
    while frame is not None:
        filename = frame.f_code.co_filename
        if not os.path.abspath(filename).startswith(_PACKAGE_DIR + os.sep):
            return filename, frame.f_lineno
        frame = frame.f_back  # type: ignore[assignment]
    return None
