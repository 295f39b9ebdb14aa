"""What a generated module needs of the machine it runs on, checked when it is imported.

A module states the oldest kailash-rt it runs on (``require_version``) and imports the client
libraries its code and retry exceptions use inside ``with client_libraries(__name__):``. Either
missing is one line naming what to install: run as a script, the line goes to stderr and the
process exits with status 2 (no traceback); imported by a program, it is a ``MissingRequirement``
(an ImportError) with that line as its message.

A module calls ``require_version`` before anything else of kailash_rt, and every kailash-rt from
0.1.0 on has it (and ``client_libraries``) as it is here, so a module compiled by a later
kailash-compile still fails with that one line on an older runtime.
"""

from __future__ import annotations

import contextlib
import re
import sys
from collections.abc import Iterator
from typing import NoReturn

from ._version import __version__

EXIT_CANNOT_RUN = 2
# Client libraries whose distribution (what pip installs) is named as the module is.
_SAME_NAME = frozenset({"aiohttp", "asyncpg", "redis", "temporalio"})


class MissingRequirement(ImportError):
    """A generated module cannot run here: kailash-rt is too old or a library is missing."""

    __module__ = "kailash_rt"


def require_version(needed: str, module: str) -> None:
    """Stop ``module`` (its ``__name__``) if the installed kailash-rt is older than ``needed``."""
    if version_tuple(__version__) >= version_tuple(needed):
        return
    from pathlib import Path  # only to say where the old runtime is

    where = Path(__file__).resolve().parent
    _stop(
        module,
        f"{_label(module)} needs kailash-rt {needed} or newer, and kailash-rt {__version__} is what it"
        f" imports ({where}): install kailash-rt>={needed} (from a kailash-compile checkout: pip install"
        " ./runtime_stub)",
    )


@contextlib.contextmanager
def client_libraries(module: str) -> Iterator[None]:
    """Turns a failed import of a library in its block into one line saying what to install."""
    try:
        yield
    except ModuleNotFoundError as error:
        if not error.name:
            raise
        top = error.name.split(".", 1)[0]
        how = f"pip install {top}" if top in _SAME_NAME else "install the distribution that provides it"
        _stop(
            module,
            f"{_label(module)} needs the library {top!r}, which is not installed here"
            f" ({error}): {how} (its docstring lists what to install)",
        )


def version_tuple(version: str) -> tuple[int, ...]:
    """``"0.10.2"`` -> ``(0, 10, 2)``; a suffix such as ``.dev1`` or ``rc1`` is ignored."""
    parts = []
    for part in version.split("."):
        digits = re.match(r"\d+", part)
        if digits is None:
            break
        parts.append(int(digits.group()))
        if digits.end() != len(part):
            break
    return tuple(parts)


def _label(module: str) -> str:
    """The module's file name if it has one (``out/greeting.py``), else its name."""
    loaded = sys.modules.get(module)
    filename = getattr(loaded, "__file__", None)
    return str(filename) if filename else module


def _stop(module: str, message: str) -> NoReturn:
    if module == "__main__":
        print(f"error: {message}", file=sys.stderr)
        raise SystemExit(EXIT_CANNOT_RUN)
    raise MissingRequirement(message) from None
