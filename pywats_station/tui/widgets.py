"""Small helpers for the screens' tables."""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.coordinate import Coordinate
from textual.widgets import DataTable

__all__ = ["STATE_STYLE", "fill_table", "state_text"]

STATE_STYLE = {
    "running": "green",
    "watching": "green",
    "online": "green",
    "listening": "green",
    "scheduled": "green",
    "Passed": "green",
    "P": "green",
    "idle": "",
    "starting": "yellow",
    "connecting": "yellow",
    "backoff": "yellow",
    "restarting": "yellow",
    "offline": "yellow",
    "disabled": "dim",
    "stopped": "dim",
    "failed": "red",
    "broken": "red",
    "refused": "red",
    "auth_failed": "red",
    "dead": "red",
    "rejected": "red",
    "Failed": "red",
    "F": "red",
    "Error": "magenta",
    "E": "magenta",
    "Terminated": "yellow",
    "T": "yellow",
    # Queue entries and WSJF step statuses (the converters' dry run shows steps by word).
    "uploading": "cyan",
    "Skipped": "dim",
    "S": "dim",
}


def state_text(state: object) -> Text:
    """A state word in its colour (colour is never the only sign: the word is there)."""
    word = "" if state is None else str(state)
    return Text(word, style=STATE_STYLE.get(word, ""))


def fill_table(table: DataTable[object], rows: Sequence[tuple[str, Sequence[object]]]) -> None:
    """Make ``table`` show ``rows`` (key, cells), keeping the cursor on the same key.

    Rows are rebuilt only when something differs: an unchanged table costs nothing.
    """
    cells = [tuple(r) for _, r in rows]
    signature = [
        (key, tuple(str(c) for c in row)) for (key, _), row in zip(rows, cells, strict=True)
    ]
    if getattr(table, "_pywats_rows", None) == signature:
        return
    cursor_key: str | None = None
    if table.row_count and table.cursor_row < table.row_count:
        cursor_key = table.coordinate_to_cell_key(Coordinate(table.cursor_row, 0)).row_key.value
    table.clear()
    for key, row in zip((k for k, _ in rows), cells, strict=True):
        table.add_row(*row, key=key)
    table._pywats_rows = signature  # type: ignore[attr-defined]
    if cursor_key is not None:
        keys = [k for k, _ in rows]
        if cursor_key in keys:
            table.move_cursor(row=keys.index(cursor_key), animate=False)
