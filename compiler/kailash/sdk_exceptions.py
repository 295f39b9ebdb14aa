"""The reference SDK's exception module, for the exceptions that mean the same here.

- ``WorkflowValidationError``: a workflow the builder refuses (``kailash.errors.WorkflowError``:
  a message with the file:line of the builder call and a hint).
- ``CircuitBreakerOpenError``: a call a circuit breaker did not let through
  (``kailash_rt.CircuitOpenError``, with ``state`` and ``retry_in``).

Other names of the reference module have no counterpart and are not defined, so an import of
one fails loudly instead of an ``except`` clause silently catching nothing. A node's own
exception is not wrapped: in a result it is behind ``errors`` (``result.exceptions[node_id]``),
and ``AsyncLocalRuntime(raise_on_error=True)`` raises it as it is.
"""

from kailash_rt import CircuitOpenError as CircuitBreakerOpenError

from .errors import WorkflowError as WorkflowValidationError

__all__ = ["CircuitBreakerOpenError", "WorkflowValidationError"]
