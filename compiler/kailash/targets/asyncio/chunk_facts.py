"""The facts (see facts.py) of each formatted chunk of a module, cached by text.

A chunk is read whole, except ``run()``, which grows with the workflow (one registration per
node): it is read as its skeleton, with the body of its ``async with rt.Run(...) as r:``
block replaced by ``pass``, and each statement of that body, wrapped in ``if _:`` so that it
keeps its indentation. Editing one node's registration then costs one small piece, not the
whole of ``run()`` (in a new process, every piece: about 0.07 ms each). The pieces' facts are
put together here: what a body statement binds is a local of ``run()`` unless a ``global``
statement makes it the module's.

Facts are cached in memory and on disk beside the formatted chunks (``cache_dir()``), keyed
by the format of the facts (what they say and how they are read) and the text: each chunk's,
and run()'s as a whole; its pieces' only in memory. A disk entry that is not facts is ignored
and rewritten. A forged entry could at most hide a broken rule from the validator: the
module itself is still made from the templates and the proven format cache. Many missing
pieces are read in worker processes when the caller allows it.
"""

from __future__ import annotations

import ast
import contextlib
import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from ..._files import write_atomically
from ..._lru import LRU
from ...codegen.disk_cache import read_entry
from ...codegen.formatting import cache_dir, can_fork, forked_pool
from ...compile_state import FACTS, ModuleState
from ...source_text import split_lines
from .facts import REBINDING, REGISTRATION, Binding, ChunkFacts, Import, NodeCall, Problem, UnitFacts, is_runner
from .facts_json import decode_chunk, decode_unit, encode_chunk, encode_unit

# Of the cached facts: a change to what facts say, how they are read (read_facts.py) or how
# they are written (facts_json.py) bumps it. 2: read with ast, not libcst.
_FORMAT = 2
_KEY_PREFIX = f"facts {_FORMAT} ast\n".encode()
T = TypeVar("T")
# Below this many pieces to read, starting worker processes costs more than it saves: a piece
# takes about 0.1 ms to read, and two workers read the 2,000 pieces of a 1,000-node module
# (or five times as many) no faster than one process, their results sent back included.
PARALLEL_MISSES = 20_000
_LARGEST_ENTRY = 256 * 2**20  # facts of any chunk are far smaller: a larger file is not facts


# In memory: the facts of pieces by key, and of the most recent run() chunks.
_units: LRU[str, UnitFacts] = LRU(65536)  # a 10,000-node module has 20,000 pieces: none read twice
_runs: LRU[str, ChunkFacts] = LRU(64)


def forget() -> None:
    """Empties the in-memory cache (the disk cache stays), as a new process starts."""
    _units.clear()
    _runs.clear()


def chunk_facts(chunks: Sequence[str], *, jobs: int = 1, state: ModuleState | None = None) -> list[ChunkFacts]:
    """The facts of each chunk (each ending in one newline); the last chunk is ``run()``'s.
    ``state``: the facts the last compile of the module read, which are looked up first (and
    this compile's facts are kept in it for the next)."""
    *others, run = chunks
    directory = cache_dir()
    # What is read now goes to the disk cache only if the state will not keep it.
    write_to = None if state is not None and state.saved else directory
    run_key = _key("run", run)
    run_facts = _runs.get(run_key)
    if run_facts is None and state is not None:
        run_facts = _from_state(state, run_key, decode_chunk)
    if run_facts is None:
        run_facts = _read_entry(directory, run_key, decode_chunk)
    out = [ChunkFacts(unit.bindings, unit.imports) for unit in _unit_facts(others, jobs, directory, state, write_to)]
    if run_facts is None:
        pieces = split_run(run)
        texts = [pieces.skeleton, *(text for _, text in pieces.statements)] if pieces else [run]
        # Pieces are kept in memory only: reading one takes about as long as reading its entry,
        # and the facts of the whole run() chunk are on disk.
        read = _unit_facts(texts, jobs, None)
        run_facts = _run_facts(pieces, read[0], read[1:]) if pieces else _unsplit_run_facts(read[0])
        _write_entry(write_to, run_key, encode_chunk(run_facts))
    if state is not None:
        state.put(FACTS, run_key, encode_chunk(run_facts))
    _runs[run_key] = run_facts
    return [*out, run_facts]


# -- run() in pieces ----------------------------------------------------------------------------
@dataclass(frozen=True)
class RunPieces:
    skeleton: str  # the chunk with the runner block's body replaced by one `pass` line
    statements: tuple[tuple[int, str], ...]  # (first line in the chunk, `if _:` + the statement's lines)
    placeholder: int  # the skeleton's `pass` line
    removed: int  # the chunk lines it stands for

    def skeleton_line(self, line: int) -> int:
        """The chunk line of a skeleton line."""
        if line <= self.placeholder:
            return line
        return line + self.removed - 1


