"""Formatting (black) of source chunks, cached by content.

Black formats each top-level statement on its own, so formatting the chunks of a module one
by one and joining them with two blank lines gives the same text as formatting the whole
module; a chunk whose text did not change is not formatted again. The cache lives in memory
and on disk (``$KAILASH_COMPILE_CACHE``, else ``~/.cache/kailash-compile``, bounded: see
disk_cache.py), keyed by the chunk text and the black version. An entry read from disk is
used only when it provably is the formatting of its chunk (see ``_from_disk``); any other
entry is ignored and rewritten. Chunks that miss the cache are formatted through their
shapes, black once per shape (shapes.py), a long display in groups of elements
(long_literals.py); black runs in worker processes when there are many shapes and the caller
allows it (the CLI does; the in-process runtime formats in its own process).

What is formatted here is validated by whoever joins it: the compile pipelines compile the
module (or each new chunk) with CPython before anything is written, and text black cannot
read is a compiler bug, reported with the chunk.
"""

from __future__ import annotations

import ast
import contextlib
import hashlib
import itertools
import os
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from .. import black_helper
from .._files import write_atomically
from .._lru import LRU
from ..compile_state import black_version
from ..errors import CompilerBug
from ..style import LINE_LENGTH
from .disk_cache import maybe_prune, read_entry
from .equivalence import is_formatting_of

if TYPE_CHECKING:
    from concurrent.futures import ProcessPoolExecutor

    import black

# black is imported only when a chunk is not in the cache: its version names the format.
_KEY_PREFIX = f"black {black_version()} target py311 line-length {LINE_LENGTH}\n".encode()


@lru_cache(maxsize=1)
def black_mode() -> black.Mode:
    """The black mode of every generated module (importing black, which only formatting needs)."""
    from black.mode import Mode, TargetVersion

    return Mode(target_versions={TargetVersion.PY311}, line_length=LINE_LENGTH)


_T = TypeVar("_T")

# Formatted chunks by key, in memory: the most recently used only (a chunk is about a node,
# or 10 statements of run()): room for every chunk of a 10,000-node module, and then some.
_memory: LRU[str, str] = LRU(32768)
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
    starts: tuple[int, ...] = (0,)  # the index of each group's first statement

    def pieces(self) -> list[str]:
        """The texts black formats: the skeleton, then each group of statements in its nesting."""
        opening = "".join("    " * level + "if _:\n" for level in range(self.depth))
        indent = "    " * self.depth
        ends = [*self.starts[1:], len(self.statements)]
        groups = [self.statements[start:end] for start, end in zip(self.starts, ends, strict=True)]
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

    def unformatted(self) -> str:
        """The whole chunk before formatting: the statements where the placeholder line is."""
        indent = "    " * self.depth
        body = "".join(_indented(statement, indent) for statement in self.statements)
        return self.skeleton.replace(indent + "pass\n", body, 1)


# A block of more statements than LONG_BLOCK is formatted in groups of STATEMENTS_PER_GROUP:
# black's time grows with the text it formats, and a formatted shape (shapes.py) is used again
# only by a group of the same shape, which a short group is more often.
LONG_BLOCK = 50
STATEMENTS_PER_GROUP = 10


