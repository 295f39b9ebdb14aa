"""Python identifiers for node ids and workflow names, and the names a module reserves."""

from __future__ import annotations

import ast
import hashlib
import re
import unicodedata
from collections.abc import Iterable, Set

from ..python_names import BUILTIN_NAMES as BUILTIN_NAMES  # re-exported: the names a module reserves
from ..python_names import STDLIB_MODULES, is_keyword

# Standard-library modules a code block may use without importing them (as the guide's
# own examples do); the generated module imports them at the top.
STDLIB_AUTO_IMPORTS = frozenset(
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

# Third-party modules bound the same way: the guide's own "Error Handling and Recovery"
# example uses aiohttp without importing it. The module's docstring says to install them.
THIRD_PARTY_AUTO_IMPORTS = frozenset({"aiohttp", "asyncpg", "redis"})

AUTO_IMPORT_MODULES = STDLIB_AUTO_IMPORTS | THIRD_PARTY_AUTO_IMPORTS

# The locals of run(): a node function of that name would be shadowed there (run() reads
# nothing else of the module under these names, so an import or helper may have them).
RUN_LOCALS = frozenset({"r", "inputs", "resources"})

# Module-level names every generated module defines or imports, and the locals of run().
MODULE_NAMES = frozenset({"rt", "Any", "Mapping", "run", "RESOURCES", "SOURCE_LINES"}) | RUN_LOCALS

# Module-level names Python itself provides; code blocks may read them.
MODULE_DUNDERS = frozenset({"__name__", "__file__", "__doc__", "__spec__", "__loader__", "__package__"})

RESERVED = BUILTIN_NAMES | AUTO_IMPORT_MODULES | MODULE_NAMES


def to_identifier(text: str) -> str:
    """A valid ASCII identifier spelled as close to ``text`` as possible (collisions are checked elsewhere).

    ``text`` is read in Python's normal form (NFKC: black-letter H is ``H``) first. The result never
    starts with a digit, even once its leading underscores are stripped (``__1`` is ``n___1``).
    """
    ident = re.sub(r"\W", "_", unicodedata.normalize("NFKC", text), flags=re.ASCII)
    if not ident or ident.lstrip("_")[:1].isdigit():
        ident = "n_" + ident
    if is_keyword(ident):
        ident += "_"
    return ident


# Modules a generated module (or its runtime) imports: an output file of the same name
# beside it would be imported in their place.
_SHADOWED_MODULES = frozenset({"kailash", "kailash_rt", "aiohttp", "asyncpg", "redis", "jinja2", "black", "libcst"})


def module_identifier(workflow_name: str) -> str:
    """The generated module's name: the workflow name as an identifier that shadows no module."""
    ident = to_identifier(workflow_name)
    if ident in STDLIB_MODULES or ident in _SHADOWED_MODULES:
        ident += "_workflow"
    return ident


def node_identifier(node_id: str, taken: Set[str] = frozenset()) -> str:
    """The function name of a node on its own: never shadows a builtin, an imported module, a
    module name, or one of the ``taken`` names this module binds at its top level."""
    ident = to_identifier(node_id)
    if ident in RESERVED or ident.startswith("__"):
        stripped = ident.strip("_")
        if stripped[:1].isdigit():  # "__1": the name must not start with its digit
            stripped = "n_" + stripped
        ident = stripped + "_node" if stripped else "node"
    while ident in taken:
        ident += "_node"
    return ident


def node_identifiers(node_ids: Iterable[str], taken: Set[str] = frozenset()) -> dict[str, str]:
    """The function name of every node: unique in the module, whatever the order of the nodes.

    An id whose ``node_identifier`` no other id shares gets it as it is. Of several ids that
    share one, an id spelled exactly like it keeps it and each other gets a suffix derived from
    its own id (a short hash), so reordering nodes never renames one, and adding a node renames
    none but those whose identifier it comes to share.
    """
    ids = list(node_ids)
    plain = {node_id: node_identifier(node_id, taken) for node_id in ids}
    sharing: dict[str, list[str]] = {}
    for node_id in ids:
        sharing.setdefault(plain[node_id], []).append(node_id)
    idents: dict[str, str] = {}
    for ident, owners in sharing.items():
        for node_id in owners:
            if len(owners) == 1 or node_id == ident:
                idents[node_id] = ident
    used = set(taken) | RESERVED | set(idents.values())
    for node_id in sorted(node_id for node_id in ids if node_id not in idents):
        idents[node_id] = _suffixed(plain[node_id], node_id, used)
        used.add(idents[node_id])
    return {node_id: idents[node_id] for node_id in ids}


def _suffixed(ident: str, node_id: str, used: Set[str]) -> str:
    """``<ident>_<hash of node_id>``, with as few hash digits (at least 8) as keep it unused."""
    digest = hashlib.sha256(node_id.encode("utf-8", "surrogatepass")).hexdigest()
    for length in range(8, len(digest) + 1, 4):
        candidate = f"{ident}_{digest[:length]}"
        if candidate not in used:
            return candidate
    while candidate in used:
        candidate += "_"
    return candidate


def statement_bindings(statement: ast.stmt) -> list[str]:
    """Names one top-level statement binds: imports, a def or class, assignment targets."""
    if isinstance(statement, (ast.Import, ast.ImportFrom)):
        return [(a.asname or a.name).split(".")[0] for a in statement.names if a.name != "*"]
    if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return [statement.name]
    return [n.id for n in ast.walk(statement) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)]


def imported_names(source: str) -> list[str]:
    """Names bound by the top-level import statements of ``source``."""
    return [
        name
        for statement in ast.parse(source).body
        if isinstance(statement, (ast.Import, ast.ImportFrom))
        for name in statement_bindings(statement)
    ]


def top_level_bindings(source: str, *, skip: str | None = None) -> list[str]:
    """Names bound by the top-level statements of ``source`` (imports, defs, classes, assignments)."""
    return [name for statement in ast.parse(source).body for name in statement_bindings(statement) if name != skip]
