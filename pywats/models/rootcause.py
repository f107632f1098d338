"""Root-cause tickets (``Virinco.WATS.Web.Models.RootCause``): tickets, their updates, attachments.

A ticket tracks a problem (often one report, ``report_uuid``) from ``OPEN`` to ``SOLVED`` and on to
``ARCHIVED``. Every change is kept in its ``history`` as an :class:`TicketUpdate`; a comment or a
change sent with an update goes in the ticket's ``update`` member.
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from pywats.models._base import Dto

__all__ = [
    "ACTIVE_STATUSES",
    "Ticket",
    "TicketAttachment",
    "TicketPriority",
    "TicketStatus",
    "TicketTag",
    "TicketUpdate",
    "TicketView",
    "UpdateType",
]


class _OpenIntEnum(enum.IntEnum):
    """An int enum that keeps values it does not know (a newer server may send more).

    msgspec calls the class for a value it cannot find, so ``_missing_`` turns an unknown value
    into a pseudo-member named ``UNKNOWN_<value>`` instead of failing the whole answer.
    """

    @classmethod
    def _missing_(cls, value: object) -> _OpenIntEnum | None:
        if not isinstance(value, int) or isinstance(value, bool):
            return None
        member = int.__new__(cls, value)
        member._name_ = f"UNKNOWN_{value}"
        member._value_ = value
        return member


class TicketStatus(enum.IntFlag):
    """A ticket's ``status``; the flags combine (``OPEN | IN_PROGRESS``) to list tickets.

    A ticket has exactly one of them at a time.
    """

    OPEN = 1
    IN_PROGRESS = 2
    ON_HOLD = 4
    SOLVED = 8
    CLOSED = 16
    ARCHIVED = 32

    @property
    def label(self) -> str:
        """The status as WATS shows it (``In progress``), or the flags joined by ``|``."""
        names = [_LABELS[flag] for flag in TicketStatus if flag in self and flag in _LABELS]
        return " | ".join(names) if names else str(int(self))


_LABELS = {
    TicketStatus.OPEN: "Open",
    TicketStatus.IN_PROGRESS: "In progress",
    TicketStatus.ON_HOLD: "On hold",
    TicketStatus.SOLVED: "Solved",
    TicketStatus.CLOSED: "Closed",
    TicketStatus.ARCHIVED: "Archived",
}

ACTIVE_STATUSES = TicketStatus.OPEN | TicketStatus.IN_PROGRESS | TicketStatus.ON_HOLD
"""Tickets still being worked on: open, in progress or on hold."""


class TicketPriority(_OpenIntEnum):
    """A ticket's ``priority``."""

    LOW = 0
    MEDIUM = 1
    HIGH = 2


class TicketView(enum.IntEnum):
    """Whose tickets ``get_tickets`` lists (the query's ``view``)."""

    ASSIGNED = 0
    """Tickets assigned to the calling user."""
    FOLLOWING = 1
    """Tickets the calling user follows."""
    ALL = 2
    """Every ticket (needs the "Manage All Tickets" permission)."""


class UpdateType(_OpenIntEnum):
    """What an entry of a ticket's history records (``updateType``)."""

    CONTENT = 0
    """Text: a comment, with its attachments."""
    PROGRESS = 1
    """The ticket's progress text changed."""
    PROPERTIES = 2
    """Properties changed: assignee, status, priority…"""
    NOTIFICATION = 3
    """A reminder or mail was sent."""


class TicketTag(Dto):
    """A key/value tag of a ticket (``Setting``); ``search_string`` matches keys and values."""

    key: str | None = None
    value: str | None = None
    change: int | None = None  # 0-6 in the description, not named there


class TicketAttachment(Dto):
    """A file attached to a ticket update: the id ``upload_attachment`` returned, and its name."""

    attachment_id: uuid.UUID | None = None
    filename: str | None = None


class TicketUpdate(Dto):
    """One entry of a ticket's history, or the change sent with an update.

    Attributes:
        update_id: the entry's id (given by the server).
        update_utc: when it was made (given by the server).
        update_user: who made it (given by the server).
        content: the comment, the new progress text, or what changed.
        update_type: what the entry records.
        attachments: files attached with a comment.
    """

    update_id: uuid.UUID | None = None
    update_utc: datetime | None = None
    update_user: str | None = None
    content: str | None = None
    update_type: UpdateType | None = None
    attachments: list[TicketAttachment] | None = None


class Ticket(Dto):
    """A root-cause ticket.

    Attributes:
        ticket_id: the ticket's id (given by the server on create).
        ticket_number: its number as WATS shows it (given by the server on create).
        progress: the free-text progress note.
        owner: the user who created it.
        assignee: the user working on it.
        subject: the one-line title.
        status: where it is in its life (one :class:`TicketStatus`).
        priority: low, medium or high.
        report_uuid: the report the ticket is about, if any.
        created_utc, updated_utc: when it was created and last changed.
        team: the team it belongs to.
        origin: where it was raised from.
        tags: key/value tags.
        history: every change so far, oldest first.
        update: on create or update: a comment (and attachments) to add to the history.
    """

    ticket_id: uuid.UUID | None = None
    ticket_number: int | None = None
    progress: str | None = None
    owner: str | None = None
    assignee: str | None = None
    subject: str | None = None
    status: TicketStatus | None = None
    priority: TicketPriority | None = None
    report_uuid: uuid.UUID | None = None
    created_utc: datetime | None = None
    updated_utc: datetime | None = None
    team: str | None = None
    origin: str | None = None
    tags: list[TicketTag] | None = None
    history: list[TicketUpdate] | None = None
    update: TicketUpdate | None = None

    @property
    def attachments(self) -> list[TicketAttachment]:
        """Every attachment of the ticket's history, oldest first."""
        return [a for u in self.history or () for a in u.attachments or ()]
