"""Where in a text file something is: ``line L, column C``, as a text editor counts them.

Every complaint of a built-in converter about its input names the place, so that the operator
reading ``<name>.error.txt`` can open the file at that spot. Lines and columns start at 1;
columns count characters (not bytes: ``é`` is one column in UTF-8 as in Latin-1), and a line
ends at ``\\n``, ``\\r\\n`` or ``\\r``, as the line-based converters read them.

The end of a file is the place just after its last character, where an editor's cursor stands
at the end: a file whose last line ends with a line break ends at column 1 of the next line.
"""

from __future__ import annotations

__all__ = ["breaks", "byte_place", "ends_at", "line_column", "place"]


def breaks(text: str) -> int:
    """How many line breaks ``text`` holds (``\\r\\n`` counts once)."""
    return text.count("\n") + text.count("\r") - text.count("\r\n")


def line_column(before: str, line: int = 1) -> tuple[int, int]:
    """Line and column of the character that follows ``before``.

    Args:
        before: the text of the file (or of one of its parts) before that character.
        line: the line ``before`` starts on (when it is not the start of the file).
    """
    last = max(before.rfind("\n"), before.rfind("\r"))
    # A "\r" that ends `before` may be the first half of "\r\n": the break counts either way.
    return line + breaks(before), len(before) - last


def place(before: str, line: int = 1) -> str:
    """``line L, column C`` of the character that follows ``before`` (see :func:`line_column`)."""
    found_line, column = line_column(before, line)
    return f"line {found_line}, column {column}"


def byte_place(data: bytes, offset: int, encoding: str = "utf-8") -> str:
    """``line L, column C`` of the byte at ``offset`` of ``data`` in ``encoding``.

    A byte that is not in the encoding counts as one column (it is what an editor shows).
    """
    return place(data[:offset].decode(encoding, "replace"))


def ends_at(text: str) -> str:
    """``the file ends at line L, column C`` for a file whose whole text is ``text``."""
    return f"the file ends at {place(text)}"
