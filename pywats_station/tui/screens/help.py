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
                if not self._applies(binding):
                    continue
                # "f1,question_mark" is two keys: show each as the footer would ("f1 / ?").
                key = " / ".join(
                    self.app.get_key_display(Binding(k.strip(), binding.action))
                    for k in binding.key.split(",")
                )
                if key in seen:
                    continue
                seen.add(key)
                table.append(f"{key:>12}  ", style="bold")
                table.append(f"{binding.description}\n")
        with VerticalScroll(id="help-box"):
            yield Static(_ABOUT, id="help-about")
            yield Static(table, id="help-keys")

    def _applies(self, binding: Binding) -> bool:
        """Whether the key does something here (no line, no next station, with one station)."""
        action = binding.action.removeprefix("app.")
        name, _, rest = action.partition("(")
        arguments: tuple[object, ...] = ()
        if rest:
            arguments = tuple(a.strip().strip("'\"") for a in rest.rstrip(")").split(","))
        return self.app.check_action(name, arguments) is not False
