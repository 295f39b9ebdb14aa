"""The version of kailash-rt, written here only: both distributions (kailash-rt and
kailash-compile, whose versions move together) read it, and a test checks the compiler's
requirement on kailash-rt names it."""

__version__ = "0.1.0"
