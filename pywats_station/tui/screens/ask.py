"""Calling the station when the screen must show *why* a call failed, not only toast it.

:meth:`~pywats_station.tui.screens.base.StationView.call` toasts a refusal and gives None; the
config editor and the connection test show the error where the user is looking instead, so
they need the error itself. :func:`ask` never raises: a refusal, a lost link and a station that
does not answer in time all come back as an :class:`Answer` with the reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pywats_station.control import ControlError, ErrorCode

if TYPE_CHECKING:
    from pywats_station.tui.link import Link

__all__ = ["Answer", "ask", "problems_text"]


@dataclass(frozen=True)
class Answer:
    """What a call gave: its result, or why there is none.

    Attributes:
        value: The result as plain JSON (None when the call failed).
        error: The error message (None when the call succeeded).
        code: The error code (a :class:`~pywats_station.control.ErrorCode` value), if any.
        data: The error's structured ``data`` (``problems`` for -32012), if any.
    """

    value: Any = None
    error: str | None = None
    code: int | None = None
    data: Any = None

    @property
    def ok(self) -> bool:
        return self.error is None


async def ask(link: Link, method: str, params: dict[str, Any] | None = None) -> Answer:
    """Call ``method``; every failure is an :class:`Answer` with the reason, never an exception."""
    try:
        return Answer(value=await link.call(method, params))
    except ControlError as exc:
        return Answer(error=exc.message, code=int(exc.code), data=exc.data)
    except TimeoutError:
        # StationLink gives up waiting after CALL_TIMEOUT; the link itself may still be fine.
        return Answer(
            error=f"{method}: the station did not answer in time",
            code=int(ErrorCode.CONNECTION_CLOSED),
        )


def problems_text(answer: Answer) -> list[str]:
    """The error as lines to show: each ``data.problems`` item (-32012) on its own line, or the
    message alone."""
    problems = answer.data.get("problems") if isinstance(answer.data, dict) else None
    if isinstance(problems, list) and problems:
        lines = []
        for item in problems:
            if isinstance(item, dict):
                lines.append(f"{item.get('path', '?')}: {item.get('message', '')}")
            else:
                lines.append(str(item))
        return lines
    return [answer.error or ""]
