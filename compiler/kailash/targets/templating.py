"""A target's templates: the shipped ones, with a user's directory before them.

``kailash-compile --templates DIR`` (``compile_ir(ir, templates=DIR)``) puts DIR before the
target's shipped templates, so a file in DIR replaces the shipped template of its name. A
user's template can now be wrong in ways a shipped one is not, so rendering with one says
where: a Jinja syntax error, an undefined name or a missing include is a TemplateError naming
the template file and line; code that does not parse is one naming the template and the
generated line. The output still goes through the same validation and formatting.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..compile_state import ModuleState, remembered
from ..errors import CompilerBug, TemplateError

if TYPE_CHECKING:
    import jinja2


def template_loader(shipped: list[Path], user: Path | None) -> jinja2.BaseLoader:
    """Templates by file name: ``user``'s first (as openapi-python-client's custom templates), then the shipped."""
    import jinja2

    loader = jinja2.FileSystemLoader([str(path) for path in shipped])
    if user is None:
        return loader
    return jinja2.ChoiceLoader([jinja2.FileSystemLoader(str(user)), loader])


def user_directory(templates: Path | None) -> Path | None:
    """``templates`` as a cache key (absolute, links resolved); a TemplateError unless it is a directory."""
    if templates is None:
        return None
    if not templates.is_dir():
        problem = "is not a directory" if templates.exists() else "does not exist"
        raise TemplateError(
            f"the templates directory {templates} {problem}"
            "\nhint: give --templates a directory holding the templates you change (copies of shipped ones)"
        )
    return templates.resolve()


@dataclass(frozen=True)
class Templates:
    """A target's Jinja environment (made, and Jinja imported, when a template is first
    rendered) and where its templates come from."""

    make_env: Callable[[], jinja2.Environment]
    shipped: tuple[Path, ...]
    user: Path | None = None

    @cached_property
    def env(self) -> jinja2.Environment:
        return self.make_env()

    def render(self, name: str, context: Mapping[str, Any], *, what: str, state: ModuleState | None = None) -> str:
        """Template ``name`` rendered; ``what`` (``node 'a'``) says what it renders, for messages.
        ``state``: what the last compile of the module rendered, looked up by the context first.

        With a user's templates the text must parse as Python on its own, as every chunk of a
        module does: otherwise the error names the user's templates that made it.
        """
        return remembered(state, f"template {name}", dict(context), lambda: self._render(name, context, what))

    def _render(self, name: str, context: Mapping[str, Any], what: str) -> str:
        import jinja2

        try:
            text = self.env.get_template(name).render(context)
        except jinja2.TemplateSyntaxError as exc:
            problem = f"not a valid template: {exc.message}"
            todo = "fix the template and compile again"
            raise self._failure(exc.filename or name, exc.lineno, problem, todo) from None
        except Exception as exc:  # an undefined name, a missing include, a filter given the wrong value
            filename, line = _innermost_template_frame(exc, self._directories())
            todo = f"{name} is rendered with {', '.join(context)} (see how the shipped one uses them)"
            raise self._failure(filename or name, line, f"rendering {what}: {_described(exc)}", todo) from exc
        if self.user is not None:
            self._check_parses(name, text, what)
        return text

    def require_line(self, name: str, text: str, line: str, purpose: str) -> None:
        """With a user's templates: ``text`` (rendered from ``name``) has the line ``line`` (``purpose``)."""
        if self.user is not None and f"\n{line}\n" not in f"\n{text}":
            raise TemplateError(
                f"{self._blame(name)}: its output has no line {line!r} ({purpose})"
                f"\nhint: keep that line as the shipped {self._shipped_path(name)} has it"
            )

    def _check_parses(self, name: str, text: str, what: str) -> None:
        try:
            compile(text, name, "exec", dont_inherit=True)
        except SyntaxError as exc:
            yours = self._user_templates_used(name)
            if not yours:
                raise CompilerBug(f"the shipped template {name} renders invalid code for {what}: {exc}") from exc
            generated = (exc.text or "").rstrip("\n")
            raise TemplateError(
                f"{self._blame(name)}: the code it renders for {what} is not valid Python: {exc.msg}"
                f"\n    generated line {exc.lineno} | {generated}"
                "\nhint: a template renders whole Python statements; compare yours with the shipped"
                f" {', '.join(self._shipped_path(template) for template in yours)}"
            ) from None

    def _failure(self, filename: str, line: int | None, problem: str, todo: str) -> Exception:
        path = Path(filename) if Path(filename).is_absolute() else self._path_of(filename)
        where = f"{_shown(path)}:{line}" if line else _shown(path)
        if self.user is not None and path.is_relative_to(self.user):
            return TemplateError(f"{where}: {problem}\nhint: {todo}")
        yours = self._user_templates_used(path.name)
        if self.user is not None and yours:
            return TemplateError(
                f"{where} (shipped): {problem}\nhint: it uses your {', '.join(_shown(self.user / t) for t in yours)},"
                " which must define what the shipped template of that name does"
            )
        return CompilerBug(f"the shipped template {where} failed: {problem}; this is a kailash-compile bug")

    def _path_of(self, name: str) -> Path:
        """Where the template ``name`` is read from: the user's directory, else the shipped ones."""
        for directory in [*([self.user] if self.user is not None else []), *self.shipped]:
            if (directory / name).is_file():
                return directory / name
        return Path(name)

    def _shipped_path(self, name: str) -> str:
        return next((_shown(d / name) for d in self.shipped if (d / name).is_file()), name)

    def users_part(self, name: str) -> str | None:
        """How a message names the user's templates in template ``name``'s output (the user's file,
        or the shipped template with the user's templates it includes), or None when it has none."""
        return self._blame(name) if self._user_templates_used(name) else None

    def _blame(self, name: str) -> str:
        """``name``, or the user's templates it includes, for a message."""
        yours = self._user_templates_used(name)
        if self.user is None or not yours:
            return f"{name} (shipped)"
        if name in yours:
            return _shown(self.user / name)
        return f"{name} (shipped, with your {', '.join(_shown(self.user / t) for t in yours)})"

    def _user_templates_used(self, name: str) -> list[str]:
        """The templates of the user's directory that ``name`` is, includes or imports, at any depth
        (worked out only for a message, so never stale)."""
        if self.user is None:
            return []
        return sorted(t for t in self._referenced(name) if (self.user / t).is_file())

    def _referenced(self, name: str) -> set[str]:
        found: set[str] = set()
        waiting = [name]
        while waiting:
            current = waiting.pop()
            if current in found:
                continue
            found.add(current)
            waiting.extend(self._references_of(current))
        return found

    def _references_of(self, name: str) -> Iterator[str]:
        import jinja2
        import jinja2.meta

        try:
            assert self.env.loader is not None
            source, _, _ = self.env.loader.get_source(self.env, name)
            references = jinja2.meta.find_referenced_templates(self.env.parse(source))
        except jinja2.TemplateError:
            return
        yield from (reference for reference in references if reference is not None)

    def _directories(self) -> list[Path]:
        return [*self.shipped, *([self.user] if self.user is not None else [])]


def _innermost_template_frame(exc: BaseException, directories: list[Path]) -> tuple[str | None, int | None]:
    """The template file and line the exception was raised at (Jinja gives template code such frames)."""
    found: tuple[str | None, int | None] = (None, None)
    for frame in traceback.extract_tb(exc.__traceback__):
        if any(Path(frame.filename).is_relative_to(directory) for directory in directories):
            found = (frame.filename, frame.lineno)
    return found


def _described(exc: Exception) -> str:
    import jinja2

    if isinstance(exc, jinja2.TemplateNotFound):
        return f"it includes {exc.name!r}, which is neither among your templates nor shipped"
    if isinstance(exc, jinja2.UndefinedError):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"


def _shown(path: Path) -> str:
    """A template's path for a message: relative to the working directory when under it."""
    try:
        return path.relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return path.as_posix()
