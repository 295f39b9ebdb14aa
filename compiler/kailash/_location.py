"""Where in the user's files a builder call was made (deterministic: no absolute paths)."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from types import FrameType
from typing import Any

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
    frame = _caller_frame()
    return Location(display_path(frame.f_code.co_filename), frame.f_lineno) if frame else Location("<unknown>", 0)


def caller_namespace() -> dict[str, Any] | None:
    """The global namespace of the user's builder call: the workflow file's, however it was imported."""
    frame = _caller_frame()
    return frame.f_globals if frame is not None else None


def _caller_frame() -> FrameType | None:
    frame: FrameType | None = sys._getframe(1)
    while frame is not None:
        if not os.path.abspath(frame.f_code.co_filename).startswith(_PACKAGE_DIR + os.sep):
            return frame
        frame = frame.f_back
    return None
