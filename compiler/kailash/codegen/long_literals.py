"""A long collection literal formatted in groups of elements (``SOURCE_LINES``'s table).

Black lays out a dict, list or set display that ends in a trailing comma one element per line
(the "magic trailing comma"), each element's line formatted on its own; a display of a
thousand elements is one logical line that black splits recursively, far slower than as many
short statements. So a chunk whose longest display has its elements one after another, each
on lines of its own ending in ``,``, is formatted as pieces: the *frame* (the chunk with one
marker element in the display's place) and *groups* (the chunk with only some of the
elements). Every piece must format to the frame's text around its elements, else the chunk
is formatted whole; the formatted chunk is the frame's text around the groups' elements.
"""

from __future__ import annotations

import ast
import itertools
from dataclasses import dataclass

# A display of more elements than LONG_DISPLAY is formatted in groups of at most
# ELEMENTS_PER_GROUP (as even as can be: none has fewer than half that many).
LONG_DISPLAY = 50
ELEMENTS_PER_GROUP = 10
# The frame's one element: as long as a line, so that black sees a display too long for one
# line around it, as it does around a group of elements and around them all.
_MARKER = "__kailash_elements" + "_" * 70


@dataclass(frozen=True)
class LiteralChunk:
    """A chunk with a long display: the display's elements (each its lines, ending in ``,``),
    the text before them (up to its opening bracket's line), after them (from its closing
    bracket's line), the marker element of the frame."""

    before: str
    elements: tuple[str, ...]
    after: str
    marker: str

    def pieces(self) -> list[str]:
        """The frame, then the chunk with each group of elements (groups of even sizes: none so
        small that black could lay its display out differently from the others)."""
        count = -(-len(self.elements) // ELEMENTS_PER_GROUP)
        bounds = [len(self.elements) * index // count for index in range(count + 1)]
        groups = [self.elements[start:end] for start, end in itertools.pairwise(bounds)]
        return [self.before + self.marker + self.after] + [
            self.before + "".join(group) + self.after for group in groups
        ]

    def assemble(self, formatted: list[str]) -> str | None:
        """The formatted chunk from its formatted pieces; None when a piece is not the frame's
        formatted text around its elements."""
        frame, groups = formatted[0], formatted[1:]
        marker = self.marker.strip()
        at = frame.find(marker)
        if at < 0 or frame.find(marker, at + 1) >= 0:
            return None
        start, end = frame.rfind("\n", 0, at) + 1, frame.find("\n", at) + 1
        if end == 0 or frame[start:at].strip(" "):
            return None
        head, tail = frame[:start], frame[end:]
        bodies = []
        for group in groups:
            if len(group) <= len(head) + len(tail) or not group.startswith(head) or not group.endswith(tail):
                return None
            bodies.append(group[len(head) : len(group) - len(tail)])
        return head + "".join(bodies) + tail


def split_literal(chunk: str) -> LiteralChunk | None:
    """``chunk`` as a LiteralChunk when its longest dict, list or set display has more elements
    than LONG_DISPLAY, each on lines of its own ending in ``,``, with no comment among them."""
    if chunk.count(",\n") <= LONG_DISPLAY or ("{\n" not in chunk and "[\n" not in chunk) or _MARKER in chunk:
        return None
    try:
        tree = ast.parse(chunk)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    displays = [node for node in ast.walk(tree) if isinstance(node, (ast.Dict, ast.List, ast.Set))]
    display = max(displays, key=_size, default=None)
    if display is None or _size(display) <= LONG_DISPLAY:
        return None
    spans = _element_spans(display)
    if spans is None:
        return None
    lines = chunk.split("\n")
    encoded = [line.encode() for line in lines]
    first_line, margin = spans[0][0], spans[0][1]
    opening = b"{" if not isinstance(display, ast.List) else b"["
    closing = b"}" if opening == b"{" else b"]"
    if display.lineno != first_line - 1 or encoded[display.lineno - 1][display.col_offset :].rstrip() != opening:
        return None
    if display.end_lineno != spans[-1][2] + 1 or encoded[spans[-1][2]][: display.end_col_offset].strip() != closing:
        return None
    for (first, column, last, end_column), following in itertools.zip_longest(spans, spans[1:]):
        if column != margin or encoded[first - 1][:column].strip(b" ") or encoded[last - 1][end_column:] != b",":
            return None
        if following is not None and following[0] != last + 1:
            return None
    body = lines[first_line - 1 : spans[-1][2]]
    if any("#" in line for line in body):
        return None  # a comment would belong to an element
    elements = tuple("".join(line + "\n" for line in lines[first - 1 : last]) for first, _, last, _ in spans)
    before = "".join(line + "\n" for line in lines[: first_line - 1])
    after = "\n".join(lines[spans[-1][2] :])
    indent = " " * margin
    marker = f"{indent}{_MARKER}: {_MARKER},\n" if isinstance(display, ast.Dict) else f"{indent}{_MARKER},\n"
    return LiteralChunk(before, elements, after, marker)


def _size(node: ast.Dict | ast.List | ast.Set) -> int:
    return len(node.values) if isinstance(node, ast.Dict) else len(node.elts)


def _element_spans(display: ast.Dict | ast.List | ast.Set) -> list[tuple[int, int, int, int]] | None:
    """(first line, column, last line, end column) of each element; None for ``**`` entries."""
    if isinstance(display, ast.Dict):
        if any(key is None for key in display.keys):
            return None
        pairs = [(key, value) for key, value in zip(display.keys, display.values, strict=True) if key is not None]
    else:
        pairs = [(element, element) for element in display.elts]
    spans = []
    for start, end in pairs:
        if end.end_lineno is None or end.end_col_offset is None:
            return None
        spans.append((start.lineno, start.col_offset, end.end_lineno, end.end_col_offset))
    return spans
