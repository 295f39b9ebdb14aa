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
import select
import signal
import struct
import sys
import time
from dataclasses import dataclass
from typing import Any

_LENGTH = struct.Struct("!Q")
# How long the compiler waits for the helper's answer before formatting in its own process (a
# helper stopped or stuck must not hang the command): far more than black takes.
_PATIENCE = 60.0
_PATIENCE_PER_TEXT = 5.0


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
    compiler = os.getpid()
    # Ctrl-C is held back across the fork: the helper must never raise KeyboardInterrupt into
    # the compiler's code before it has made Ctrl-C end it quietly.
    held = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        pid = os.fork()
    except OSError:
        signal.pthread_sigmask(signal.SIG_SETMASK, held)
        for fd in (requests_read, requests_write, replies_read, replies_write):
            os.close(fd)
        return
    if pid == 0:  # the helper: it never returns into the compiler's code
        status = 1
        try:
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            signal.pthread_sigmask(signal.SIG_SETMASK, held)
            _end_with(compiler)
            os.close(requests_write)
            os.close(replies_read)
            _detach_standard_streams()
            _serve(requests_read, replies_write)
            status = 0
        finally:
            os._exit(status)
    signal.pthread_sigmask(signal.SIG_SETMASK, held)
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
        replies = _receive(helper.replies, timeout=_PATIENCE + _PATIENCE_PER_TEXT * len(texts))
    except (OSError, EOFError, ValueError, TypeError, TimeoutError):
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


def _end_with(compiler: int) -> None:
    """The kernel ends the helper when the compiler's process ends, however it ends (it would
    otherwise finish importing black first, holding whatever the compiler's caller passed it)."""
    import ctypes

    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != compiler:  # it ended before the request took effect
        os._exit(0)


_PR_SET_PDEATHSIG = 1


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


def _receive(fd: int, timeout: float | None = None) -> Any:
    """The next message on ``fd``; TimeoutError when the whole of it takes longer than ``timeout``."""
    deadline = time.monotonic() + timeout if timeout is not None else None
    (length,) = _LENGTH.unpack(_read_exactly(fd, _LENGTH.size, deadline))
    return marshal.loads(_read_exactly(fd, length, deadline))


def _read_exactly(fd: int, size: int, deadline: float | None = None) -> bytes:
    parts: list[bytes] = []
    while size:
        if deadline is not None and not select.select([fd], [], [], max(0.0, deadline - time.monotonic()))[0]:
            raise TimeoutError
        part = os.read(fd, min(size, 1 << 20))
        if not part:
            raise EOFError
        parts.append(part)
        size -= len(part)
    return b"".join(parts)
