"""The reference SDK's module path of the registry: ``from kailash.resources.registry import
ResourceRegistry`` keeps working. The guide's path is ``kailash.resources``."""

from . import ResourceFactory, ResourceRegistry

__all__ = ["ResourceFactory", "ResourceRegistry"]
