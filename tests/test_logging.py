"""The guide's "Debug Mode": DEBUG on 'kailash.workflow' shows construction and execution."""

from __future__ import annotations

import asyncio
import logging

import pytest
from kailash.runtime import AsyncLocalRuntime
from kailash.workflow import AsyncWorkflowBuilder


def test_debug_logs_show_construction_and_execution(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="kailash.workflow")  # the guide's Debug Mode, and nothing else
    builder = AsyncWorkflowBuilder("debugged")
    first = builder.add_async_code("first", "result = {'x': 1}")
    second = builder.add_async_code("second", "raise ValueError(x)")
    builder.add_connection(first, "x", second, "x")
    asyncio.run(AsyncLocalRuntime().execute_workflow_async(builder.build(), {}))
    messages = [(record.name, record.getMessage()) for record in caplog.records]
    names = {name for name, _ in messages}
    assert {"kailash.workflow", "kailash.workflow.runtime", "kailash.workflow.run"} <= names
    text = "\n".join(message for _, message in messages)
    assert "debugged: code node 'first' added (tests/test_logging.py:" in text
    assert "debugged: connection first['x'] -> second.x" in text
    assert "debugged: built with 2 nodes, 1 connections" in text
    assert "node 'first': started" in text
    assert "node 'second': failed (ValueError: 1) in " in text
    assert "debugged: ran in " in text and "1 ok, 1 errors" in text
    assert "debugged: node 'second': ValueError: 1" in text


def test_run_records_take_ids_and_workflow_names_as_they_are(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="kailash.workflow")
    builder = AsyncWorkflowBuilder("100% %s")
    builder.add_async_code("50%d done", "result = 1")
    asyncio.run(AsyncLocalRuntime().execute_workflow_async(builder.build(), {}))
    messages = [record.getMessage() for record in caplog.records if record.name == "kailash.workflow.run"]
    assert any(
        message.startswith("100% %s [run ") and message.endswith("node '50%d done': started") for message in messages
    )


def test_nothing_is_logged_below_the_configured_level(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    builder = AsyncWorkflowBuilder("quiet")
    builder.add_async_code("only", "result = 1")
    asyncio.run(AsyncLocalRuntime().execute_workflow_async(builder.build(), {}))
    assert caplog.records == []
