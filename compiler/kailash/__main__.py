"""``python -m kailash``: the ``kailash-compile`` command."""

from .cli import main

if __name__ == "__main__":
    main()
