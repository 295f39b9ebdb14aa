"""Strict parsers of the graph texts ``kailash-compile graph`` prints: the Mermaid flowchart
subset it emits and the DOT grammar (graph, node and edge statements with attribute lists).

Each returns the graph it read with labels decoded to the text they show, so a test can
compare them with the workflow; anything outside the grammar is a ``GraphSyntaxError``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field


class GraphSyntaxError(ValueError):
    pass


@dataclass
class ParsedGraph:
    nodes: dict[str, list[str]] = field(default_factory=dict)  # key -> label lines
    resources: dict[str, list[str]] = field(default_factory=dict)
    edges: list[tuple[str, str, str | None]] = field(default_factory=list)  # source, target, label (None: unlabelled)
    attributes: dict[str, str] = field(default_factory=dict)  # graph attributes (DOT)


# -- Mermaid ---------------------------------------------------------------------------------
_LABEL = r'"((?:[^"#<>&`|\[\]{}\\%;\n\r]|#\d+;|<br/>)*)"'
_MERMAID_LINES = [
    ("node", re.compile(rf"    (n\d+)\[{_LABEL}\]")),
    ("resource", re.compile(rf"    (r\d+)\[\({_LABEL}\)\]")),
    ("edge", re.compile(rf"    (n\d+) -->\|{_LABEL}\| (n\d+)")),
    ("uses", re.compile(r"    (r\d+) -\.-> (n\d+)")),
    ("classdef", re.compile(r"    classDef resource stroke-dasharray: 4 3")),
    ("class", re.compile(r"    class (r\d+(?:,r\d+)*) resource")),
]


def parse_mermaid(text: str) -> ParsedGraph:
    if not text.endswith("\n"):
        raise GraphSyntaxError("the text does not end with a line break")
    lines = text[:-1].split("\n")
    if lines[0] != "flowchart TD":
        raise GraphSyntaxError(f"first line is {lines[0]!r}, not 'flowchart TD'")
    graph = ParsedGraph()
    for number, line in enumerate(lines[1:], start=2):
        matching = [(kind, match) for kind, pattern in _MERMAID_LINES if (match := pattern.fullmatch(line))]
        if not matching:
            raise GraphSyntaxError(f"line {number} is not a statement of the subset: {line!r}")
        kind, match = matching[0]
        groups = match.groups()
        if kind in ("node", "resource"):
            table = graph.nodes if kind == "node" else graph.resources
            if groups[0] in graph.nodes or groups[0] in graph.resources:
                raise GraphSyntaxError(f"line {number}: {groups[0]} declared twice")
            table[groups[0]] = [_mermaid_text(part) for part in groups[1].split("<br/>")]
        elif kind == "edge":
            graph.edges.append(_edge(graph, number, groups[0], groups[2], _mermaid_text(groups[1])))
        elif kind == "uses":
            graph.edges.append(_edge(graph, number, groups[0], groups[1], None))
        elif kind == "class":
            for key in groups[0].split(","):
                if key not in graph.resources:
                    raise GraphSyntaxError(f"line {number}: class names undeclared {key}")
    return graph


def _mermaid_text(label: str) -> str:
    if "<br/>" in label:
        raise GraphSyntaxError(f"line break inside one label part: {label!r}")
    return re.sub(r"#(\d+);", lambda m: chr(int(m.group(1))), label)


def _edge(graph: ParsedGraph, number: int, source: str, target: str, label: str | None) -> tuple[str, str, str | None]:
    for key in (source, target):
        if key not in graph.nodes and key not in graph.resources:
            raise GraphSyntaxError(f"line {number}: edge names undeclared {key}")
    return source, target, label


# -- DOT -------------------------------------------------------------------------------------
_TOKEN = re.compile(
    r'\s*(?:(?P<string>"(?:[^"\\]|\\.)*")|(?P<id>[A-Za-z_][A-Za-z_0-9]*|-?(?:\.\d+|\d+(?:\.\d*)?))'
    r"|(?P<punct>->|[{}\[\];,=]))",
    re.DOTALL,
)


def _tokens(text: str) -> list[tuple[str, str]]:
    tokens, position = [], 0
    while position < len(text):
        if text[position:].strip() == "":
            break
        match = _TOKEN.match(text, position)
        if match is None:
            raise GraphSyntaxError(f"DOT: cannot read from {text[position : position + 20]!r}")
        kind = match.lastgroup
        assert kind is not None
        value = match.group(kind)
        if kind == "string":
            if "\n" in value or "\r" in value:
                raise GraphSyntaxError("DOT: a raw line break inside a string")
            value = value[1:-1]  # its escapes (\\" among them) are read as a label's
        tokens.append((kind, value))
        position = match.end()
    return tokens


class _DotReader:
    def __init__(self, text: str) -> None:
        self.tokens = _tokens(text)
        self.at = 0

    def take(self, kind: str | None = None, value: str | None = None) -> str:
        if self.at >= len(self.tokens):
            raise GraphSyntaxError("DOT: unexpected end")
        token_kind, token = self.tokens[self.at]
        if (value is not None and (token_kind != "punct" or token != value)) or (kind and token_kind != kind):
            raise GraphSyntaxError(f"DOT: expected {value or kind}, got {token!r}")
        self.at += 1
        return token

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.at] if self.at < len(self.tokens) else None

    def identifier(self) -> str:
        kind, token = self.peek() or ("", "")
        if kind not in ("id", "string"):
            raise GraphSyntaxError(f"DOT: expected an identifier, got {token!r}")
        self.at += 1
        return token

    def attributes(self) -> dict[str, str]:
        found: dict[str, str] = {}
        self.take(value="[")
        while self.peek() != ("punct", "]"):
            name = self.identifier()
            self.take(value="=")
            if name in found:
                raise GraphSyntaxError(f"DOT: attribute {name} given twice")
            found[name] = self.identifier()
            if self.peek() in (("punct", ","), ("punct", ";")):
                self.at += 1
        self.take(value="]")
        return found


def parse_dot(text: str) -> ParsedGraph:
    reader = _DotReader(text)
    if reader.take("id") != "digraph":
        raise GraphSyntaxError("DOT: not a digraph")
    if reader.peek() != ("punct", "{"):
        reader.identifier()
    reader.take(value="{")
    graph = ParsedGraph()
    while reader.peek() != ("punct", "}"):
        name = reader.identifier()
        if name in ("graph", "node", "edge"):
            attributes = reader.attributes()
            if name == "graph":
                graph.attributes.update({k: _dot_label(v) for k, v in attributes.items()})
        elif reader.peek() == ("punct", "->"):
            reader.take(value="->")
            target = reader.identifier()
            attributes = reader.attributes() if reader.peek() == ("punct", "[") else {}
            label = _dot_label(attributes["label"]) if "label" in attributes else None
            graph.edges.append(_edge(graph, 0, name, target, label))
        else:
            attributes = reader.attributes()
            if name in graph.nodes or name in graph.resources:
                raise GraphSyntaxError(f"DOT: {name} declared twice")
            table = graph.resources if attributes.get("shape") == "cylinder" else graph.nodes
            table[name] = _dot_lines(attributes.get("label", name))
        reader.take(value=";")
    reader.take(value="}")
    if reader.peek() is not None:
        raise GraphSyntaxError("DOT: text after the graph")
    return graph


def _dot_lines(value: str) -> list[str]:
    """A label's lines as Graphviz shows them: escString (``\\n`` ends a line, ``\\\\`` is a
    backslash; any other escape would show something else than the text), then entities."""
    lines, out, index = [], [], 0
    while index < len(value):
        char = value[index]
        if char == "\\":
            following = value[index + 1 : index + 2]
            if following == "n":
                lines.append("".join(out))
                out = []
            elif following in ("\\", '"'):
                out.append(following)
            else:
                raise GraphSyntaxError(f"DOT: escape \\{following} would show something else than the text")
            index += 2
            continue
        out.append(char)
        index += 1
    lines.append("".join(out))
    return [_entities(line) for line in lines]


def _entities(text: str) -> str:
    if re.search(r"&(?!#\d+;|amp;)", text):
        raise GraphSyntaxError(f"DOT: a bare & in {text!r}")
    return re.sub(r"&#(\d+);|&amp;", lambda m: chr(int(m.group(1))) if m.group(1) else "&", text)


def _dot_label(value: str) -> str:
    lines = _dot_lines(value)
    if len(lines) != 1:
        raise GraphSyntaxError(f"DOT: an edge or graph label of several lines: {value!r}")
    return lines[0]
