"""Target-neutral analysis: the workflow IR becomes a plan (see plan.py) that each target writes out."""

from __future__ import annotations

from .analyse import analyse
from .plan import ModulePlan, NodePlan, Param

__all__ = ["ModulePlan", "NodePlan", "Param", "analyse"]
