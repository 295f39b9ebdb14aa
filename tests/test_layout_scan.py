"""The character scan that lays out simple code blocks agrees with Python's tokenizer.

On Python 3.11 a block of one-line statements is laid out by ``codeblock._simple_layout``
instead of the (pure-Python, slow) tokenizer; wherever the scan gives a layout, it must be the
tokenizer's, and blocks it cannot read exactly go to the tokenizer.
"""

from __future__ import annotations

import itertools
import random

import pytest
from kailash import codeblock

PIECES = [
    "x = 1",
    "y = [a, b] if n > 1 else [1, 2]",
    'result = {\'value\': total % 7, "label": "node-("}',
    "# a comment with ( [ { and quotes ' \"",
    "call(",
    "    a,",
    ")",
    "    indented = 2",
    "",
    "   ",
    "\t\x0cz = 3",
    "s = '#not a comment'; t = 4",
    "e = ''",
    'd = ""',
    "q = '''doc'''",
    'q = """doc',
    '"""',
    "w = 'a\\'b'",
    "v = x \\",
    "u = 'open",
    "n = 'é'",
    "ñ = 1",
    "k = (1, 2]",
    "]",
    "m = f'{x}' + rb'y'",
    "p = x # ) closing in a comment",
    "async with r as c: await c.go()",
    "$ ? `",
    "a = 1abc",
]


def blocks() -> list[str]:
    found = ["\n".join(pair) + "\n" for pair in itertools.product(PIECES, repeat=2)]
    rng = random.Random(13)
    for _ in range(3000):
        found.append("\n".join(rng.choice(PIECES) for _ in range(rng.randint(1, 6))) + rng.choice(["", "\n"]))
    return found


@pytest.mark.skipif(not codeblock._SCANNABLE, reason="Python 3.12+ tokenizes every block")
@pytest.mark.parametrize("chunk", range(4))
def test_scan_agrees_with_the_tokenizer(chunk: int) -> None:
    scanned = 0
    for code in blocks()[chunk::4]:
        simple = codeblock._simple_layout(code)
        if simple is not None:
            scanned += 1
            assert simple == codeblock._tokenized_layout(code), code
    assert scanned > 100  # the scan reads most blocks of one-line statements


def test_blocks_the_scan_cannot_read_go_to_the_tokenizer() -> None:
    for code in ["q = '''a\nb'''\n", "v = x \\\n+ 1\n", "k = (1,\n", "n = é\n", "u = 'open\n"]:
        assert codeblock._simple_layout(code) is None, code
