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
    frame = sys._getframe(1)
    while frame is not None:
        filename = frame.f_code.co_filename
        if not os.path.abspath(filename).startswith(_PACKAGE_DIR + os.sep):
            return Location(display_path(filename), frame.f_lineno)
        frame = frame.f_back  # type: ignore[assignment]
    return Location("<unknown>", 0)
