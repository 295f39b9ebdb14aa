"""Black in a process beside the compiler's, importing itself while the workflow loads.

Importing black costs 70-150 ms: a quarter of the command's edit loop, where a chunk or two
need formatting. The ``kailash-compile`` program forks this helper first thing; it imports
black on another core while the compiler loads the workflow file, then formats what the
compiler sends it, with the same black and the same functions as the compiler's own process
would. A compile that formats nothing never waits for it, and a compile that formats many
chunks starts its own workers instead (and stops the helper).

Whatever goes wrong with the helper (it could not start, died, or a text raised in it) only
sends the work back to the compiler's process, which formats as it does without a helper:
the helper changes when black runs, never what it makes.
"""

from __future__ import annotations

import contextlib
import marshal
import os
import signal
import struct
import sys
from dataclasses import dataclass
from typing import Any

_LENGTH = struct.Struct("!Q")


@dataclass(frozen=True)
class _Helper:
    pid: int
    requests: int  # the pipe the compiler writes requests to
    replies: int  # the pipe the helper writes replies to


_helper: _Helper | None = None


def start() -> None:
    """Fork the helper, where a fork is safe (Linux; not twice)."""
    global _helper
    if _helper is not None or not sys.platform.startswith("linux") or not hasattr(os, "fork"):
        return
    requests_read, requests_write = os.pipe()
    replies_read, replies_write = os.pipe()
    try:
        pid = os.fork()
    except OSError:
        for fd in (requests_read, requests_write, replies_read, replies_write):
            os.close(fd)
        return
    if pid == 0:  # the helper: it never returns into the compiler's code
        status = 1
        try:
            os.close(requests_write)
            os.close(replies_read)
            _detach_standard_streams()
            _serve(requests_read, replies_write)
            status = 0
        finally:
            os._exit(status)
    os.close(requests_read)
    os.close(replies_write)
    _helper = _Helper(pid, requests_write, replies_read)


def stop() -> None:
    """End the helper now (it may still be importing black)."""
    global _helper
    helper, _helper = _helper, None
    if helper is None:
        return
    os.close(helper.requests)
    os.close(helper.replies)
    with contextlib.suppress(OSError):
        os.kill(helper.pid, signal.SIGKILL)
        os.waitpid(helper.pid, 0)


def running() -> int | None:
    """The helper's process id, when there is one."""
    return _helper.pid if _helper is not None else None


def run(function_name: str, texts: list[str]) -> list[tuple[bool, Any]] | None:
    """``formatting.<function_name>`` on each text in the helper: for each, (True, what it
    returned) or (False, None) when it raised there. None when there is no helper to ask, or
    it failed (it is then stopped)."""
    helper = _helper
    if helper is None:
        return None
    try:
        _send(helper.requests, (function_name, texts))
        replies = _receive(helper.replies)
    except (OSError, EOFError, ValueError, TypeError):
        replies = None
    if not isinstance(replies, list) or len(replies) != len(texts):
        stop()
        return None
    return [(bool(ok), value) for ok, value in replies]


def _serve(requests: int, replies: int) -> None:
    from .codegen import formatting

    formatting.black_mode()  # imports black: what the helper is for
    while True:
        try:
            function_name, texts = _receive(requests)
        except EOFError:  # the compiler is done
            return
        function = getattr(formatting, function_name)
        out: list[tuple[bool, Any]] = []
        for text in texts:
            try:
                out.append((True, function(text)))
            except Exception:  # the compiler's process runs it again, and reports what it raises
                out.append((False, None))
        _send(replies, out)


def _detach_standard_streams() -> None:
    """The helper holds none of the compiler's standard streams open: whoever reads the
    command's output sees it end when the command ends."""
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    os.close(devnull)


def _send(fd: int, value: Any) -> None:
    data = marshal.dumps(value)
    view = memoryview(_LENGTH.pack(len(data)) + data)
    while view:
        view = view[os.write(fd, view) :]


def _receive(fd: int) -> Any:
    (length,) = _LENGTH.unpack(_read_exactly(fd, _LENGTH.size))
    return marshal.loads(_read_exactly(fd, length))


def _read_exactly(fd: int, size: int) -> bytes:
    parts: list[bytes] = []
    while size:
        part = os.read(fd, min(size, 1 << 20))
        if not part:
            raise EOFError
        parts.append(part)
        size -= len(part)
    return b"".join(parts)
