"""Retries, timeouts, fallbacks and failures on Temporal: each node counts its attempts in a
file of the ``counts`` directory (an input), so a test reads how often it really ran."""

from kailash.workflow import AsyncPatterns, AsyncWorkflowBuilder, ErrorHandler, RetryPolicy

COUNT = """
import pathlib
with pathlib.Path(counts, "{node}").open("a") as tally:
    tally.write("ran\\n")
attempt = len(pathlib.Path(counts, "{node}").read_text().splitlines())
"""

flow = AsyncWorkflowBuilder("temporal_behaviours")

# Fails twice with a retried exception, then succeeds: three attempts.
flow.add_async_code(
    "flaky",
    COUNT.format(node="flaky")
    + """
if attempt < 3:
    raise ConnectionError(f"attempt {attempt} refused")
result = {"attempt": attempt}
""",
    retry_policy=RetryPolicy(max_retries=3, base_delay=0.01, retry_on=[ConnectionError]),
)

# Raises an exception its policy does not retry: one attempt, and its dependent is skipped.
flow.add_async_code(
    "not_retried",
    COUNT.format(node="not_retried")
    + """
raise ValueError("bad record")
""",
    retry_policy=RetryPolicy(max_retries=3, base_delay=0.01, retry_on=[ConnectionError]),
)
flow.add_async_code("after_not_retried", "result = {'seen': value}")
flow.add_connection("not_retried", "result", "after_not_retried", "value")

# Outlives its timeout: the activity enforces it, once.
flow.add_async_code(
    "slow",
    COUNT.format(node="slow")
    + """
await asyncio.sleep(60)
result = {"late": True}
""",
    timeout=0.5,
)

# Fails and outputs its fallback value instead.
flow.add_async_code(
    "guarded",
    COUNT.format(node="guarded")
    + """
raise KeyError("missing")
""",
    error_handler=ErrorHandler("fallback", {"theme": "light"}),
)

# Always refused: every attempt runs, then RetriesExhausted.
AsyncPatterns.retry_with_backoff(
    flow,
    "exhausted",
    COUNT.format(node="exhausted")
    + """
raise ConnectionError("still down")
""",
    max_retries=1,
    initial_backoff=0.01,
    retry_on=["ConnectionError"],
)

# An output over Temporal's payload limit: a clear error naming the node, not retried.
flow.add_async_code(
    "too_big",
    COUNT.format(node="too_big")
    + """
result = {"blob": "x" * (3 * 1024 * 1024)}
""",
)

# A primary that times out and a fallback that fails too: each node fails with its own error,
# and a node after the fallback is skipped.
AsyncPatterns.timeout_with_fallback(
    flow,
    "primary_down",
    "fallback_down",
    COUNT.format(node="primary_down")
    + """
await asyncio.sleep(60)
result = {"live": True}
""",
    COUNT.format(node="fallback_down")
    + """
raise LookupError("no cached copy")
""",
    timeout_seconds=0.3,
)
flow.add_async_code("after_fallback_down", "result = {'seen': value}")
flow.add_connection("fallback_down", "result", "after_fallback_down", "value")

# Operations run at once, each in its own activity; one outlives its timeout, one fails.
AsyncPatterns.parallel_fetch(
    flow,
    "fetch_all",
    {
        "quick": COUNT.format(node="quick") + "result = {'ok': True}\n",
        "stuck": COUNT.format(node="stuck") + "await asyncio.sleep(60)\nresult = None\n",
        "broken": COUNT.format(node="broken") + "raise RuntimeError('no route')\n",
    },
    timeout_per_operation=0.5,
    continue_on_error=True,
)
