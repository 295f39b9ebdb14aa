"""The facts of units of generated code as read_facts reads them with ``ast``: what a unit binds
in the module's namespace (as Python's scopes decide), what it imports, the ``<runner>.node``
calls it makes and the shape of its ``run()``; and code nested deeper than CPython's parser goes.

The examples' and golden workflows' modules are checked whole in test_validate.py; here each
construct where a reader of scopes could go wrong has its own small unit.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest
from kailash.errors import CompilerBug
from kailash.targets.asyncio.facts import Binding, Import, NodeCall, RunShape, TooDeep, UnitFacts
from kailash.targets.asyncio.read_facts import read_unit, read_units


def facts(code: str) -> UnitFacts:
    return read_unit(textwrap.dedent(code).lstrip("\n"))


def bound(code: str) -> list[tuple[str, int, str, bool, bool]]:
    """(name, line, form, top, via_global) of each module-level binding, in the order of the code."""
    return [(b.name, b.line, b.form, b.top, b.via_global) for b in facts(code).bindings]


def test_statements_at_the_top_bind_at_the_top() -> None:
    assert bound(
        """
        x = 1
        a, (b, [c, *d]) = pair()
        e: int
        f += 1
        g.attribute = h[0] = 2
        del x
        async def i(): pass
        class J: pass
        """
    ) == [
        ("x", 1, "assignment", True, False),
        ("a", 2, "assignment", True, False),
        ("b", 2, "assignment", True, False),
        ("c", 2, "assignment", True, False),
        ("d", 2, "assignment", True, False),
        ("e", 3, "assignment", True, False),
        ("f", 4, "assignment", True, False),
        ("i", 7, "async def", True, False),
        ("J", 8, "class", True, False),
    ]


def test_blocks_bind_in_the_module_but_not_at_the_top() -> None:
    assert bound(
        """
        for item in items:
            last = item
        with open(path) as handle, pair() as (left, right):
            pass
        if ready:
            import json
        try:
            pass
        except (
            ValueError,
            TypeError,
        ) as error:
            pass
        """
    ) == [
        ("item", 1, "assignment", False, False),
        ("last", 2, "assignment", False, False),
        ("handle", 3, "assignment", False, False),
        ("left", 3, "assignment", False, False),
        ("right", 3, "assignment", False, False),
        ("json", 6, "import", False, False),
        ("error", 12, "assignment", False, False),  # the line of its name, after the handler's exceptions
    ]


def test_imports_bind_qualified_names_and_every_module_is_listed() -> None:
    found = facts(
        """
        import os, os.path
        import a.b.c
        import a.b as ab
        from . import x, y as z
        from ..pkg.mod import (
            p,
            q as r,
        )
        from m import *
        """
    )
    assert [(b.name, b.line, b.target) for b in found.bindings] == [
        ("os", 1, "os"),
        ("os", 1, "os"),
        ("a", 2, "a"),
        ("ab", 3, "a.b"),
        ("x", 4, ".x"),
        ("z", 4, ".y"),
        ("p", 5, "..pkg.mod.p"),
        ("r", 5, "..pkg.mod.q"),
    ]
    assert found.imports == (
        Import("os", 1),
        Import("os.path", 1),
        Import("a.b.c", 2),
        Import("a.b", 3),
        Import(".", 4),
        Import("..pkg.mod", 5),
        Import("m", 9),
    )


def test_global_reaches_the_module_only_from_the_scope_that_declares_it() -> None:
    found = facts(
        """
        def outer():
            global shared
            shared = 1
            own = 2
            def inner():
                shared = 3  # inner's own: the global statement is outer's
                global deeper
                deeper = 4
                import json
            def later():
                global json
                import json
        """
    )
    assert [(b.name, b.line, b.form, b.top, b.via_global) for b in found.bindings] == [
        ("outer", 1, "def", True, False),
        ("shared", 3, "assignment", False, True),
        ("deeper", 8, "assignment", False, True),
        ("json", 12, "import", False, True),
    ]
    assert found.declared_global == ("deeper", "json", "shared")
    assert found.imports == (Import("json", 9), Import("json", 12))


def test_class_bodies_keep_their_names_unless_they_declare_them_global() -> None:
    assert bound(
        """
        class Outer(Base, metaclass=Meta):
            attribute = 1
            def method(self):
                global from_method
                from_method = 2
            class Inner:
                global from_inner
                from_inner = 3
                kept = 4
        """
    ) == [
        ("Outer", 1, "class", True, False),
        ("from_method", 5, "assignment", False, True),
        ("from_inner", 8, "assignment", False, True),
    ]


def test_comprehensions_keep_their_targets_and_assignment_expressions_bind_around_them() -> None:
    assert bound(
        """
        values = [item for item in items if (seen := item)]
        table = {key: value for key, value in pairs}
        nested = [[(deep := cell) for cell in row] for row in rows]
        def function():
            [(local := item) for item in items]
            global chosen
            [(chosen := item) for item in items]
        lambda_ = lambda a=(default := 1): (a, (inside := 2))
        """
    ) == [
        ("seen", 1, "assignment", False, False),
        ("values", 1, "assignment", True, False),
        ("table", 2, "assignment", True, False),
        ("deep", 3, "assignment", False, False),
        ("nested", 3, "assignment", True, False),
        ("function", 4, "def", True, False),
        ("chosen", 7, "assignment", False, True),
        ("default", 8, "assignment", False, False),
        ("lambda_", 8, "assignment", True, False),
    ]


def test_decorators_defaults_and_annotations_bind_in_the_scope_around_a_function() -> None:
    assert bound(
        """
        @decorate(chosen := 1)
        def function(a, b=(default := 2), *, c: (annotated := int) = 3) -> (returned := int):
            inner = 4
        """
    ) == [
        ("chosen", 1, "assignment", False, False),
        ("annotated", 2, "assignment", False, False),
        ("default", 2, "assignment", False, False),
        ("function", 2, "def", True, False),
        ("returned", 2, "assignment", False, False),
    ]


def test_match_patterns_bind_their_captures() -> None:
    assert bound(
        """
        match command:
            case [first, *rest]:
                pass
            case {"kind": kind, **others}:
                pass
            case Point(x=px, y=0) as point:
                pass
            case (1 | 2) as number:
                pass
            case {"key": value,
                  **more}:
                pass
            case str() | bytes() | [*_] | _:
                pass
        """
    ) == [
        ("first", 2, "assignment", False, False),
        ("rest", 2, "assignment", False, False),
        ("kind", 4, "assignment", False, False),
        ("others", 4, "assignment", False, False),
        ("point", 6, "assignment", False, False),
        ("px", 6, "assignment", False, False),
        ("number", 8, "assignment", False, False),
        ("value", 10, "assignment", False, False),
        ("more", 11, "assignment", False, False),
    ]


def test_except_star_binds_its_group() -> None:
    assert bound(
        """
        try:
            pass
        except* ValueError as group:
            pass
        except* (TypeError, KeyError) as other:
            import json
        """
    ) == [
        ("group", 3, "assignment", False, False),
        ("other", 5, "assignment", False, False),
        ("json", 6, "import", False, False),
    ]


@pytest.mark.skipif(sys.version_info < (3, 12), reason="type statements are Python 3.12+")
def test_a_type_alias_binds_its_name() -> None:
    assert bound("type Pair = tuple[int, int]\ndef f():\n    type Local = int\n") == [
        ("Pair", 1, "assignment", True, False),
        ("f", 2, "def", True, False),
    ]


def test_a_name_is_found_on_its_own_line() -> None:
    assert bound(
        """
        café = "crème"; brûlée = 1
        def \\
            spaced():
            pass
        try:
            pass
        except (
            ValueError
        ) as error:
            pass
        """
    ) == [
        ("brûlée", 1, "assignment", True, False),
        ("café", 1, "assignment", True, False),
        ("spaced", 3, "def", True, False),
        ("error", 9, "assignment", False, False),
    ]


# -- calls and run() ---------------------------------------------------------------------------
def test_calls_count_in_the_module_scope_only() -> None:
    found = facts(
        """
        r.node("top", top)
        @rt.node(timeout=30)
        async def decorated():
            r.node("inside", inside)
        listed = [r.node("in_comprehension", f) for _ in items]
        other.r.node("attribute", f)
        """
    )
    assert found.calls == (NodeCall("r", "top", "top", 1), NodeCall("rt", None, None, 2))


def test_run_shape() -> None:
    found = facts(
        """
        async def run(inputs, *, extra=None):
            global counter
            counter = 1
            helper = 2
            [(picked := item) for item in inputs]
            def nested():
                nonlocal helper
                helper = 3
                r.node("nested", n)
            async with rt.Run("flow", inputs) as r:
                r.node("a", a)
                b_out = r.node("b", b, v=1)
                r.node(f"c", c)
                r.node("d" "e", d)
                r.node(b"f", f)
                r.node(*args, "g", g)
                r.node("h", x.y)
                [r.node("in_comprehension", c) for _ in range(1)]
                (lambda: r.node("in_lambda", c))()
            return r
        """
    )
    assert found.bindings == (
        Binding("run", 1, "async def", True, False),
        Binding("counter", 3, "assignment", False, True),
    )
    assert found.runs == (
        RunShape(
            line=1,
            asynchronous=True,
            runner="r",
            locals=(
                ("b_out", 12),
                ("extra", 1),
                ("helper", 4),
                ("helper", 8),
                ("inputs", 1),
                ("nested", 6),
                ("picked", 5),
                ("r", 10),
            ),
            declared_global=("counter",),
            calls=(
                NodeCall("r", "a", "a", 11),
                NodeCall("r", "b", "b", 12),
                NodeCall("r", None, "c", 13),
                NodeCall("r", "de", "d", 14),
                NodeCall("r", None, "f", 15),
                NodeCall("r", "g", "g", 16),
                NodeCall("r", "h", None, 17),
            ),
        ),
    )


@pytest.mark.parametrize(
    ("code", "runner"),
    [
        ("def run():\n    rt = 1\n    with rt.Run() as r:\n        pass\n", None),  # not the module's rt
        ("def run(rt):\n    with rt.Run() as r:\n        pass\n", None),
        ("def run():\n    with other.Run() as x, rt.Run() as r:\n        pass\n", "r"),
        ("def run():\n    if True:\n        with rt.Run() as r:\n            pass\n", None),  # not directly in run()
        ("def run():\n    global rt\n    rt = 1\n    with rt.Run() as r:\n        pass\n", "r"),
    ],
)
def test_the_runner_is_the_first_run_block_directly_in_run(code: str, runner: str | None) -> None:
    [shape] = facts(code).runs
    assert shape.runner == runner


def test_a_piece_of_run_registers_in_the_module_scope() -> None:
    found = facts('if _:\n        n7_out = r.node("n7", n7, v=n3_out["value"])\n')
    assert found.calls == (NodeCall("r", "n7", "n7", 2),)
    assert found.bindings == (Binding("n7_out", 2, "assignment", False, False),)


# -- depth -------------------------------------------------------------------------------------
def test_deep_code_the_parser_takes_is_read_without_recursion() -> None:
    """Deeper than the default recursion limit: a reader that recursed would fail."""
    depth = sys.getrecursionlimit() + 500
    chain = "1 + " * depth
    assert bound(f"x = (y := {chain}1)\ny = r.node('a', {chain}1)\n") == [
        ("x", 1, "assignment", True, False),
        ("y", 1, "assignment", False, False),
        ("y", 2, "assignment", True, False),
    ]
    blocks = "".join("    " * level + "if x:\n" for level in range(98))
    body = textwrap.indent(blocks + "    " * 98 + "global g\n" + "    " * 98 + "g = 1\n", "    ")
    assert bound("def f():\n" + body) == [("f", 1, "def", True, False), ("g", 101, "assignment", False, True)]


@pytest.mark.parametrize(
    "code",
    [
        "x = " + "[" * 201 + "]" * 201 + "\n",
        "".join(" " * depth + "if x:\n" for depth in range(100)) + " " * 100 + "pass\n",
        "x = " + "1 + " * 100_000 + "1\n",
        "x = " + "-" * 100_000 + "1\n",
    ],
    ids=["brackets", "blocks", "operators", "unary operators"],
)
def test_code_nested_deeper_than_the_parser_goes_is_too_deep(code: str) -> None:
    with pytest.raises(TooDeep) as caught:
        read_units(["x = 1\n", code])
    assert caught.value.text == code


def test_a_dot_before_a_run_of_hashes_is_read_at_once() -> None:
    """Deciding whether a unit may call ``.node`` must not backtrack over a banner comment: the
    subprocess's timeout only bounds a hang (2**64 tries), the read itself takes microseconds."""
    code = "pass  # the end.\n" + "#" * 64 + "\nx = 1\n"
    script = f"from kailash.targets.asyncio.read_facts import read_unit; print(len(read_unit({code!r}).bindings))"
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=120)
    assert result.stdout == "1\n"


def test_code_that_does_not_parse_is_a_compiler_bug() -> None:
    with pytest.raises(CompilerBug, match="does not parse"):
        read_unit("def broken(:\n")
