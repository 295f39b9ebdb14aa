"""Load a generated module in process, without writing it anywhere.

The module gets a real loader that serves its source, so tracebacks show the generated
lines and ``inspect.getsource`` works, just as for a module compiled to a file.
"""

from __future__ import annotations

import importlib.abc
import importlib.util
import linecache
import sys
from types import ModuleType

from ..codegen import GeneratedModule


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


def load_module(generated: GeneratedModule, key: str) -> ModuleType:
    """Import ``generated`` as ``_kailash_generated_<name>_<key>``; it is kept in sys.modules."""
    name = f"_kailash_generated_{generated.name}_{key[:12]}"
    existing = sys.modules.get(name)
    if existing is not None:
        return existing
    filename = f"<kailash-compile>/{generated.filename}"
    loader = _GeneratedSourceLoader(filename, generated.source)
    spec = importlib.util.spec_from_loader(name, loader, origin=filename)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    linecache.cache[filename] = (len(generated.source), None, generated.source.splitlines(True), filename)
    sys.modules[name] = module
    try:
        loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    return module
