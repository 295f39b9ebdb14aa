"""Compiled templates kept between processes, so a compile does not compile its templates again.

Jinja turns each template into Python code on first use, which costs a new process more than
rendering an edited node does. Its bytecode cache would keep that code in files that whoever can
write the cache directory could replace with code the compiler then runs; here each file is
authenticated with the user's key, as a module's state is (see compile_state.py), and a file
that fails the check is compiled anew. Jinja itself drops an entry whose template source or
Python version changed.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import TYPE_CHECKING

from ..compile_state import read_authenticated, write_authenticated

if TYPE_CHECKING:
    import jinja2
    import jinja2.bccache


def bytecode_cache(directory: Path | None) -> jinja2.BytecodeCache | None:
    """A cache of compiled templates in ``directory`` (None: templates are compiled in each process)."""
    if directory is None:
        return None
    import jinja2

    where = directory / "templates"

    class AuthenticatedBytecodeCache(jinja2.BytecodeCache):
        def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
            data = read_authenticated(_path(where, bucket.key), 64 * 2**20)
            if data is not None:
                bucket.bytecode_from_string(data)

        def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
            write_authenticated(_path(where, bucket.key), bucket.bytecode_to_string())

    return AuthenticatedBytecodeCache()


def _path(directory: Path, bucket_key: str) -> Path:
    return directory / hashlib.sha256(bucket_key.encode()).hexdigest()
