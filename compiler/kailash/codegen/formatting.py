"""Validation and formatting (black) of source chunks, cached by content.

Black formats each top-level statement on its own, so formatting the chunks of a module
one by one and joining them with two blank lines gives the same text as formatting the
whole module; a chunk whose text did not change is neither re-validated nor
re-formatted. The cache lives in memory and on disk (``$KAILASH_COMPILE_CACHE``, else
``~/.cache/kailash-compile``), keyed by the chunk text and the black version. Chunks
that miss the cache are formatted in worker processes when there are many of them and
the caller allows it (the CLI does; the in-process runtime formats in its own process).

Validation is CPython's own parser (``compile``) on every chunk before black sees it; a
chunk that does not parse is a compiler bug, reported with the chunk.
"""

from __future__ import annotations

import contextlib
import hashlib
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import black

from .._files import write_atomically
from .._lru import LRU
from ..errors import CompilerBug

MODE = black.Mode(target_versions={black.TargetVersion.PY311}, line_length=88)  # as render.LINE_LENGTH
_KEY_PREFIX = f"black {black.__version__} {MODE.get_cache_key()}\n".encode()
# Formatted chunks by key, in memory: the most recently used only (a chunk is about a node).
_memory: LRU[str, str] = LRU(8192)
# Below this many cache misses, starting worker processes costs more than it saves.
PARALLEL_MISSES = 64


def cache_dir() -> Path | None:
    configured = os.environ.get("KAILASH_COMPILE_CACHE")
    if configured == "":
        return None  # an empty value turns the disk cache off
    return Path(configured) if configured else Path.home() / ".cache" / "kailash-compile"


@dataclass(frozen=True)
class BlockChunk:
    """A top-level chunk with a long block: ``skeleton`` has one ``pass`` line at ``depth``
    where ``statements`` go.

    Black formats each statement of a block on its own, so the statements are formatted in
    groups (nested in ``if`` blocks of the same depth) and cached per group: a long
    ``run()`` is neither one slow black call nor re-formatted whole when one line changes.
    """

    skeleton: str
    statements: tuple[str, ...]
    depth: int

    def pieces(self) -> list[str]:
        """The texts black formats: the skeleton, then each group of statements in its nesting."""
        opening = "".join("    " * level + "if _:\n" for level in range(self.depth))
        indent = "    " * self.depth
        groups = [
            self.statements[i : i + STATEMENTS_PER_GROUP] for i in range(0, len(self.statements), STATEMENTS_PER_GROUP)
        ]
        return [self.skeleton] + [opening + "".join(_indented(s, indent) for s in group) for group in groups]

    def assemble(self, formatted: list[str]) -> str:
        skeleton, groups = formatted[0], formatted[1:]
        if not groups:
            return skeleton
        body = "".join(group.split("\n", self.depth)[self.depth] for group in groups)
        placeholder = "    " * self.depth + "pass\n"
        head, found, tail = skeleton.partition(placeholder)
        if not found:
            raise CompilerBug(f"no placeholder line in the formatted block:\n{skeleton}")
        return head + body + tail


STATEMENTS_PER_GROUP = 50


def _indented(statement: str, indent: str) -> str:
    return "".join(indent + line + "\n" for line in statement.strip("\n").split("\n"))


def format_chunks(chunks: list[str | BlockChunk], *, jobs: int = 1) -> str:
    """The formatted module: every chunk validated and black-formatted, joined as black would."""
    pieces = [chunk.pieces() if isinstance(chunk, BlockChunk) else [chunk] for chunk in chunks]
    texts = [text for group in pieces for text in group]
    keys = [hashlib.sha256(_KEY_PREFIX + text.encode()).hexdigest() for text in texts]
    formatted = {key: found for key in keys if (found := _cached(key)) is not None}
    misses = {key: text for key, text in zip(keys, texts, strict=True) if key not in formatted}
    if misses:
        fresh = _format_many(list(misses.values()), jobs)
        for key, text in zip(misses, fresh, strict=True):
            _store(key, text)
            formatted[key] = text
    done = iter(formatted[key] for key in keys)
    out = []
    for chunk, group in zip(chunks, pieces, strict=True):
        results = [next(done) for _ in group]
        out.append(chunk.assemble(results) if isinstance(chunk, BlockChunk) else results[0])
    return "\n\n".join(text.rstrip("\n") + "\n" for text in out)


def format_chunk(chunk: str) -> str:
    return format_chunks([chunk])


def _format_many(chunks: list[str], jobs: int) -> list[str]:
    if jobs > 1 and len(chunks) >= PARALLEL_MISSES and "fork" in multiprocessing.get_all_start_methods():
        context = multiprocessing.get_context("fork")  # workers inherit the imported black
        with ProcessPoolExecutor(max_workers=jobs, mp_context=context) as pool:
            return list(pool.map(_validate_and_format, chunks, chunksize=max(1, len(chunks) // (jobs * 8))))
    return [_validate_and_format(chunk) for chunk in chunks]


def _cached(key: str) -> str | None:
    found = _memory.get(key)
    if found is None:
        path = _disk_path(key)
        if path is not None:
            try:
                found = _memory[key] = path.read_text(encoding="utf-8")
            except OSError:
                return None
    return found


def _store(key: str, text: str) -> None:
    _memory[key] = text
    path = _disk_path(key)
    if path is not None:
        _write_quietly(path, text)


def _disk_path(key: str) -> Path | None:
    directory = cache_dir()
    return directory / key[:2] / key if directory else None


def _validate_and_format(chunk: str) -> str:
    try:
        compile(chunk, "<generated>", "exec", dont_inherit=True)
    except SyntaxError as exc:
        raise CompilerBug(
            f"the generated code does not parse ({exc}); this is a kailash-compile bug:\n{chunk}"
        ) from exc
    try:
        return black.format_str(chunk, mode=MODE)
    except black.InvalidInput as exc:
        raise CompilerBug(f"black cannot format the generated code ({exc}):\n{chunk}") from exc


def _write_quietly(path: Path, text: str) -> None:
    """Cache writes are best effort and atomic: a reader never sees half a file."""
    with contextlib.suppress(OSError):
        write_atomically(path, text)
