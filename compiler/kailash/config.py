"""Project configuration: the ``[tool.kailash-compile]`` table of a ``pyproject.toml``.

It is found as black finds its own: from the current directory upwards, the first
``pyproject.toml`` that has the table. The search stops at a directory holding ``.git`` or
``.hg`` (a repository's root; its own ``pyproject.toml`` is still read) and at the file system
root. The directory of that file is the project root: the paths in the table are relative to
it, and so are the paths a generated module names (``Source:``, each node's file:line), so
the output does not depend on where the command runs. Without such a file the project root
is the current directory.
"""

from __future__ import annotations

import difflib
import glob
import json
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CONFIG_FILE = "pyproject.toml"
TABLE = "kailash-compile"


@dataclass(frozen=True)
class Setting:
    key: str  # as written in the table
    kind: str  # "sources", "path", "bool" or "str"
    meaning: str
    off: Any = None  # a value that asks for nothing, accepted when the command lacks the option


SETTINGS: dict[str, Setting] = {
    setting.key: setting
    for setting in (
        Setting("sources", "sources", "the SOURCEs compiled when the command names none (globs allowed)"),
        Setting("output", "path", "the output directory (-o)"),
        Setting("strict", "bool", "--strict", off=False),
        Setting("vendor-runtime", "bool", "--vendor-runtime", off=False),
        Setting("templates", "path", "--templates DIR"),
        Setting("target", "str", "--target", off="asyncio"),
    )
}

_KIND_NAMES = {"sources": "a list of strings", "path": "a string", "bool": "true or false", "str": "a string"}


class ConfigError(Exception):
    """A configuration that cannot be used: the message names the file, the key and what is wrong."""


@dataclass(frozen=True)
class ProjectConfig:
    file: Path | None  # the pyproject.toml read; None when there is none
    root: Path  # the project root: the file's directory, or the current directory
    values: Mapping[str, Any] = field(default_factory=dict)  # key -> value, types checked

    def path(self, key: str) -> str | None:
        """A path setting as a path from the current directory (the table's paths are from the root)."""
        value = self.values.get(key)
        return None if value is None else _from_cwd(self.root / value)

    def sources(self) -> list[str]:
        """The ``sources`` setting, each file path made relative to the current directory and each
        glob expanded (sorted); ``package.module:attr`` sources are kept as they are."""
        found: list[str] = []
        for source in self.values.get("sources", []):
            target, colon, attribute = source.partition(":")
            if not _is_path(target, self.root):
                found.append(source)
                continue
            if _is_glob(target):
                matches = sorted(glob.glob(target, root_dir=self.root, recursive=True))
                if not matches:
                    raise ConfigError(f"{self.label}: sources entry {source!r} matches no file under {self.root}")
            else:
                matches = [target]
            found += [_from_cwd(self.root / match) + colon + attribute for match in matches]
        return found

    @property
    def label(self) -> str:
        """The file for messages: ``pyproject.toml`` relative to the current directory when under it."""
        return _from_cwd(self.file) if self.file is not None else "(no configuration file)"


def load_config(file: Path | None = None, *, start: Path | None = None) -> ProjectConfig:
    """The configuration in ``file``, or else the one found from ``start`` (the current directory)."""
    if file is None:
        file = find_config_file(start or Path.cwd())
        if file is None:
            return ProjectConfig(None, (start or Path.cwd()).resolve())
    file = file.resolve()
    return ProjectConfig(file, file.parent, _checked(_read_table(file) or {}, _from_cwd(file)))


def find_config_file(start: Path, *, tolerant: bool = False) -> Path | None:
    """The first ``pyproject.toml`` with a ``[tool.kailash-compile]`` table from ``start`` upwards.

    ``tolerant``: a ``pyproject.toml`` that cannot be read is passed over (for the paths of
    messages, which must not fail); otherwise it is a ConfigError.
    """
    start = start.resolve()
    for directory in (start, *start.parents):
        candidate = directory / CONFIG_FILE
        if candidate.is_file():
            try:
                if _read_table(candidate) is not None:
                    return candidate
            except ConfigError:
                if not tolerant:
                    raise
        if (directory / ".git").exists() or (directory / ".hg").is_dir():
            return None
    return None


def project_root(start: Path) -> Path:
    """The directory of the configuration found from ``start``, or ``start`` itself."""
    file = find_config_file(start, tolerant=True)
    return file.parent if file is not None else start.resolve()


def _read_table(file: Path) -> dict[str, Any] | None:
    """The ``[tool.kailash-compile]`` table of ``file``; None when it has none."""
    label = _from_cwd(file)
    try:
        with file.open("rb") as handle:
            document = tomllib.load(handle)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{label}: not valid TOML: {exc}") from None
    except OSError as exc:
        raise ConfigError(f"{label}: cannot be read: {exc.strerror or exc}") from None
    tool = document.get("tool")
    if not isinstance(tool, dict) or TABLE not in tool:
        return None
    table = tool[TABLE]
    if not isinstance(table, dict):
        raise ConfigError(f"{label}: tool.{TABLE} must be a table ([tool.{TABLE}]), not {_type_name(table)}")
    return table


def _checked(table: dict[str, Any], label: str) -> dict[str, Any]:
    for key, value in table.items():
        setting = SETTINGS.get(key)
        if setting is None:
            close = difflib.get_close_matches(key, SETTINGS, n=1)
            suggestion = f" (did you mean {close[0]!r}?)" if close else ""
            raise ConfigError(
                f"{label}: [tool.{TABLE}] has an unknown key {key!r}{suggestion}; the keys are {', '.join(SETTINGS)}"
            )
        if not _is_kind(value, setting.kind):
            raise ConfigError(
                f"{label}: [tool.{TABLE}] {key} must be {_KIND_NAMES[setting.kind]},"
                f" not {_type_name(value)} {toml_text(value)}"
            )
        if setting.kind in ("sources", "path", "str") and not all(value if isinstance(value, list) else [value]):
            raise ConfigError(f"{label}: [tool.{TABLE}] {key} holds an empty string")
    return dict(table)


def _is_kind(value: Any, kind: str) -> bool:
    if kind == "bool":
        return isinstance(value, bool)
    if kind == "sources":
        return isinstance(value, list) and all(isinstance(item, str) for item in value)
    return isinstance(value, str)


def toml_text(value: Any) -> str:
    """A value as TOML writes it (for messages): ``true``, ``"x"``, ``["a", 1]``."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + ", ".join(toml_text(item) for item in value) + "]"
    return json.dumps(value, ensure_ascii=False) if isinstance(value, str) else repr(value)


def _type_name(value: Any) -> str:
    names = {bool: "a boolean", int: "an integer", float: "a number", str: "a string", list: "an array"}
    return names.get(type(value), "a table" if isinstance(value, dict) else type(value).__name__)


def _is_path(target: str, root: Path) -> bool:
    """Is this SOURCE a file (``flows/a.py``, ``a.ir.json``, a glob), not ``package.module``?"""
    return target.endswith((".py", ".json")) or "/" in target or _is_glob(target) or (root / target).is_file()


def _is_glob(target: str) -> bool:
    return any(character in target for character in "*?[")


def _from_cwd(path: Path) -> str:
    """``path`` as a path from the current directory (``../flows/a.py`` from a subdirectory)."""
    try:
        return os.path.relpath(path)
    except ValueError:  # another drive, on Windows
        return str(path)
