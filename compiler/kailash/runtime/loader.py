"""Load a generated module in process, never writing into the user's tree.

The source is written to the compile cache (``<cache>/modules/<name>_<hash>.py``) and the
module is named after that file, so every tool (Python's own traceback printer included)
shows the generated lines. The code itself is always compiled from the source in memory:
an edited cache file, or bytecode planted beside it, never runs, and no ``.pyc`` is written.
Without a usable cache directory the module's file name is ``<kailash-compile>/...`` and
its loader serves the source to ``linecache`` and ``inspect``.

The ``<hash>`` is the workflow's content hash, which covers no secret value (see
``kailash.ir``). At most ``WORKFLOWS_KEPT`` modules stay imported: the least recently used
one beyond that leaves ``sys.modules`` (and ``linecache``); a run that still holds it
finishes normally. Its file in the cache directory stays: it is named by content, another
process sharing the cache may be importing it, and the next compile of the same workflow
uses it again.
"""

from __future__ import annotations

import importlib.abc
import importlib.util
import linecache
import sys
from pathlib import Path
from types import ModuleType

from .._files import write_atomically
from .._lru import LRU, WORKFLOWS_KEPT
from ..codegen import GeneratedModule
from ..codegen.formatting import cache_dir
from ..source_text import split_lines

_MEMORY_PREFIX = "<kailash-compile>/"


class _GeneratedSourceLoader(importlib.abc.SourceLoader):
    def __init__(self, filename: str, source: str) -> None:
        self._filename = filename
        self._source = source

    def get_filename(self, fullname: str) -> str:
        return self._filename

    def get_data(self, path: str) -> bytes:
        return self._source.encode("utf-8")

    def path_stats(self, path: str) -> dict[str, float]:
        raise OSError("generated in memory; no bytecode cache")


def _unload(name: str, module: ModuleType) -> None:
    if sys.modules.get(name) is module:
        del sys.modules[name]
    spec = module.__spec__
    filename = spec.origin if spec is not None else None
    if isinstance(filename, str) and filename.startswith(_MEMORY_PREFIX):
        linecache.cache.pop(filename, None)


_loaded: LRU[str, ModuleType] = LRU(WORKFLOWS_KEPT, on_evict=_unload)


def load_module(generated: GeneratedModule, key: str) -> ModuleType:
    """Import ``generated`` as ``_kailash_generated_<name>_<key>``; it is kept in sys.modules
    while it is one of the ``WORKFLOWS_KEPT`` most recently loaded."""
    name = f"_kailash_generated_{generated.name}_{key[:12]}"
    existing = _loaded.get(name)
    if existing is not None:
        return existing
    # The code always comes from memory: the file in the cache is there for tracebacks and
    # editors, and neither it nor any bytecode beside it is ever what runs.
    path = _written(generated, name)
    if path is not None:
        loader = _GeneratedSourceLoader(str(path), generated.source)
        spec = importlib.util.spec_from_file_location(name, path, loader=loader)
    else:
        filename = f"{_MEMORY_PREFIX}{name}.py"
        lines = split_lines(generated.source, keepends=True)
        linecache.cache[filename] = (len(generated.source), None, lines, filename)
        loader = _GeneratedSourceLoader(filename, generated.source)
        spec = importlib.util.spec_from_loader(name, loader, origin=filename)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    _loaded[name] = module
    return module


def _written(generated: GeneratedModule, name: str) -> Path | None:
    """The module's source in the cache directory (written once, atomically), or None."""
    directory = cache_dir()
    if directory is None:
        return None
    path = directory / "modules" / f"{name}.py"
    try:
        if path.is_file() and path.read_text(encoding="utf-8") == generated.source:
            return path
        write_atomically(path, generated.source)
    except (OSError, ValueError):  # unreadable, or not UTF-8: the module loads from memory
        return None
    return path
