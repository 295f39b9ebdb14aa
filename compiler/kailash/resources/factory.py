"""The reference SDK's module path of ``ResourceFactory``: ``from kailash.resources.factory import
ResourceFactory`` keeps working. The guide's path is ``kailash.resources``.

The reference SDK's ready-made factories (``DatabasePoolFactory``, ``HttpClientFactory``, ...)
are not here: ``builder.with_database``, ``with_http_client`` and ``with_cache`` declare those
resources.
"""

from . import ResourceFactory

__all__ = ["ResourceFactory"]
