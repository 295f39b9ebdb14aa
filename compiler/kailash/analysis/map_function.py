"""A parallel map's ``process_item`` as the node's function (libcst: only maps need it)."""

from __future__ import annotations

import libcst as cst


def as_node_function(source: str, ident: str, extras: list[str]) -> str:
    """Rename ``process_item`` to the node's identifier; node inputs become keyword-only parameters.

    The decorated name is the node, so a recursive call goes to ``<node>.process_item``.
    """
    module = cst.parse_module(source)
    function = module.body[0]
    assert isinstance(function, cst.FunctionDef)
    params = function.params
    if extras:
        added = [cst.Param(cst.Name(name), annotation=cst.Annotation(cst.Name("Any"))) for name in extras]
        star = params.star_arg if isinstance(params.star_arg, cst.Param | cst.ParamStar) else cst.ParamStar()
        params = params.with_changes(star_arg=star, kwonly_params=[*params.kwonly_params, *added])
    body = function.body.visit(_Recursion("process_item", ident))
    assert isinstance(body, cst.BaseSuite)
    renamed = function.with_changes(name=cst.Name(ident), params=params, body=body)
    return module.with_changes(body=[renamed]).code


class _Recursion(cst.CSTTransformer):
    """``process_item`` read inside its own body becomes ``<node>.process_item``."""

    def __init__(self, name: str, node_ident: str) -> None:
        super().__init__()
        self.name = name
        self.node_ident = node_ident

    def leave_Name(self, original_node: cst.Name, updated_node: cst.Name) -> cst.BaseExpression:
        if updated_node.value != self.name:
            return updated_node
        return cst.Attribute(value=cst.Name(self.node_ident), attr=cst.Name(self.name))

    # Names that are not reads keep their spelling.
    def leave_Attribute(self, original_node: cst.Attribute, updated_node: cst.Attribute) -> cst.Attribute:
        return updated_node.with_changes(attr=original_node.attr)

    def leave_Arg(self, original_node: cst.Arg, updated_node: cst.Arg) -> cst.Arg:
        return updated_node.with_changes(keyword=original_node.keyword)
