"""Resources and exceptions the property test's workflows use.

This module is importable (``tests.hostile_factories``), so a compiled module can import
``EchoFactory`` and ``Outer.Inner`` from it; ``INLINE_ECHO_FACTORY`` is a class defined
inside a function, so the compiler copies its source into the module instead.
"""

from __future__ import annotations

from typing import Any

from kailash.resources import ResourceFactory

# The default of a secret parameter of the inlined factory class: it must never be copied
# into a generated file.
INLINE_DEFAULT_TOKEN = "inline-default-token-4c1e97"


class Echo:
    """A resource whose methods give back what they are given (and the factory's settings)."""

    def __init__(self, settings: dict[str, Any]) -> None:
        self.settings = settings
        self.inner = self

    # ``self_`` is positional-only so that any keyword, "self" too, can be echoed.
    def echo(self_, /, **kwargs: Any) -> dict[str, Any]:
        return kwargs

    async def echo_async(self_, /, **kwargs: Any) -> dict[str, Any]:
        return kwargs

    def configured(self_, /) -> dict[str, Any]:
        return self_.settings


class EchoFactory(ResourceFactory):
    """Makes an Echo of the keyword arguments it is constructed with."""

    def __init__(self, **settings: Any) -> None:
        self.settings = settings

    async def create(self) -> Echo:
        return Echo(self.settings)


def _inline_factory_class() -> type[ResourceFactory]:
    class InlineEchoFactory(ResourceFactory):
        def __init__(self, token: str = "inline-default-token-4c1e97", **settings: Any) -> None:
            self.settings = {"token": token, **settings}

        async def create(self) -> Echo:
            return Echo(self.settings)

    return InlineEchoFactory


INLINE_ECHO_FACTORY = _inline_factory_class()


class Outer:
    class Inner(Exception):
        """An exception class nested in a class: ``tests.hostile_factories.Outer.Inner``."""
