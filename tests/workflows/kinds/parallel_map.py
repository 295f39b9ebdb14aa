"""A parallel map: process_item over every item of a connected list, a few at a time."""

from kailash.workflow import AsyncWorkflowBuilder

builder = AsyncWorkflowBuilder("parallel_map")

words = builder.add_async_code("words", "result = {'words': ['alpha', 'beta', 'gamma']}")
lengths = builder.add_parallel_map(
    "lengths",
    """
import string

VOWELS = set("aeiou")


async def process_item(word):
    return {"word": word.strip(string.whitespace), "vowels": sum(c in VOWELS for c in word)}
""",
    input_field="words",
    output_field="counts",
    max_workers=2,
    batch_size=2,
    timeout_per_item=1.5,
    continue_on_error=True,
)
builder.add_connection(words, "words", lengths, "words")