def split_run(text: str) -> RunPieces | None:
    """The pieces of a ``run()`` chunk, or None when it has no ``with rt.Run(...) as r:`` block
    directly in a top-level ``run()`` (then the chunk is read whole)."""
    for statement in ast.parse(text).body:
        if not (isinstance(statement, (ast.AsyncFunctionDef, ast.FunctionDef)) and statement.name == "run"):
            continue
        for inner in statement.body:
            if isinstance(inner, (ast.AsyncWith, ast.With)) and any(map(is_runner, inner.items)):
                return _pieces(text, inner.body)
    return None


def _pieces(text: str, body: list[ast.stmt]) -> RunPieces:
    lines = split_lines(text, keepends=True)
    spans: list[list[int]] = []
    for statement in body:
        decorators = getattr(statement, "decorator_list", None)
        first = decorators[0].lineno if decorators else statement.lineno
        last = statement.end_lineno or statement.lineno
        if spans and first <= spans[-1][1]:  # statements sharing a line are one piece
            spans[-1][1] = max(spans[-1][1], last)
        else:
            spans.append([first, last])
    start, end = spans[0][0], spans[-1][1]
    indent = lines[start - 1][: len(lines[start - 1]) - len(lines[start - 1].lstrip())]
    skeleton = "".join([*lines[: start - 1], indent + "pass\n", *lines[end:]])
    statements = tuple((first, "if _:\n" + "".join(lines[first - 1 : last])) for first, last in spans)
    return RunPieces(skeleton, statements, placeholder=start, removed=end - start + 1)


def _run_facts(pieces: RunPieces, skeleton: UnitFacts, statements: list[UnitFacts]) -> ChunkFacts:
    """One chunk's facts from those of its pieces."""
    to_chunk = pieces.skeleton_line
    runs = [run for run in skeleton.runs if run.runner is not None]
    if not runs:
        return _unsplit_run_facts(skeleton, line_map=to_chunk)
    run = runs[0]
    declared = {*run.declared_global, *(name for facts in statements for name in facts.declared_global)}
    bindings = [_binding_at(b, to_chunk(b.line)) for b in skeleton.bindings]
    imports = [Import(i.module, to_chunk(i.line)) for i in skeleton.imports]
    local = [(name, to_chunk(line)) for name, line in run.locals]
    calls = [_call_at(c, to_chunk(c.line)) for c in run.calls]
    for (first, _), facts in zip(pieces.statements, statements, strict=True):
        offset = first - 2  # the piece's line 1 is `if _:`, its line 2 the chunk's line `first`
        for b in facts.bindings:
            if b.via_global or b.name in declared:
                bindings.append(Binding(b.name, b.line + offset, b.form, False, True, b.target))
            else:
                local.append((b.name, b.line + offset))
        imports += [Import(i.module, i.line + offset) for i in facts.imports]
        calls += [_call_at(c, c.line + offset) for c in facts.calls]
    local.sort(key=lambda item: item[1])
    problems = _runner_problems(run.runner, local, to_chunk(run.line))
    registrations = [c for c in calls if c.receiver == run.runner]
    problems += _hidden_functions(registrations, local)
    return ChunkFacts(
        bindings=tuple(sorted(bindings, key=lambda b: (b.line, b.name, b.form, b.top, b.via_global, b.target))),
        imports=tuple(sorted(imports, key=lambda i: (i.line, i.module))),
        registrations=tuple(sorted(registrations, key=lambda c: c.line)),
        problems=tuple(problems),
        anchor=to_chunk(run.line),
        body=(pieces.placeholder, pieces.placeholder + pieces.removed - 1),
    )


def _binding_at(b: Binding, line: int) -> Binding:
    return Binding(b.name, line, b.form, b.top, b.via_global, b.target)


def _call_at(c: NodeCall, line: int) -> NodeCall:
    return NodeCall(c.receiver, c.node_id, c.function, line)


def _unsplit_run_facts(facts: UnitFacts, line_map: Callable[[int], int] = int) -> ChunkFacts:
    """The facts of a run() chunk whose nodes cannot be registered: it has no runner block."""
    line = line_map(facts.runs[0].line) if facts.runs else 1
    problem = Problem(
        REGISTRATION,
        line,
        "run() has no `async with rt.Run(...) as r:` block directly in its body, in which the nodes are registered",
        "run() opens the run with `async with rt.Run(...) as r:` (rt being the module's `import kailash_rt as rt`)"
        " and registers each node in that block with `r.node(<node id>, <function>, ...)`",
    )
    return ChunkFacts(
        bindings=tuple(_binding_at(b, line_map(b.line)) for b in facts.bindings),
        imports=tuple(Import(i.module, line_map(i.line)) for i in facts.imports),
        problems=(problem,),
        anchor=line,
    )


