"""Which parsed code blocks CPython's code generator could refuse or warn about.

``compile()`` checks a block in three passes: the parser (``ast.parse`` has run it), the symbol
table (``_symtable`` runs it again for the block's names) and the code generator, which refuses
some blocks the first two accept (``break`` outside a loop, a bare ``except:`` before another
handler, a starred expression where none can be, ``await`` in a lambda, ...) and warns about
others (``x is 1``, ``(1, 2)(x)``, ``assert (x, y)``). A block made only of the constructs below,
each in a form the code generator takes as it is, can be neither refused nor warned about by
it, so the builder skips that pass for it; any other block is compiled as before.
"""

from __future__ import annotations

import ast
import sys

# Statements and expressions the code generator takes in any form the parser and the symbol
# table accept (the wrapper function is the block's one function).
_PLAIN = frozenset(
    {
        ast.Module,
        ast.AsyncFunctionDef,  # only the wrapper: a block holding a def of its own is compiled
        ast.arguments,
        ast.arg,
        ast.Expr,
        ast.Assign,
        ast.AugAssign,
        ast.Return,
        ast.If,
        ast.For,
        ast.AsyncFor,
        ast.While,
        ast.With,
        ast.AsyncWith,
        ast.withitem,
        ast.Pass,
        ast.Raise,
        ast.Import,
        ast.ImportFrom,
        ast.alias,
        ast.BoolOp,
        ast.BinOp,
        ast.UnaryOp,
        ast.IfExp,
        ast.Dict,
        ast.Set,
        ast.List,
        ast.Tuple,
        ast.ListComp,
        ast.SetComp,
        ast.DictComp,
        ast.GeneratorExp,
        ast.comprehension,
        ast.Await,
        ast.Lambda,
        ast.Compare,
        ast.Call,
        ast.keyword,
        ast.FormattedValue,
        ast.JoinedStr,
        ast.Constant,
        ast.Attribute,
        ast.Subscript,
        ast.Slice,
        ast.Starred,
        ast.Name,
    }
)
# Those of them the code generator takes in every form.
_ANY_FORM = _PLAIN - {
    ast.AsyncFunctionDef,
    ast.ImportFrom,
    ast.For,
    ast.AsyncFor,
    ast.While,
    ast.withitem,
    ast.List,
    ast.Tuple,
    ast.Set,
    ast.comprehension,
    ast.Await,
    ast.Lambda,
    ast.Compare,
    ast.Call,
    ast.Subscript,
    ast.Starred,
}
# What a call, a subscript or an ``is`` comparison may apply to without a warning ("'tuple'
# object is not callable; perhaps you missed a comma?", '"is" with a literal').
_REFERENCES = (ast.Name, ast.Attribute, ast.Call, ast.Subscript)
_SINGLETONS = (None, True, False, Ellipsis)
# Blocks nested in a block (loops, with items, try statements) stay far below the code
# generator's limit of 20 when fewer than this many are in the block at all.
_NESTED_BLOCKS = 10
# Nodes in a block below which its tree is shallow enough for every pass's recursion limit;
# a larger block is measured.
_SHALLOW = 100
_DEPTH = 100


def needs_code_generator(code: str, nodes: list[ast.AST]) -> bool:
    """Whether ``compile()`` must check the block: False only when the code generator can
    neither refuse it nor warn about it. ``nodes``: every node of the wrapped block's tree
    but contexts and operators (as ``codeblock`` walks it)."""
    if "__debug__" in code or "__future__" in code or (len(nodes) - 1 > _SHALLOW and _depth(nodes[0]) > _DEPTH):
        return True
    if sys.getrecursionlimit() < 1000:
        return True
    starred = allowed_starred = loops = 0
    lambdas = awaits = False
    functions = 0
    for node in nodes:
        kind = type(node)
        if kind in _ANY_FORM:
            continue
        if kind not in _PLAIN:
            return True
        if kind is ast.Call:
            assert isinstance(node, ast.Call)
            if not isinstance(node.func, _REFERENCES):
                return True
            named = [keyword.arg for keyword in node.keywords if keyword.arg is not None]
            if len(named) != len(set(named)):
                return True  # "keyword argument repeated"
            allowed_starred += sum(type(argument) is ast.Starred for argument in node.args)
        elif kind is ast.Starred:
            assert isinstance(node, ast.Starred)
            if not isinstance(node.ctx, ast.Load):
                return True
            starred += 1
        elif kind is ast.List or kind is ast.Tuple or kind is ast.Set:
            assert isinstance(node, (ast.List, ast.Tuple, ast.Set))
            if not isinstance(getattr(node, "ctx", ast.Load()), ast.Load):
                if any(type(element) is ast.Starred for element in node.elts):
                    return True  # starred assignment
                continue
            allowed_starred += sum(type(element) is ast.Starred for element in node.elts)
        elif kind is ast.Subscript:
            assert isinstance(node, ast.Subscript)
            if not isinstance(node.value, _REFERENCES):
                return True
        elif kind is ast.Compare:
            assert isinstance(node, ast.Compare)
            if any(type(op) in (ast.Is, ast.IsNot) for op in node.ops) and not all(
                isinstance(operand, _REFERENCES)
                or (isinstance(operand, ast.Constant) and any(operand.value is value for value in _SINGLETONS))
                for operand in (node.left, *node.comparators)
            ):
                return True
        elif kind is ast.comprehension:
            assert isinstance(node, ast.comprehension)
            if node.is_async:
                return True
            loops += 1
        elif kind is ast.ImportFrom:
            assert isinstance(node, ast.ImportFrom)
            if any(alias.name == "*" for alias in node.names):
                return True
        elif kind is ast.AsyncFunctionDef:
            functions += 1
        elif kind is ast.Lambda:
            lambdas = True
        elif kind is ast.Await:
            awaits = True
        elif kind in (ast.For, ast.AsyncFor, ast.While, ast.withitem):
            loops += 1
    # An ``await`` in a lambda is refused; elsewhere in the async wrapper it is not.
    return functions != 1 or starred != allowed_starred or (lambdas and awaits) or loops >= _NESTED_BLOCKS


def _depth(tree: ast.AST) -> int:
    deepest = 0
    stack = [(tree, 1)]
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        for child in ast.iter_child_nodes(node):
            stack.append((child, depth + 1))
    return deepest
