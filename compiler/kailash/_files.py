"""Writing files so that a reader never sees half of one, and a failed write leaves nothing behind."""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
import stat
from pathlib import Path


def write_atomically(path: Path, text: str | bytes) -> None:
    """Replace whatever is at ``path`` with a file only its owner can read (for caches).

    A symbolic link at ``path`` is replaced, never followed: whoever can write the cache
    directory cannot make a cache write land somewhere else.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    _replace(path, text, new_mode=0o600, keep_mode=None)


def write_output(path: Path, text: str) -> None:
    """Write a file the user asked for, as an editor saving it would.

    A new file gets the permissions the umask allows; an existing file keeps its mode; a
    symbolic link is written through: its target is replaced atomically and the link stays.
    Raises OSError (``errno.ELOOP`` for a loop of links) and leaves nothing behind.
    """
    target = _link_target(path)
    try:
        keep_mode: int | None = stat.S_IMODE(target.stat().st_mode)
    except FileNotFoundError:
        keep_mode = None
    _replace(target, text, new_mode=0o666, keep_mode=keep_mode)


def _link_target(path: Path) -> Path:
    if not path.is_symlink():
        return path
    target = Path(os.path.realpath(path))
    if target.is_symlink():  # realpath stops resolving inside a loop of links
        raise OSError(errno.ELOOP, os.strerror(errno.ELOOP), str(path))
    return target


def _replace(target: Path, text: str | bytes, *, new_mode: int, keep_mode: int | None) -> None:
    """Write ``text`` (UTF-8) or bytes to a new file beside ``target`` (created with ``new_mode``
    less the umask, then set to ``keep_mode`` if given) and rename it over ``target``."""
    data = text.encode("utf-8") if isinstance(text, str) else text  # what cannot be encoded leaves nothing
    descriptor, temporary = _create_beside(target, new_mode)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            if keep_mode is not None and hasattr(os, "fchmod"):  # not on Windows before Python 3.13
                os.fchmod(handle.fileno(), keep_mode)
            handle.write(data)
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def _create_beside(target: Path, mode: int) -> tuple[int, Path]:
    # A short name of its own, so a target name near the file system's limit still fits.
    for _ in range(100):
        temporary = target.parent / f"tmp{secrets.token_hex(6)}.tmp"
        try:
            return os.open(
                temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), mode
            ), temporary
        except FileExistsError:
            continue
    raise FileExistsError(errno.EEXIST, "no unused temporary file name", str(target.parent))
