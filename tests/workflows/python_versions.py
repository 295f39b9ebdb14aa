"""Code whose handling differs between Python versions unless the compiler pins it down.

Every supported Python must compile this workflow to the same bytes (tests/golden) and run
it to the same result: multi-line f-strings (3.12 tokenizes them as several tokens),
comprehension scopes (3.12 inlines comprehensions), node ids that are soft keywords on
some versions only (``type`` from 3.12), pattern matching and exception groups.
"""

from kailash.workflow import AsyncWorkflowBuilder

builder = AsyncWorkflowBuilder("python_versions")

report = builder.add_async_code(
    "report",
    '''
rows = [(name, score) for name, score in scores.items() if score >= threshold]
width = max(len(name) for name, _ in rows)
result = {
    "text": f"""Report
  {len(rows)} of {len(scores)} passed
    {", ".join(
        f"{name:<{width}}={score}" for name, score in rows
    )}
end""",
    "names": [name for name, _ in rows],
}
''',
)

kind = builder.add_async_code(
    "type",
    """
match names:
    case [first, *rest] if rest:
        result = {"kind": "many", "first": first, "rest": len(rest)}
    case [only]:
        result = {"kind": "one", "first": only, "rest": 0}
    case _:
        result = {"kind": "none", "first": None, "rest": 0}
""",
)

grouped = builder.add_async_code(
    "match",
    """
try:
    raise ExceptionGroup("several", [ValueError(kind), KeyError(first)])
except* ValueError as group:
    seen = [str(error) for error in group.exceptions]
except* KeyError:
    pass
totals = {(key := word[0]): [w for w in words if w.startswith(key)] for word in words}
result = {"seen": seen, "totals": totals, "last": key}
""",
)

builder.add_connection(report, "names", kind, "names")
builder.add_connection(kind, "kind", grouped, "kind")
builder.add_connection(kind, "first", grouped, "first")
