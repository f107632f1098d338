"""The help screen: every key of the screen it was opened from, and of the app."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Static

__all__ = ["Help"]

_ABOUT = (
    "pywats-tui shows a station through its control channel. Screens: 1 dashboard, "
    "2 converters, 3 queue, 4 log, 5 config, 6 connection, l the line (several stations). "
    "Ctrl+P opens the command palette; Esc closes this."
)


class Help(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,f1,question_mark", "app.pop_screen", "Close", id="help.close")
    ]

    def __init__(self, of: Screen[object]) -> None:
        super().__init__()
        self._of = of

    def compose(self) -> ComposeResult:
        table = Text()
        seen: set[str] = set()
        for bindings in (self._of.BINDINGS, self.app.BINDINGS):
            for binding in bindings:
                if not isinstance(binding, Binding) or not binding.description:
                    continue
                key = self.app.get_key_display(binding)
                if key in seen:
                    continue
                seen.add(key)
                table.append(f"{key:>12}  ", style="bold")
                table.append(f"{binding.description}\n")
        with VerticalScroll(id="help-box"):
            yield Static(_ABOUT, id="help-about")
            yield Static(table, id="help-keys")
