"""The code blocks the last run of a workflow file checked, kept for the next run of the same file.

Running a workflow file checks each code block it adds (``codeblock.check``: a parse, a walk of
the tree, at times the symbol table or ``compile()``): for a thousand nodes, most of the time
the file takes to run. A recompile after one edit runs the file again, in a new process, with
the same blocks but one. This keeps, in one file per workflow file, the facts of each block the
last run checked, by the key of the block's code: the next run reads them instead of checking
those blocks again. A block whose check warned is not kept (``check`` does not note it), so
it is checked, and warns, on every run.

The file is authenticated as a module's state is (compile_state.py): with the user's key, for
this compiler and this Python only. A block it holds has passed this compiler's checks; a
file whoever can write the cache made, or a damaged one, is ignored.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from . import codeblock
from .compile_state import compiler_fingerprint, key_of, read_authenticated, state_path, write_authenticated

_FORMAT = 1  # of the file: a change to what it holds or how bumps it
_KIND = "code blocks"  # not a module name: the file is not the state of a module


@contextmanager
def kept_for(workflow_file: Path | None) -> Iterator[None]:
    """While the workflow file runs, the blocks its last run checked are not checked again;
    once it has run without an error, the blocks this run checked are kept for the next."""
    from .codegen.formatting import cache_dir

    cache = cache_dir() if workflow_file is not None else None
    if workflow_file is None or cache is None:
        yield
        return
    path = state_path(cache, _KIND, os.path.abspath(workflow_file))
    made_by = f"{compiler_fingerprint([])} {sys.version}"
    record = BlockRecord(_blocks(read_authenticated(path), made_by))
    with codeblock.recording(record):
        yield
    if record.kept != record.found:
        saved = {"format": _FORMAT, "compiler": made_by, "blocks": record.kept}
        write_authenticated(path, json.dumps(saved, separators=(",", ":")).encode())  # ASCII


def _blocks(body: bytes | None, made_by: str) -> dict[str, object]:
    """The blocks of a saved record, if this compiler made it."""
    try:
        saved = json.loads(body) if body is not None else None
    except ValueError:
        return {}
    if not isinstance(saved, dict) or saved.get("format") != _FORMAT or saved.get("compiler") != made_by:
        return {}
    blocks = saved.get("blocks")
    return blocks if isinstance(blocks, dict) else {}


class BlockRecord:
    """The blocks the last run checked (``found``: by the key of their code, their facts as
    JSON values) and those this run checked (``kept``), which the next run will find."""

    def __init__(self, found: dict[str, object]) -> None:
        self.found = found
        self.kept: dict[str, object] = {}
        self._last: tuple[str, str] = ("", "")  # a block's code and its key: each is asked for twice
        self._valid: set[str] = set()  # keys of found entries that decoded

    def facts_of(self, code: str) -> codeblock.BlockFacts | None:
        key = self._key(code)
        value = self.found.get(key)
        found = decoded(value) if value is not None else None
        if found is not None:
            self._valid.add(key)
        return found

    def note(self, code: str, facts: codeblock.BlockFacts) -> None:
        key = self._key(code)
        self.kept[key] = self.found[key] if key in self._valid else encoded(facts)

    def _key(self, code: str) -> str:
        if self._last[0] != code:
            self._last = (code, key_of(code))
        return self._last[1]


def encoded(facts: codeblock.BlockFacts) -> list[object]:
    """The facts as a JSON value."""
    return [
        list(facts.free),
        [list(resource) for resource in facts.resources],
        sorted(facts.bound),
        [list(statement) for statement in facts.statements],
    ]


def decoded(value: Any) -> codeblock.BlockFacts | None:
    """The facts ``encoded`` gave ``value``; None for any other value."""
    try:
        free, resources, bound, statements = value
        facts = codeblock.BlockFacts(
            free=tuple(free),
            resources=tuple([(name, line, column) for name, line, column in resources]),
            bound=frozenset(bound),
            statements=tuple([(key, line) for key, line in statements]),
        )
    except (TypeError, ValueError):  # not a list of four lists of the right rows
        return None
    texts = {type(name) for name in facts.free} | {type(name) for name in facts.bound}
    texts.update(type(name) for name, _, _ in facts.resources)
    texts.update(type(key) for key, _ in facts.statements)
    numbers = {type(line) for _, line, _ in facts.resources} | {type(column) for _, _, column in facts.resources}
    numbers.update(type(line) for _, line in facts.statements)
    if not (texts <= {str} and numbers <= {int} and all(type(part) is list for part in (free, resources, bound))):
        return None
    return facts
