"""What the last compile of a module worked out, kept for the next compile of the same module.

A recompile after one edit renders the same chunks as the last compile but one. The format
cache holds every chunk's formatting, but as one file per chunk, each proven against its
chunk when read (see formatting.py): for a module of a thousand nodes that is a thousand
reads and proofs, which cost more than the edit itself. This keeps, in one file per module,
what the last compile found for each chunk: its formatting (which compiled), and what else
a later stage keyed by it. Reading it is one read and one HMAC check.

The file is authenticated with a key kept outside the cache directory (in the user's state
directory, readable by the user only): a file that whoever can write the cache made, or one
copied from another machine, fails the check and is ignored, so it can no more change what
a compiled module does or says than a forged format cache entry can. Without a key (no home
directory, a read-only one) nothing is kept.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import importlib.util
import marshal
import os
import secrets
import sys
from collections.abc import Callable
from dataclasses import dataclass, field, fields, is_dataclass
from enum import Enum
from functools import lru_cache
from pathlib import Path
from typing import Any

from ._files import write_atomically

_FORMAT = 2  # of the file: a change to what it holds or how bumps it
_LARGEST = 512 * 2**20  # far more than the state of any module
_KEY_BYTES = 32
# Kinds of entries: each maps the key of what a stage was given to what it gave.
RENDERED = "rendered"  # a node's plan -> its rendered chunk; a registration -> its rendered call
TEXT_FACTS = "text facts"  # a rendered chunk -> the Python it needs and the packages it imports
FORMATTED = "formatted"  # rendered chunk -> formatted chunk (which compiles)
LINES = "lines"  # formatted node chunk and code -> its SOURCE_LINES runs
FACTS = "facts"  # a formatted chunk (or a piece of run()) -> what the validator read in it
KINDS = (RENDERED, TEXT_FACTS, FORMATTED, LINES, FACTS)


def key_of(*texts: str) -> str:
    """The entry key of one or more texts (a NUL cannot be in generated code, so they stay apart)."""
    return hashlib.sha256("\0".join(texts).encode("utf-8", "surrogatepass")).hexdigest()


@dataclass
class ModuleState:
    """The entries of the last compile (``found``), and those of this one (``kept``), which
    become the next compile's: entries this compile did not use are not carried on."""

    path: Path | None
    compiler: str = ""  # the fingerprint of the compiler and templates that made the entries
    found: dict[str, dict[str, object]] = field(default_factory=dict)
    kept: dict[str, dict[str, object]] = field(default_factory=lambda: {kind: {} for kind in KINDS})

    @property
    def saved(self) -> bool:
        """Whether this compile's entries will be kept for the next (a cache and a key exist)."""
        return self.path is not None and _key() is not None

    def get(self, kind: str, key: str) -> object | None:
        value = self.found.get(kind, {}).get(key)
        if value is not None:
            self.kept[kind][key] = value
        return value

    def put(self, kind: str, key: str, value: object) -> None:
        self.kept[kind][key] = value

    def save(self) -> None:
        """Write this compile's entries for the next one, if they are not what was read."""
        if self.path is None or not self.saved or self.kept == self.found:
            return
        # marshal: several times faster than JSON both ways; read only once authenticated.
        try:
            body = marshal.dumps({"format": _FORMAT, "compiler": self.compiler, "entries": self.kept})
        except ValueError:  # a value marshal cannot write
            return
        write_authenticated(self.path, body)


def load(cache: Path | None, module_name: str, source_file: str, template_dirs: list[Path]) -> ModuleState:
    """The state the last compile of this module (from this source file) left, or an empty one
    if the compiler or the templates (in ``template_dirs``) have changed since."""
    if cache is None:
        return ModuleState(None)
    compiler = compiler_fingerprint(template_dirs)
    path = state_path(cache, module_name, os.path.abspath(source_file))
    body = read_authenticated(path)
    if body is None:
        return ModuleState(path, compiler)
    try:
        decoded = marshal.loads(body)
        same = decoded.get("format") == _FORMAT and decoded.get("compiler") == compiler
        entries = decoded["entries"] if same else {}
    except (ValueError, EOFError, AttributeError, KeyError, TypeError):
        return ModuleState(path, compiler)
    if not isinstance(entries, dict):
        return ModuleState(path, compiler)
    return ModuleState(path, compiler, {kind: value for kind, value in entries.items() if isinstance(value, dict)})


def compiler_fingerprint(template_dirs: list[Path]) -> str:
    """Names this compiler (its source files, their sizes and times), the libraries that shape
    its output, this Python's version and the template files: what made a state's entries."""
    digest = hashlib.sha256(_running_compiler().encode())
    _add_files(digest, template_dirs)
    return digest.hexdigest()


@lru_cache(maxsize=1)
def _running_compiler() -> str:
    """The compiler's part of the fingerprint, read once a process: its code does not change
    once imported (the templates, which a user may edit meanwhile, are read every compile)."""
    digest = hashlib.sha256(f"{sys.version_info[:2]} {black_version()}".encode())
    _add_files(digest, [Path(__file__).resolve().parent, *_package_dirs("jinja2")])
    return digest.hexdigest()


def _add_files(digest: Any, directories: list[Path]) -> None:
    for directory in directories:
        for path, status in _files_under(directory):
            digest.update(f"\0{path}\0{status.st_size}\0{status.st_mtime_ns}".encode("utf-8", "surrogateescape"))


