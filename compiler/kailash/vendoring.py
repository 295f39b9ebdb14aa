"""``--vendor-runtime``: the installed ``kailash_rt`` package, as files to write beside the modules.

A directory holding the generated modules and this copy runs on a bare Python
(``python -S -E -s out/<name>.py``): the module imports ``kailash_rt`` from its own directory.
The files are the installed package's bytes, listed in a fixed order, so vendoring is as
deterministic as compiling.
"""

from __future__ import annotations

from pathlib import Path

import kailash_rt

PACKAGE = "kailash_rt"
# What a copy of the package consists of: its modules (any subpackage's too) and its type marker.
_SUFFIXES = (".py",)
_NAMES = ("py.typed",)


def runtime_files() -> list[tuple[str, str]]:
    """``(path relative to the output directory, text)`` of each file of the installed package."""
    package = Path(kailash_rt.__file__).resolve().parent
    files = []
    for path in sorted(package.rglob("*"), key=lambda p: p.relative_to(package).as_posix()):
        relative = path.relative_to(package)
        if "__pycache__" in relative.parts or not path.is_file():
            continue
        if path.suffix in _SUFFIXES or path.name in _NAMES:
            # Bytes decoded as they are: no newline translation, so the copy is byte-identical.
            files.append((f"{PACKAGE}/{relative.as_posix()}", path.read_bytes().decode("utf-8")))
    return files
