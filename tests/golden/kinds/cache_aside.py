"""cache_aside: compiled workflow. Do not edit; edit the workflow and compile again.

Source: tests/workflows/kinds/cache_aside.py
Inputs:
    user_id (used by check_profile, fetch_profile)
Resources: profiles (memory cache)
Requires: kailash-rt 0.1.0 or newer
    pip install "kailash-rt>=0.1.0"
"""

from collections.abc import Mapping
from typing import Any

import kailash_rt as rt

rt.require_version("0.1.0", __name__)

# Created on first use in a run and closed when the run ends. Every setting can be overridden
# from the environment as <RESOURCE>_<SETTING> (e.g. PROFILES_BACKEND).
RESOURCES = rt.Resources(profiles=rt.cache(backend="memory"))


# node "check_profile"
check_profile = rt.cache_check(cache="profiles", key_template="profile_{user_id}")


# node "fetch_profile"
@rt.cache_fetch
async def fetch_profile(user_id: Any) -> Any:
    result = {"id": user_id, "name": "Ada"}
    return result


# node "store_profile"
store_profile = rt.cache_store(cache="profiles", ttl_seconds=600)


# Where each node's code is in the workflow file; kailash_rt names the line in a note on an
# exception raised in that code. {function: (node id, file line of code line 1, runs of
# "lines=code line", lines counted from the function's first line)}
SOURCE_LINES = (
    "tests/workflows/kinds/cache_aside.py",
    {
        "fetch_profile": ("fetch_profile", 14, "2=1"),
    },
)


async def run(
    inputs: Mapping[str, Any] | None = None,
    *,
    resources: Mapping[str, Any] | None = None,
) -> rt.RunResult:
    """Run the workflow once: {"results": {node_id: output}, "errors": {node_id: message}}."""
    async with rt.Run("cache_aside", inputs, resources, declared=RESOURCES) as r:
        check_profile_out = r.node(
            "check_profile",
            check_profile,
            profiles=r.resource("profiles"),
            user_id=r.input("user_id"),
        )
        fetch_profile_out = r.node(
            "fetch_profile",
            fetch_profile,
            cache_result=check_profile_out.result,
            user_id=r.input("user_id"),
        )
        r.node(
            "store_profile",
            store_profile,
            fetch_data=fetch_profile_out.result,
            profiles=r.resource("profiles"),
        )
    return r.result


if __name__ == "__main__":
    rt.main(run)
