"""A resource node: calls one operation of a declared resource, with literal and connected parameters."""

from kailash.workflow import AsyncWorkflowBuilder

builder = AsyncWorkflowBuilder("resource_node")
builder.with_cache("sessions", backend="memory")

session = builder.add_async_code("session_key", "result = {'key': f'session:{user_id}'}")
builder.add_resource_node("save_session", "sessions", "set", {"value": "open", "ex": 300}, timeout=2.0)
builder.add_connection(session, "key", "save_session", "key")
