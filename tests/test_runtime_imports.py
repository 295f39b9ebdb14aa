"""What importing kailash_rt and a generated module loads: only what the module uses.

Each check runs in a fresh interpreter that has imported asyncio first (as every program
running a generated module has), and compares sys.modules before and after.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import kailash_rt as rt
import pytest

from .conftest import GOLDEN, ROOT

# Standard-library modules only some modules, some resources or the command line need.
NOT_AT_IMPORT = {
    "argparse",
    "dataclasses",
    "datetime",
    "decimal",
    "fnmatch",
    "ipaddress",
    "json",
    "pathlib",
    "queue",
    "random",
    "unicodedata",
    "urllib.parse",
    "uuid",
}

PROBE = """
import asyncio, importlib.util, json, sys
before = set(sys.modules)
import kailash_rt
after_runtime = set(sys.modules)
if len(sys.argv) > 1:
    spec = importlib.util.spec_from_file_location("generated", sys.argv[1])
    spec.loader.exec_module(importlib.util.module_from_spec(spec))
print(json.dumps({"runtime": sorted(after_runtime - before), "module": sorted(set(sys.modules) - before)}))
"""


def newly_loaded(*module: Path) -> dict[str, list[str]]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *map(str, module)],
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONPATH": str(ROOT / "runtime_stub"), "PYTHONDONTWRITEBYTECODE": "1"},
    )
    loaded: dict[str, list[str]] = json.loads(done.stdout)
    return loaded


def test_import_kailash_rt_loads_no_module_of_its_own() -> None:
    assert newly_loaded()["runtime"] == ["kailash_rt", "kailash_rt._version"]


@pytest.mark.parametrize("module", ["order_totals.py", "kinds/parallel_map.py", "kinds/code_node.py"])
def test_a_generated_module_of_code_nodes_loads_only_what_run_needs(module: str) -> None:
    loaded = set(newly_loaded(GOLDEN / module)["module"])
    assert not loaded & NOT_AT_IMPORT, sorted(loaded & NOT_AT_IMPORT)
    assert "kailash_rt._main" not in loaded  # the command line, only under __main__
    assert "kailash_rt._memcache" not in loaded


def test_a_module_with_a_retry_policy_loads_the_policies_but_not_the_command_line() -> None:
    loaded = set(newly_loaded(GOLDEN / "kinds" / "code_retry.py")["module"])
    assert "kailash_rt._node" in loaded
    assert not loaded & (NOT_AT_IMPORT - {"dataclasses"})


@pytest.mark.parametrize("module", ["kinds/database_resource.py", "kinds/memory_cache_resource.py"])
def test_a_module_declaring_resources_loads_no_client_code_until_a_run(module: str) -> None:
    loaded = set(newly_loaded(GOLDEN / module)["module"])
    assert not loaded & (NOT_AT_IMPORT | {"copy"}), sorted(loaded & (NOT_AT_IMPORT | {"copy"}))
    assert "kailash_rt._memcache" not in loaded  # the memory cache backend: made when a run uses it


def test_every_public_name_resolves_to_the_object_of_its_module() -> None:
    import kailash_rt._run

    for name in rt.__all__:
        assert getattr(rt, name) is not None
        assert name in dir(rt)
    assert rt.Run is kailash_rt._run.Run
    with pytest.raises(AttributeError, match="no attribute 'not_there'"):
        rt.not_there  # noqa: B018