def split_block(chunk: str) -> str | BlockChunk:
    """``chunk`` as a BlockChunk when one of its blocks has more than LONG_BLOCK statements (a
    long ``run()``), else as it is. Only a block of statements one after another, each on
    lines of its own indentation, is split: what lies between them would be lost otherwise."""
    if chunk.count("\n") <= LONG_BLOCK:
        return chunk
    try:
        tree = ast.parse(chunk)
    except SyntaxError:
        return chunk  # validation reports it with the chunk
    blocks = [
        body
        for node in _statement_walk(tree)
        for name in ("body", "orelse", "finalbody")
        if isinstance(body := getattr(node, name, None), list) and body and isinstance(body[0], ast.stmt)
    ]
    block = max(blocks, key=len, default=[])
    if len(block) <= LONG_BLOCK:
        return chunk
    lines = chunk.split("\n")
    indent = block[0].col_offset
    margin = " " * indent
    if indent % 4 or any(s.col_offset != indent or s.end_lineno is None for s in block):
        return chunk
    if any(b.lineno != (a.end_lineno or 0) + 1 for a, b in itertools.pairwise(block)):
        return chunk
    body = lines[block[0].lineno - 1 : block[-1].end_lineno]
    if any(not line.startswith(margin) for line in body):
        return chunk
    starts = _group_starts(block)
    if starts is None:
        return chunk
    statements = tuple("\n".join(line[indent:] for line in lines[s.lineno - 1 : s.end_lineno]) + "\n" for s in block)
    head = "\n".join(lines[: block[0].lineno - 1])
    tail = "\n".join(lines[block[-1].end_lineno :])
    skeleton = (head + "\n" if head else "") + margin + "pass\n" + tail
    return BlockChunk(skeleton=skeleton, statements=statements, depth=indent // 4, starts=starts)


# Statements black never puts a blank line before or after when none is there: no definition,
# class, import, compound statement (a definition inside ends before what follows) or string
# (a docstring's rules). Black adds a blank line after a nested def or class or an import, and
# before a def or class; split between two other statements, a block formats as it does whole.
_PLAIN_STATEMENTS = (
    ast.Assign,
    ast.AnnAssign,
    ast.AugAssign,
    ast.Return,
    ast.Pass,
    ast.Break,
    ast.Continue,
    ast.Raise,
    ast.Assert,
    ast.Delete,
    ast.Global,
    ast.Nonlocal,
)


def _plain(statement: ast.stmt) -> bool:
    if isinstance(statement, ast.Expr):
        return not (isinstance(statement.value, ast.Constant) and isinstance(statement.value.value, str))
    return isinstance(statement, _PLAIN_STATEMENTS)


def _group_starts(block: list[ast.stmt]) -> tuple[int, ...] | None:
    """Where the block's groups start: about every STATEMENTS_PER_GROUP statements, only between
    two plain statements; None (format it whole) when the block does not start and end with one
    (the skeleton's placeholder line stands for it there)."""
    if not (_plain(block[0]) and _plain(block[-1])):
        return None
    starts = [0]
    at = STATEMENTS_PER_GROUP
    while at < len(block):
        if _plain(block[at - 1]) and _plain(block[at]):
            starts.append(at)
            at += STATEMENTS_PER_GROUP
        else:
            at += 1
    return tuple(starts)


_BLOCK_HOLDERS = (ast.stmt, ast.excepthandler, ast.match_case)


def _statement_walk(tree: ast.Module) -> Iterator[ast.AST]:
    """``ast.walk`` (breadth first, in the same order) over the nodes that may hold a block of
    statements only: a long run() has far more expressions than statements."""
    todo: deque[ast.AST] = deque([tree])
    while todo:
        node = todo.popleft()
        todo.extend(child for child in ast.iter_child_nodes(node) if isinstance(child, _BLOCK_HOLDERS))
        yield node


def _indented(statement: str, indent: str) -> str:
    return "".join(indent + line + "\n" for line in statement.strip("\n").split("\n"))


def format_chunks(texts: list[str], *, jobs: int = 1) -> str:
    """The formatted module: every chunk validated and black-formatted, joined as black would."""
    return join_chunks(format_chunk_texts(texts, jobs=jobs))


def join_chunks(texts: list[str]) -> str:
    """Formatted chunks joined into the module, two blank lines apart as black puts them."""
    return "\n\n".join(text.rstrip("\n") + "\n" for text in texts)


def format_chunk_texts(texts: list[str], *, jobs: int = 1, write_disk: bool = True) -> list[str]:
    """Each chunk black-formatted, in order. ``write_disk=False``: what is
    formatted now is kept in memory only (the caller keeps it elsewhere: a module's state)."""
    chunks = [split_block(text) for text in texts]
    keyed = [_keyed(chunk) for chunk in chunks]
    rendered = {key: text for units in keyed for key, text in units}
    whole_chunks = {units[0][0] for chunk, units in zip(chunks, keyed, strict=True) if isinstance(chunk, str)}
    formatted = {key: found for key in rendered if (found := _memory.get(key)) is not None}
    unproven = _from_disk([key for key in rendered if key not in formatted], rendered, whole_chunks, formatted)
    missing = [key for key in rendered if key not in formatted and key not in unproven]
    _format_and_store(missing, rendered, formatted, jobs, write_disk)
    if unproven:
        disproven: dict[str, None] = {}
        for chunk, units in zip(chunks, keyed, strict=True):
            keys = [key for key, _ in units]
            if isinstance(chunk, BlockChunk) and not _block_proven(chunk, keys, formatted, unproven):
                disproven.update(dict.fromkeys(key for key in keys if key in unproven))
        _format_and_store(list(disproven), rendered, formatted, jobs, write_disk)
        formatted = unproven | formatted
    out = []
    for chunk, units in zip(chunks, keyed, strict=True):
        results = [formatted[key] for key, _ in units]
        out.append(chunk.assemble(results) if isinstance(chunk, BlockChunk) else results[0])
    return out


def _keyed(chunk: str | BlockChunk) -> list[tuple[str, str]]:
    """The cache key and text of each piece black formats. A whole chunk and a piece of a block
    chunk never share a key: a cached piece is spliced into its block, so it is proven differently."""
    if isinstance(chunk, str):
        return [(_key("chunk", chunk), chunk)]
    return [(_key("piece", text), text) for text in chunk.pieces()]


def _key(role: str, text: str) -> str:
    return hashlib.sha256(_KEY_PREFIX + f"{role}\n{text}".encode()).hexdigest()


def _from_disk(
    keys: list[str], rendered: dict[str, str], whole_chunks: set[str], formatted: dict[str, str]
) -> dict[str, str]:
    """Adds to ``formatted`` the disk entries proven to be the formatting of their text; returns
    the block pieces that differ from their text, which only the block they are assembled into
    can prove (a piece's lines are spliced into the block's skeleton).

    Proven means byte-identical to the text or, for a whole chunk, the same code and comments
    (``is_formatting_of``), so that whoever can write the cache cannot change what a compiled
    module does or says. Entries not proven are formatted again and rewritten.
    """
    unproven: dict[str, str] = {}
    for key in keys:
        text = rendered[key]
        found = _read_entry(key, len(text))
        if found is None:
            continue
        if found == text or (key in whole_chunks and is_formatting_of(found, text)):
            _memory[key] = formatted[key] = found
        elif key not in whole_chunks:
            unproven[key] = found
    return unproven


def _block_proven(chunk: BlockChunk, keys: list[str], formatted: dict[str, str], unproven: dict[str, str]) -> bool:
    """Whether the block chunk assembled from these pieces is a formatting of its text (trivially
    true when none of its pieces is unproven)."""
    skeleton_key, group_keys = keys[0], keys[1:]
    if not any(key in unproven for key in group_keys):
        return skeleton_key not in unproven or _skeleton_proven(chunk, unproven[skeleton_key])
    try:
        assembled = chunk.assemble([unproven[key] if key in unproven else formatted[key] for key in keys])
    except (CompilerBug, IndexError):  # a piece without the lines assembling expects
        return False
    return is_formatting_of(assembled, chunk.unformatted())


_MARKER = "__kailash_placeholder__"


def _skeleton_proven(chunk: BlockChunk, skeleton: str) -> bool:
    """Whether the statement groups, unchanged, may go where ``skeleton`` has its placeholder line.

    Cheaper than proving the whole assembled block (the usual case: black re-wraps only the
    skeleton). The placeholder line, as ``assemble`` finds it, is made a marker statement with
    a marker comment; if that is a formatting of the rendered skeleton marked the same way, the
    line is a whole statement of the right block, at the indentation the groups have, between
    the same comments, so the groups' statements take the ``pass`` statement's place.
    """
    placeholder = "    " * chunk.depth + "pass\n"
    marker = f"{'    ' * chunk.depth}{_MARKER}  # {_MARKER}\n"
    at = skeleton.find(placeholder)
    if at < 0 or (at > 0 and skeleton[at - 1] != "\n"):
        return False
    marked = skeleton[:at] + marker + skeleton[at + len(placeholder) :]
    return is_formatting_of(marked, chunk.skeleton.replace(placeholder, marker, 1))


def _format_and_store(
    keys: list[str], rendered: dict[str, str], formatted: dict[str, str], jobs: int, write_disk: bool = True
) -> None:
    if not keys:
        return
    for key, text in zip(keys, _format_many([rendered[key] for key in keys], jobs), strict=True):
        _store(key, text, write_disk)
        formatted[key] = text
    maybe_prune(cache_dir())


def format_chunk(chunk: str) -> str:
    return format_chunks([chunk])


def _format_many(chunks: list[str], jobs: int) -> list[str]:
    """Each chunk formatted through its shape (see shapes.py), a long display in groups of
    elements (long_literals.py); a chunk that cannot be formatted so is formatted by black
    itself."""
    from .long_literals import split_literal  # as black: only when a chunk is not in the cache
    from .shapes import format_by_shape

    literals = [split_literal(chunk) for chunk in chunks]
    pieces = [
        literal.pieces() if literal is not None else [chunk] for chunk, literal in zip(chunks, literals, strict=True)
    ]
    units = [piece for chunk_pieces in pieces for piece in chunk_pieces]
    formatted = format_by_shape(units, lambda skeletons: _in_parallel(_format_skeleton, skeletons, jobs))
    unshaped = [index for index, text in enumerate(formatted) if text is None]
    for index, text in zip(unshaped, _in_parallel(_format_skeleton, [units[i] for i in unshaped], jobs), strict=True):
        formatted[index] = text
    out: list[str | None] = []
    at = 0
    for literal, chunk_pieces in zip(literals, pieces, strict=True):
        done = formatted[at : at + len(chunk_pieces)]
        at += len(chunk_pieces)
        if any(text is None for text in done):
            out.append(None)
        elif literal is None:
            out.append(done[0])
        else:
            out.append(literal.assemble([text for text in done if text is not None]))
    direct = [index for index, text in enumerate(out) if text is None]
    for index, text in zip(direct, _in_parallel(_format_valid, [chunks[i] for i in direct], jobs), strict=True):
        out[index] = text
    return [text for text in out if text is not None]


def _in_parallel(function: Callable[[str], _T], texts: list[str], jobs: int) -> list[_T]:
    """``function`` (black on a text) on each text: in worker processes when there are many,
    else in the black helper when the command started one (black_helper.py), else here."""
    if not texts:
        return []
    if jobs > 1 and len(texts) >= PARALLEL_MISSES and can_fork():
        black_helper.stop()  # the workers do its work
        black_mode()  # imported before the fork: workers inherit it
        with forked_pool(jobs) as pool:
            return list(pool.map(function, texts, chunksize=max(1, len(texts) // (jobs * 8))))
    helped = black_helper.run(function.__name__, texts)
    if helped is None:
        return [function(text) for text in texts]
    return [value if ok else function(text) for text, (ok, value) in zip(texts, helped, strict=True)]


def _read_entry(key: str, text_length: int) -> str | None:
    """A disk entry's text, or None when there is none or it cannot be one (not UTF-8, or far
    longer than black makes any text)."""
    path = _disk_path(key)
    if path is None:
        return None
    data = read_entry(path, 64 * text_length + 65536)  # far more than the indentation black adds
    try:
        return data.decode("utf-8") if data is not None else None
    except UnicodeDecodeError:
        return None


def _store(key: str, text: str, write_disk: bool = True) -> None:
    _memory[key] = text
    path = _disk_path(key) if write_disk else None
    if path is not None:
        _write_quietly(path, text)


def _disk_path(key: str) -> Path | None:
    directory = cache_dir()
    return directory / key[:2] / key if directory else None


def _format_valid(chunk: str) -> str:
    """Black on a chunk (a CompilerBug if black cannot read it)."""
    from black.parsing import InvalidInput

    try:
        return _black(chunk)
    except InvalidInput as exc:
        raise CompilerBug(f"black cannot format the generated code ({exc}):\n{chunk}") from exc


def _format_skeleton(skeleton: str) -> str | None:
    """Black on a chunk's shape, None when it cannot format it (the chunk is then formatted
    itself: a shape can break a rule its chunk keeps, e.g. two parameters of one name)."""
    try:
        return _black(skeleton)
    except Exception:
        return None


def _black(text: str) -> str:
    import black

    return black.format_str(text, mode=black_mode())


def _write_quietly(path: Path, text: str) -> None:
    """Cache writes are best effort and atomic: a reader never sees half a file."""
    with contextlib.suppress(OSError):
        write_atomically(path, text)


def can_fork() -> bool:
    """Whether worker processes can be forked here (they inherit what this process imported)."""
    import multiprocessing

    return "fork" in multiprocessing.get_all_start_methods()


@contextmanager
def forked_pool(jobs: int) -> Iterator[ProcessPoolExecutor]:
    """``jobs`` worker processes forked from this one, which inherit what it imported (only
    where ``can_fork``; multiprocessing is imported only when workers are started)."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(max_workers=jobs, mp_context=multiprocessing.get_context("fork")) as pool:
        yield pool
