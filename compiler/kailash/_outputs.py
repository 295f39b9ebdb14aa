"""The files a compile writes (each module, its IR with --emit-ir, its graph with --graph, the
runtime with --vendor-runtime), and which of them are stale.

Every output path is checked before anything is written: one that cannot hold its file is an
``OutputError``, and nothing is written.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ._files import write_output
from .errors import WorkflowError

if TYPE_CHECKING:
    from .codegen import GeneratedModule
    from .ir import WorkflowIR


@dataclass(frozen=True)
class OutputFile:
    filename: str
    text: str
    ir: WorkflowIR | None  # the workflow it comes from, for messages (None: a file of the runtime)


def output_files(
    modules: list[GeneratedModule], *, emit_ir: bool, vendor_runtime: bool = False, graph: bool = False
) -> list[OutputFile]:
    """Each module, followed by its IR file when ``emit_ir`` and its Mermaid graph when ``graph``;
    then the runtime's files when ``vendor_runtime``. What only an option writes is imported for it."""
    files = []
    for module in modules:
        ir = module.plan.ir
        files.append(OutputFile(module.filename, module.source, ir))
        if emit_ir:
            from .ir_files import ir_file_text, ir_filename

            files.append(OutputFile(ir_filename(module.name), ir_file_text(ir), ir))
        if graph:
            from .graphs import to_mermaid, workflow_graph

            files.append(OutputFile(f"{module.name}.mmd", to_mermaid(workflow_graph(module.plan)), ir))
    if vendor_runtime:
        from .vendoring import runtime_files

        files += [OutputFile(filename, text, None) for filename, text in runtime_files()]
    return files


class OutputError(Exception):
    """An output path the files cannot be written to; found before anything is written."""


def changed_files(files: list[OutputFile], output_dir: Path) -> list[tuple[OutputFile, str | None]]:
    """The files that are missing or differ, each with the text there now (None if missing)."""
    limit = _name_max(output_dir)
    changed = []
    for file in files:
        size = len(os.fsencode(file.filename))
        if size > limit and file.ir is not None:
            raise OutputError(
                WorkflowError(
                    f"workflow {_abbreviated(file.ir.name)!r} is written to a file name of {size} bytes;"
                    f" file names in {output_dir} may have at most {limit}",
                    location=file.ir.location,
                    hint="give the workflow a shorter name (or print the module with --stdout)",
                ).render()
            )
        old = _read(output_dir / file.filename, output_dir)
        if old != file.text:
            changed.append((file, old))
    return changed


def write_outputs(
    modules: list[GeneratedModule], output_dir: Path, *, emit_ir: bool, vendor_runtime: bool, graph: bool
) -> list[str]:
    """Write what ``output_files`` lists that is missing or stale; the file names written."""
    files = output_files(modules, emit_ir=emit_ir, vendor_runtime=vendor_runtime, graph=graph)
    changed = changed_files(files, output_dir)
    write_files(changed, output_dir)
    return [file.filename for file, _ in changed]


def write_files(changed: list[tuple[OutputFile, str | None]], output_dir: Path) -> None:
    """Write each changed file into ``output_dir`` (created if need be), each atomically; the
    files left out of ``changed`` are not touched. OutputError when one cannot be written."""
    try:
        output_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"cannot create the output directory {output_dir}: {exc.strerror or exc}") from None
    for file, _ in changed:
        path = output_dir / file.filename
        try:
            path.parent.mkdir(parents=True, exist_ok=True)  # the runtime's package directories
            write_output(path, file.text)
        except OSError as exc:
            raise OutputError(f"cannot write {path}: {exc.strerror or exc}") from None


def _read(path: Path, output_dir: Path) -> str | None:
    """The text of an output file, None if there is none; OutputError if it cannot be one."""
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except IsADirectoryError:
        raise OutputError(
            f"{path} is a directory, so the file cannot be written there\nhint: move it away or choose another -o DIR"
        ) from None
    except NotADirectoryError:
        blocker = _file_on_the_way(path.parent)
        raise OutputError(f"cannot use {output_dir} as the output directory: {blocker} is a file") from None
    except UnicodeDecodeError:
        raise OutputError(
            f"{path} exists and is not UTF-8 text, so it is not a file kailash-compile wrote; it was left as it is"
            "\nhint: move it away or delete it, then compile again"
        ) from None
    except OSError as exc:
        raise OutputError(f"cannot read {path}: {exc.strerror or exc}") from None


def _file_on_the_way(directory: Path) -> Path:
    """The first ancestor of ``directory`` (or itself) that exists and is not a directory."""
    for candidate in [*reversed(directory.parents), directory]:
        if candidate.exists() and not candidate.is_dir():
            return candidate
    return directory


def _abbreviated(name: str, length: int = 40) -> str:
    return name if len(name) <= length else name[:length] + "…"


def _name_max(directory: Path) -> int:
    """The longest file name, in bytes, the file system of ``directory`` (or its nearest
    existing ancestor) allows."""
    for candidate in [directory, *directory.parents]:
        try:
            return os.pathconf(candidate, "PC_NAME_MAX")
        except (OSError, ValueError):
            continue
    return 255
