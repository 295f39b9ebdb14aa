"""Validation (libcst) and formatting (black) of source chunks, cached by content.

Black formats each top-level statement on its own, so formatting the chunks of a module
one by one and joining them with two blank lines gives the same text as formatting the
whole module; a chunk whose text did not change is neither re-validated nor
re-formatted. The cache lives in memory and on disk (``$KAILASH_COMPILE_CACHE``, else
``~/.cache/kailash-compile``), keyed by the chunk text and the black version.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

import black
import libcst

from ..errors import CompilerBug

MODE = black.Mode(target_versions={black.TargetVersion.PY311}, line_length=88)
_KEY_PREFIX = f"black {black.__version__} {MODE.get_cache_key()}\n".encode()
_memory: dict[str, str] = {}


def cache_dir() -> Path | None:
    configured = os.environ.get("KAILASH_COMPILE_CACHE")
    if configured == "":
        return None  # an empty value turns the disk cache off
    return Path(configured) if configured else Path.home() / ".cache" / "kailash-compile"


def format_chunks(chunks: list[str]) -> str:
    """The formatted module: every chunk validated and black-formatted, joined as black would."""
    return "\n\n\n".join(format_chunk(chunk).rstrip("\n") + "\n" for chunk in chunks).replace("\n\n\n\n", "\n\n\n")


def format_chunk(chunk: str) -> str:
    key = hashlib.sha256(_KEY_PREFIX + chunk.encode()).hexdigest()
    found = _memory.get(key)
    if found is not None:
        return found
    directory = cache_dir()
    path = directory / key[:2] / key if directory else None
    if path is not None:
        try:
            found = path.read_text(encoding="utf-8")
        except OSError:
            found = None
    if found is None:
        found = _validate_and_format(chunk)
        if path is not None:
            _write_quietly(path, found)
    _memory[key] = found
    return found


def _validate_and_format(chunk: str) -> str:
    try:
        libcst.parse_module(chunk)
        compile(chunk, "<generated>", "exec", dont_inherit=True)
    except (libcst.ParserSyntaxError, SyntaxError) as exc:
        raise CompilerBug(f"the generated code does not parse ({exc}); this is a kailash-compile bug:\n{chunk}") from exc
    try:
        return black.format_str(chunk, mode=MODE)
    except black.InvalidInput as exc:
        raise CompilerBug(f"black cannot format the generated code ({exc}):\n{chunk}") from exc


def _write_quietly(path: Path, text: str) -> None:
    """Cache writes are best effort and atomic: a reader never sees half a file."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile("w", encoding="utf-8", dir=path.parent, delete=False) as handle:
            handle.write(text)
        os.replace(handle.name, path)
    except OSError:
        pass
