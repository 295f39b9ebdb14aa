"""resource_node: compiled workflow. Do not edit; edit the workflow and compile again.

Source: tests/workflows/kinds/resource_node.py
Inputs:
    user_id (used by session_key)
Resources: sessions (memory cache)
Requires: kailash-rt 0.1.0 or newer
    pip install "kailash-rt>=0.1.0"
"""

from collections.abc import Mapping
from typing import Any

import kailash_rt as rt

rt.require_version("0.1.0", __name__)

# Created on first use in a run and closed when the run ends. Every setting can be overridden
# from the environment as <RESOURCE>_<SETTING> (e.g. SESSIONS_BACKEND).
RESOURCES = rt.Resources(sessions=rt.cache(backend="memory"))


# node "session_key"
async def session_key(user_id: Any) -> Any:
    result = {"key": f"session:{user_id}"}
    return result


# node "save_session"
@rt.node(timeout=2.0)
async def save_session(key: Any, sessions: Any) -> Any:
    value = sessions.set(value="open", ex=300, key=key)
    return await rt.resource_output("sessions", "set", value)


# Where each node's code is in the workflow file; kailash_rt names the line in a note on an
# exception raised in that code. {function: (node id, file line of code line 1, runs of
# "lines=code line", lines counted from the function's first line)}
SOURCE_LINES = (
    "tests/workflows/kinds/resource_node.py",
    {
        "session_key": ("session_key", 8, "1=1"),
    },
)


async def run(
    inputs: Mapping[str, Any] | None = None,
    *,
    resources: Mapping[str, Any] | None = None,
) -> rt.RunResult:
    """Run the workflow once: {"results": {node_id: output}, "errors": {node_id: message}}."""
    async with rt.Run("resource_node", inputs, resources, declared=RESOURCES) as r:
        session_key_out = r.node("session_key", session_key, user_id=r.input("user_id"))
        r.node(
            "save_session",
            save_session,
            key=session_key_out["key"],
            sessions=r.resource("sessions"),
        )
    return r.result


if __name__ == "__main__":
    rt.main(run)