def remembered(state: ModuleState | None, what: str, value: Any, make: Callable[[], str]) -> str:
    """``make()``, the text rendered from ``value`` (a plan, a template's context), looked up
    in ``state`` first by ``what`` and ``value`` and kept there; made anew without a state or
    when ``value`` holds what ``fingerprint`` cannot see."""
    described = fingerprint(value) if state is not None else None
    if state is None or described is None:
        return make()
    key = key_of(what, described)
    found = state.get(RENDERED, key)
    if isinstance(found, str):
        return found
    text = make()
    state.put(RENDERED, key, text)
    return text


def black_version() -> str:
    """The installed black's version, without importing black or reading package metadata
    (``importlib.metadata`` alone costs a start-up more than the edit loop can spare)."""
    from _black_version import version

    return str(version)


def _package_dirs(name: str) -> list[Path]:
    """Where an installed package's files are (its sources name its version, as its files do)."""
    spec = importlib.util.find_spec(name)
    return [Path(location) for location in (spec.submodule_search_locations or [])] if spec else []


def _files_under(directory: Path) -> list[tuple[str, os.stat_result]]:
    found: list[tuple[str, os.stat_result]] = []
    pending = [str(directory)]
    while pending:
        with contextlib.suppress(OSError), os.scandir(pending.pop()) as entries:
            for entry in entries:
                if entry.is_dir(follow_symlinks=False):
                    if entry.name != "__pycache__":
                        pending.append(entry.path)
                elif entry.name.endswith((".py", ".j2")):
                    with contextlib.suppress(OSError):
                        found.append((entry.path, entry.stat()))
    return sorted(found, key=lambda item: item[0])


def fingerprint(value: Any) -> str | None:
    """A text that differs whenever ``value`` (a plan: dataclasses of plain values) differs,
    or None when it holds anything else (a class, an object with a repr of its own)."""
    parts: list[str] = []
    try:
        _describe(value, parts)
    except (_Opaque, RecursionError, ValueError):  # ValueError: an int too long to write in decimal
        return None
    return "".join(parts)


class _Opaque(Exception):
    """A value whose text would not show all that it holds."""


_PLAIN = frozenset({type(None), bool, int, float, str})


def _describe(item: Any, parts: list[str]) -> None:
    """Appends ``item``'s text: each value ends in a comma, each container is its type and length.
    (Plain values inside containers are written in the loops: most of a plan is plain values.)"""
    kind = type(item)
    if kind in _PLAIN:
        parts.append(f"{item!r},")
        return
    if kind is tuple or kind is list:
        parts.append(f"{kind.__name__}{len(item)}(")
        values: Any = item
    elif kind is dict:
        parts.append(f"dict{len(item)}(")
        values = [value for pair in item.items() for value in pair]
    elif isinstance(item, Enum):
        parts.append(f"{kind.__module__}.{kind.__qualname__}.{item.name},")
        return
    elif is_dataclass(item) and not isinstance(item, type):
        names = _field_names(kind)
        parts.append(f"{kind.__module__}.{kind.__qualname__}{len(names)}(")
        values = [getattr(item, name) for name in names]
    else:
        raise _Opaque
    for value in values:
        if type(value) in _PLAIN:
            parts.append(f"{value!r},")
        else:
            _describe(value, parts)
    parts.append("),")


_field_name_cache: dict[type, tuple[str, ...]] = {}


def _field_names(cls: type) -> tuple[str, ...]:
    names = _field_name_cache.get(cls)
    if names is None:
        names = _field_name_cache[cls] = tuple(f.name for f in fields(cls))
    return names


def state_path(cache: Path, *texts: str) -> Path:
    """Where the state named by ``texts`` (a module's name and source file, say) lives in the cache."""
    return cache / "states" / key_of(*texts)


def read_authenticated(path: Path, largest: int = _LARGEST) -> bytes | None:
    """What ``write_authenticated`` wrote at ``path``, or None when there is nothing there or it
    was not written with this user's key (made elsewhere, changed since, damaged)."""
    from .codegen.disk_cache import read_entry

    data = read_entry(path, largest)
    key = _key() if data is not None else None
    if data is None or key is None:
        return None
    mac, _, body = data.partition(b"\n")
    return body if hmac.compare_digest(mac, hmac.new(key, body, hashlib.sha256).hexdigest().encode()) else None


def write_authenticated(path: Path, body: bytes) -> None:
    """``body`` at ``path`` with its HMAC under this user's key, atomically; nothing without a key."""
    key = _key()
    if key is None:
        return
    mac = hmac.new(key, body, hashlib.sha256).hexdigest().encode()
    with contextlib.suppress(OSError):
        write_atomically(path, mac + b"\n" + body)


def key_path() -> Path | None:
    """Where the key lives: the user's state directory, never the cache directory."""
    configured = os.environ.get("XDG_STATE_HOME")
    try:
        base = Path(configured) if configured else Path.home() / ".local" / "state"
    except RuntimeError:  # no home directory
        return None
    return base / "kailash-compile" / "cache.key"


_known_keys: dict[Path, bytes] = {}


def _key() -> bytes | None:
    """This user's key, made on first use (readable by the user only)."""
    path = key_path()
    if path is None:
        return None
    if path in _known_keys:
        return _known_keys[path]
    try:
        key: bytes | None = path.read_bytes()
    except FileNotFoundError:
        key = _new_key(path)
    except OSError:
        return None
    if key is None or len(key) != _KEY_BYTES:
        return None
    _known_keys[path] = key
    return key


def _new_key(path: Path) -> bytes | None:
    key = secrets.token_bytes(_KEY_BYTES)
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it first
        with contextlib.suppress(OSError):
            return path.read_bytes()
        return None
    except OSError:
        return None
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(key)
    return key
