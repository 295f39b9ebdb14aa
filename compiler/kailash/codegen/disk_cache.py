"""The compile cache on disk stays bounded: by age and by total size, oldest first.

Entries (formatted chunks, validation facts, compiled modules of the in-process runtime,
the state a module's last compile left: see module_state.py)
are content-named files; an entry's modification time is when it was last written or
last found in use. Reading an entry costs one ``fstat`` more, and an entry older than a
day is touched, so entries in use stay young without a write per compile.

After a compile has written new entries, at most once an hour (a marker file's time says
when), the directory is pruned: entries not used for ``KAILASH_COMPILE_CACHE_MAX_DAYS``
(default 30) go, then the oldest until the total is below ``KAILASH_COMPILE_CACHE_MAX_MB``
(default 256) less a fifth, so that the next compiles do not prune again at once. Other
processes may read and write the cache meanwhile: a missing entry is formatted again.
"""

from __future__ import annotations

import contextlib
import os
import time
from pathlib import Path

MAX_MB = 256
MAX_DAYS = 30
PRUNE_EVERY = 3600.0  # seconds between two prunings of one cache directory
REFRESH_AFTER = 86400.0  # an entry found in use is touched when older than this
_MARKER = ".pruned"
_DAY = 86400.0


def read_entry(path: Path, limit: int) -> bytes | None:
    """The entry's bytes (None if missing or longer than ``limit``); an old entry found is touched."""
    try:
        with path.open("rb") as handle:
            data = handle.read(limit + 1)
            if len(data) > limit:
                return None
            if time.time() - os.fstat(handle.fileno()).st_mtime > REFRESH_AFTER:
                with contextlib.suppress(OSError):
                    os.utime(handle.fileno())
            return data
    except OSError:
        return None


def maybe_prune(directory: Path | None) -> None:
    """Prune ``directory`` if it was not pruned within the last hour (by any process)."""
    if directory is None:
        return
    marker = directory / _MARKER
    now = time.time()
    try:
        if now - marker.stat().st_mtime < PRUNE_EVERY:
            return
    except FileNotFoundError:
        pass
    except OSError:
        return
    with contextlib.suppress(OSError):
        marker.touch()
        prune(directory, max_bytes=_limit("KAILASH_COMPILE_CACHE_MAX_MB", MAX_MB) * 2**20, max_age=_max_age(), now=now)


def prune(directory: Path, *, max_bytes: int, max_age: float, now: float) -> None:
    """Remove entries older than ``max_age`` seconds, then the oldest until below ``max_bytes``
    less a fifth if the total is above ``max_bytes``."""
    entries: list[tuple[float, int, str]] = []
    for sub in _entry_directories(directory):
        with contextlib.suppress(OSError), os.scandir(sub) as found:
            for entry in found:
                with contextlib.suppress(OSError):
                    if entry.is_file(follow_symlinks=False):
                        status = entry.stat(follow_symlinks=False)
                        entries.append((status.st_mtime, status.st_size, entry.path))
    entries.sort()
    total = sum(size for _, size, _ in entries)
    shrink_to = max_bytes - max_bytes // 5 if total > max_bytes else total
    for mtime, size, path in entries:
        if now - mtime <= max_age and total <= shrink_to:
            break
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)
        total -= size


def _entry_directories(directory: Path) -> list[str]:
    """The directories entries live in: two hex digits of their key each, ``modules``, ``states`` and ``templates``."""
    try:
        with os.scandir(directory) as found:
            return [
                entry.path
                for entry in found
                if entry.is_dir(follow_symlinks=False)
                and (entry.name in ("modules", "states", "templates") or (len(entry.name) == 2 and _is_hex(entry.name)))
            ]
    except OSError:
        return []


def _is_hex(name: str) -> bool:
    return all(char in "0123456789abcdef" for char in name)


def _limit(variable: str, default: int) -> int:
    text = os.environ.get(variable, "")
    try:
        value = int(text) if text else default
    except ValueError:
        return default
    return value if value > 0 else default


def _max_age() -> float:
    return _limit("KAILASH_COMPILE_CACHE_MAX_DAYS", MAX_DAYS) * _DAY
