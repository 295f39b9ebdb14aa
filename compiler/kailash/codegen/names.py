"""Python identifiers for node ids and workflow names, and the names a module reserves."""

from __future__ import annotations

import builtins
import keyword
import re

# Standard-library modules a code block may use without importing them (as the guide's
# own examples do); the generated module imports them at the top.
AUTO_IMPORT_MODULES = frozenset(
    {
        "asyncio",
        "base64",
        "collections",
        "copy",
        "csv",
        "dataclasses",
        "datetime",
        "decimal",
        "enum",
        "functools",
        "hashlib",
        "heapq",
        "io",
        "itertools",
        "json",
        "logging",
        "math",
        "operator",
        "os",
        "pathlib",
        "random",
        "re",
        "secrets",
        "statistics",
        "string",
        "textwrap",
        "time",
        "traceback",
        "uuid",
        "zlib",
    }
)

BUILTIN_NAMES = frozenset(dir(builtins))

# Module-level names every generated module defines or imports.
MODULE_NAMES = frozenset({"rt", "Any", "Mapping", "run", "RESOURCES"})

RESERVED = BUILTIN_NAMES | AUTO_IMPORT_MODULES | MODULE_NAMES


def to_identifier(text: str) -> str:
    """A valid identifier spelled as close to ``text`` as possible (collisions are checked elsewhere)."""
    ident = re.sub(r"\W", "_", text, flags=re.ASCII)
    if not ident or ident[0].isdigit():
        ident = "n_" + ident
    if keyword.iskeyword(ident) or keyword.issoftkeyword(ident):
        ident += "_"
    return ident


def node_identifier(node_id: str) -> str:
    """The function name of a node: never shadows a builtin, an imported module or a module name."""
    ident = to_identifier(node_id)
    if ident in RESERVED or ident.startswith("__"):
        ident = ident.strip("_") + "_node" if ident.strip("_") else "node"
    return ident
