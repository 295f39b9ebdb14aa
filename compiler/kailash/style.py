"""How every generated module is laid out: one line length, for the templates and for black."""

LINE_LENGTH = 88
