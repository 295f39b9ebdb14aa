"""The cyclic garbage collector paused while the compiler builds or compiles a workflow."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collector_paused() -> Iterator[None]:
    """The collector off for the block: the compiler makes few cycles, and a large workflow's
    many live objects would otherwise be traversed again and again (the time would grow faster
    than the workflow). What the block leaves is collected after, as usual."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