def _runner_problems(runner: str | None, local: list[tuple[str, int]], run_line: int) -> list[Problem]:
    lines = [line for name, line in local if name == runner]
    if len(lines) <= 1:
        return []
    return [
        Problem(
            REBINDING,
            lines[1],
            f"run() binds {runner!r} again, the run that `async with rt.Run(...) as {runner}:` opened",
            f"register nodes with `{runner}.node(...)` and give other values other names",
        )
    ]


def _hidden_functions(registrations: list[NodeCall], local: list[tuple[str, int]]) -> list[Problem]:
    """A registration whose function run() itself binds passes run()'s value, not the module's function."""
    first_binding: dict[str, int] = {}
    for name, line in local:
        first_binding.setdefault(name, line)
    return [
        Problem(
            REBINDING,
            first_binding[call.function],
            f"run() binds {call.function!r} itself, so the registration of node {call.node_id!r} would"
            f" not pass the module's function {call.function!r}",
            "give run()'s own names (the handles of node outputs) names no node function has",
        )
        for call in registrations
        if call.function is not None and call.function in first_binding
    ]


# -- cache ---------------------------------------------------------------------------------------
def _unit_facts(
    texts: list[str],
    jobs: int,
    directory: Path | None,
    state: ModuleState | None = None,
    write_to: Path | None = None,
) -> list[UnitFacts]:
    """The facts of units: from memory, ``state``, the disk cache in ``directory``, else read
    (and written to the disk cache in ``write_to``)."""
    keys = [_key("unit", text) for text in texts]
    found: dict[str, UnitFacts] = {}
    for key in keys:
        facts = _units.get(key)
        kept = False  # in the state already
        if facts is None and state is not None:
            facts = _from_state(state, key, decode_unit)
            kept = facts is not None
        if facts is None:
            facts = _read_entry(directory, key, decode_unit)
        if facts is not None:
            _units[key] = facts
            found[key] = facts
            if state is not None and not kept:
                state.put(FACTS, key, encode_unit(facts))
    missing = list(dict.fromkeys(key for key in keys if key not in found))
    if missing:
        text_of = dict(zip(keys, texts, strict=True))
        for key, facts in zip(missing, _read_many([text_of[key] for key in missing], jobs), strict=True):
            found[key] = facts
            _units[key] = facts
            encoded = encode_unit(facts)
            _write_entry(write_to, key, encoded)
            if state is not None:
                state.put(FACTS, key, encoded)
    return [found[key] for key in keys]


def _from_state(state: ModuleState, key: str, read: Callable[[str], T]) -> T | None:
    text = state.get(FACTS, key)
    if not isinstance(text, str):
        return None
    try:
        return read(text)
    except (ValueError, TypeError, KeyError, IndexError, RecursionError):
        return None


def _read_many(texts: list[str], jobs: int) -> list[UnitFacts]:
    from .read_facts import read_units  # imported only when a piece is not in the cache

    if jobs > 1 and len(texts) >= PARALLEL_MISSES and can_fork():
        batches = _split(texts, jobs * 4)
        with forked_pool(jobs) as pool:  # workers inherit the imported reader
            return [facts for batch in pool.map(read_units, batches) for facts in batch]
    return read_units(texts)


def _split(texts: list[str], parts: int) -> list[list[str]]:
    """``texts`` in about ``parts`` runs of about equal lines, in order."""
    total = sum(text.count("\n") for text in texts)
    size = max(1, -(-total // parts))
    runs: list[list[str]] = [[]]
    lines = 0
    for text in texts:
        if runs[-1] and lines >= size:
            runs.append([])
            lines = 0
        runs[-1].append(text)
        lines += text.count("\n")
    return runs


def _key(role: str, text: str) -> str:
    return hashlib.sha256(_KEY_PREFIX + f"{role}\n{text}".encode()).hexdigest()


def _read_entry(directory: Path | None, key: str, read: Callable[[str], T]) -> T | None:
    if directory is None:
        return None
    path = directory / key[:2] / key
    data = read_entry(path, _LARGEST_ENTRY)
    if data is None:
        return None
    try:
        return read(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, TypeError, KeyError, IndexError, RecursionError):
        return None  # not facts of this format: read again and rewritten


def _write_entry(directory: Path | None, key: str, text: str) -> None:
    if directory is not None:
        with contextlib.suppress(OSError):
            write_atomically(directory / key[:2] / key, text)
