"""The emulator's ``rootcause`` routes:

Root-cause tickets, their attachments and archive (tag RootCause).

How the emulator plays the server (where the description is silent, the choice is named):

* A ticket moves between statuses as :data:`MOVES` allows; any other move is a 400 naming the
  ticket, both statuses and the allowed ones. ``Archived`` is reached only through
  ``ArchiveTickets`` and only from ``Solved``; an archived ticket cannot be changed.
* ``ArchiveTickets`` is all or nothing: one ticket that is not solved (or not found) and none
  is archived (400 naming every unsolved ticket, 404 naming an unknown one). An already
  archived ticket is left as it is, so sending the same list twice does no harm.
* Every token may manage all tickets (the emulator has no permissions): ``view=2`` lists every
  ticket and anyone may archive.
* The owner of a new ticket is the calling user; the ticket number counts from 1.
* ``view=1`` (following) lists the tickets the user owns, was assigned or commented on.
* Attachments are uploaded as ``multipart/form-data`` (the first part with a file name, or the
  part named ``file``) and kept byte for byte; the request body limit (413) bounds their size.
"""

from __future__ import annotations

import mimetypes
import threading
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING
from urllib.parse import quote

import msgspec

from pywats.models.rootcause import (
    Ticket,
    TicketAttachment,
    TicketPriority,
    TicketStatus,
    TicketUpdate,
    TicketView,
    UpdateType,
)
from pywats.testing._http import HTTPFailure, Request, Response, Router, decode_json, json_response
from pywats.testing._multipart import MultipartError, boundary_of, parse_multipart

if TYPE_CHECKING:
    from pywats.testing._emulator import FakeWATS

__all__ = ["MOVES", "RootCauseState", "StoredAttachment", "add_rootcause_routes", "rootcause_state"]

S = TicketStatus
MOVES: dict[TicketStatus, frozenset[TicketStatus]] = {
    S.OPEN: frozenset({S.IN_PROGRESS, S.ON_HOLD, S.SOLVED, S.CLOSED}),
    S.IN_PROGRESS: frozenset({S.OPEN, S.ON_HOLD, S.SOLVED, S.CLOSED}),
    S.ON_HOLD: frozenset({S.OPEN, S.IN_PROGRESS, S.SOLVED, S.CLOSED}),
    S.SOLVED: frozenset({S.OPEN, S.IN_PROGRESS, S.CLOSED}),  # reopened, or closed
    S.CLOSED: frozenset({S.OPEN}),  # only reopened
    S.ARCHIVED: frozenset(),  # never changed again
}
"""The statuses a ticket may move to from each status with an update (Archived: see above)."""

_ALL = TicketStatus(sum(TicketStatus))
_PRIORITIES = frozenset(int(p) for p in TicketPriority)


@dataclass(frozen=True, slots=True)
class StoredAttachment:
    """An uploaded file: its name as uploaded, its content type and bytes."""

    filename: str
    content_type: str
    data: bytes


@dataclass
class RootCauseState:
    """The emulator's tickets and attachments (``emu.domain_state("rootcause", …)``)."""

    tickets: dict[uuid.UUID, Ticket] = field(default_factory=dict)
    followers: dict[uuid.UUID, set[str]] = field(default_factory=dict)
    attachments: dict[uuid.UUID, StoredAttachment] = field(default_factory=dict)
    next_number: int = 1
    lock: threading.Lock = field(default_factory=threading.Lock)

    def ticket(self, ticket_id: uuid.UUID) -> Ticket:
        """The ticket, or 404."""
        found = self.tickets.get(ticket_id)
        if found is None:
            raise HTTPFailure(404, f"Ticket {ticket_id} was not found.")
        return found


def rootcause_state(emu: FakeWATS) -> RootCauseState:
    """The emulator's tickets."""
    return emu.domain_state("rootcause", RootCauseState)


def add_rootcause_routes(router: Router) -> None:
    """Register the rootcause routes on ``router``."""
    router.add("GET", "/api/RootCause/Ticket", get_ticket)
    router.add("POST", "/api/RootCause/Ticket", post_ticket)
    router.add("PUT", "/api/RootCause/Ticket", put_ticket)
    router.add("GET", "/api/RootCause/Tickets", get_tickets)
    router.add("POST", "/api/RootCause/ArchiveTickets", archive_tickets)
    router.add("POST", "/api/RootCause/Attachment", post_attachment)
    router.add("GET", "/api/RootCause/Attachment", get_attachment)


# --- parameters -------------------------------------------------------------------------------


def _required(req: Request, name: str) -> str:
    value = req.param(name)
    if value is None or not value.strip():
        raise HTTPFailure(400, f"The {name} parameter is required.")
    return value


def _uuid_param(req: Request, name: str) -> uuid.UUID:
    value = _required(req, name)
    try:
        return uuid.UUID(value)
    except ValueError:
        raise HTTPFailure(400, f"The value '{value}' is not valid for {name}.") from None


def _int_param(req: Request, name: str) -> int:
    value = _required(req, name)
    try:
        number = int(value)
    except ValueError:
        raise HTTPFailure(400, f"The value '{value}' is not valid for {name}.") from None
    if not -(2**31) <= number < 2**31:
        raise HTTPFailure(400, f"The value '{value}' is not valid for {name}.")
    return number


def _now() -> datetime:
    return datetime.now(UTC)


def _same_user(a: str | None, b: str | None) -> bool:
    return a is not None and b is not None and a.casefold() == b.casefold()


# --- tickets ----------------------------------------------------------------------------------


def _label(status: int) -> str:
    return TicketStatus(status).label


def _check_status(value: int, where: str = "status") -> TicketStatus:
    if value not in set(TicketStatus):
        allowed = ", ".join(f"{int(s)} ({s.label})" for s in TicketStatus)
        raise HTTPFailure(400, f"{where}: {value} is not a ticket status; use one of {allowed}.")
    return TicketStatus(value)


def _check_priority(value: int) -> TicketPriority:
    if value not in _PRIORITIES:
        raise HTTPFailure(400, f"priority: {value} is not a priority; use 0 (low), 1 or 2 (high).")
    return TicketPriority(value)


def _check_update(state: RootCauseState, update: TicketUpdate | None) -> TicketUpdate | None:
    """The comment of a create/update with its attachments' names filled in, or ``None``."""
    if update is None or (not update.content and not update.attachments):
        return None
    files: list[TicketAttachment] = []
    for i, attachment in enumerate(update.attachments or ()):
        where = f"update.attachments[{i}].attachmentId"
        if attachment.attachment_id is None:
            raise HTTPFailure(400, f"{where} is required.")
        stored = state.attachments.get(attachment.attachment_id)
        if stored is None:
            raise HTTPFailure(
                400, f"{where}: attachment {attachment.attachment_id} was not uploaded."
            )
        files.append(
            TicketAttachment(attachment.attachment_id, attachment.filename or stored.filename)
        )
    return TicketUpdate(content=update.content, attachments=files or None)


def _entry(
    user: str | None,
    kind: UpdateType,
    content: str | None,
    attachments: list[TicketAttachment] | None = None,
) -> TicketUpdate:
    return TicketUpdate(
        update_id=uuid.uuid4(),
        update_utc=_now(),
        update_user=user,
        content=content,
        update_type=kind,
        attachments=attachments,
    )


def get_ticket(emu: FakeWATS, req: Request) -> Response:
    """``GET /api/RootCause/Ticket?ticketId=``."""
    ticket_id = _uuid_param(req, "ticketId")
    state = rootcause_state(emu)
    with state.lock:
        return json_response(state.ticket(ticket_id))


def post_ticket(emu: FakeWATS, req: Request) -> Response:
    """``POST /api/RootCause/Ticket``: a new ticket, owned by the caller, numbered."""
    new = decode_json(req.body, Ticket)
    if not new.subject or not new.subject.strip():
        raise HTTPFailure(400, "subject is required.")
    status = _check_status(new.status) if new.status is not None else TicketStatus.OPEN
    if status == TicketStatus.ARCHIVED:
        raise HTTPFailure(400, "status: a new ticket cannot be Archived (see ArchiveTickets).")
    priority = _check_priority(new.priority) if new.priority is not None else TicketPriority.MEDIUM
    if new.report_uuid is not None and str(new.report_uuid) not in emu.reports:
        raise HTTPFailure(400, f"reportUuid: report {new.report_uuid} was not found.")
    state = rootcause_state(emu)
    with state.lock:
        comment = _check_update(state, new.update)
        now = _now()
        history = []
        if comment is not None:
            history.append(
                _entry(
                    req.user, UpdateType.CONTENT, comment.content, attachments=comment.attachments
                )
            )
        ticket = Ticket(
            ticket_id=uuid.uuid4(),
            ticket_number=state.next_number,
            progress=new.progress,
            owner=req.user,
            assignee=new.assignee,
            subject=new.subject,
            status=status,
            priority=priority,
            report_uuid=new.report_uuid,
            created_utc=now,
            updated_utc=now,
            team=new.team,
            origin=new.origin,
            tags=new.tags,
            history=history,
        )
        state.next_number += 1
        assert ticket.ticket_id is not None
        state.tickets[ticket.ticket_id] = ticket
        state.followers[ticket.ticket_id] = {u.casefold() for u in (req.user, new.assignee) if u}
        return json_response(ticket)


def _moved(ticket: Ticket, to: TicketStatus) -> None:
    """Refuse a status change the server would refuse (400 naming both statuses)."""
    now = TicketStatus(ticket.status or TicketStatus.OPEN)
    if to == now:
        return
    if to == TicketStatus.ARCHIVED:
        raise HTTPFailure(
            400,
            f"status: ticket {ticket.ticket_number} cannot be set to Archived by an update; "
            "archive Solved tickets with ArchiveTickets.",
        )
    allowed = MOVES[now]
    if to not in allowed:
        options = " or ".join(s.label for s in sorted(allowed)) or "nothing"
        raise HTTPFailure(
            400,
            f"status: ticket {ticket.ticket_number} cannot move from {now.label} to {to.label}; "
            f"from {now.label} it can move to {options}.",
        )


def _tag_pairs(ticket: Ticket) -> list[tuple[str | None, str | None]]:
    return [(t.key, t.value) for t in ticket.tags or ()]


def put_ticket(emu: FakeWATS, req: Request) -> Response:
    """``PUT /api/RootCause/Ticket``: change a ticket; members sent as null stay as they are.

    Property changes, a new progress text and the ``update`` comment each become an entry of
    the history.
    """
    change = decode_json(req.body, Ticket)
    if change.ticket_id is None:
        raise HTTPFailure(400, "ticketId is required.")
    state = rootcause_state(emu)
    with state.lock:
        ticket = state.ticket(change.ticket_id)
        if ticket.status == TicketStatus.ARCHIVED:
            raise HTTPFailure(
                400, f"Ticket {ticket.ticket_number} is archived; archived tickets cannot change."
            )
        comment = _check_update(state, change.update)
        updates: dict[str, object] = {}
        said: list[str] = []
        if change.status is not None:
            status = _check_status(change.status)
            _moved(ticket, status)
            if status != ticket.status:
                updates["status"] = status
                said.append(f"status: {_label(ticket.status or 1)} -> {status.label}")
        if change.priority is not None:
            priority = _check_priority(change.priority)
            if priority != ticket.priority:
                updates["priority"] = priority
                old = TicketPriority(ticket.priority or 0).name.lower()
                said.append(f"priority: {old} -> {priority.name.lower()}")
        if change.report_uuid is not None and change.report_uuid != ticket.report_uuid:
            if str(change.report_uuid) not in emu.reports:
                raise HTTPFailure(400, f"reportUuid: report {change.report_uuid} was not found.")
            updates["report_uuid"] = change.report_uuid
            said.append(f"reportUuid: {ticket.report_uuid} -> {change.report_uuid}")
        for name in ("assignee", "subject", "team", "origin"):
            value = getattr(change, name)
            if value is not None and value != getattr(ticket, name):
                if name == "subject" and not value.strip():
                    raise HTTPFailure(400, "subject cannot be empty.")
                updates[name] = value
                said.append(f"{name}: {getattr(ticket, name)} -> {value}")
        if change.tags is not None and _tag_pairs(change) != _tag_pairs(ticket):
            updates["tags"] = change.tags
            said.append("tags changed")
        history = list(ticket.history or ())
        if said:
            history.append(_entry(req.user, UpdateType.PROPERTIES, "; ".join(said)))
        if change.progress is not None and change.progress != ticket.progress:
            updates["progress"] = change.progress
            history.append(_entry(req.user, UpdateType.PROGRESS, change.progress))
        if comment is not None:
            history.append(
                _entry(
                    req.user, UpdateType.CONTENT, comment.content, attachments=comment.attachments
                )
            )
        if len(history) > len(ticket.history or ()):
            updates["history"] = history
            updates["updated_utc"] = _now()
        saved = msgspec.structs.replace(ticket, **updates)
        state.tickets[change.ticket_id] = saved
        followers = state.followers.setdefault(change.ticket_id, set())
        followers.update(u.casefold() for u in (req.user, saved.assignee) if u)
        return json_response(saved)


def _matches(ticket: Ticket, search: str) -> bool:
    needle = search.casefold()
    texts = [
        ticket.subject,
        *(t.key for t in ticket.tags or ()),
        *(t.value for t in ticket.tags or ()),
    ]
    return any(needle in text.casefold() for text in texts if text)


def get_tickets(emu: FakeWATS, req: Request) -> Response:
    """``GET /api/RootCause/Tickets?status=&view=[&searchString=]``, by ticket number."""
    status = _int_param(req, "status")
    if not 0 < status <= _ALL:
        raise HTTPFailure(
            400, f"status: {status} is not a combination of the ticket status flags 1 to 32."
        )
    view = _int_param(req, "view")
    if view not in set(TicketView):
        raise HTTPFailure(400, f"view: {view} is not 0 (assigned), 1 (following) or 2 (all).")
    search = req.param("searchString")
    user = (req.user or "").casefold()
    state = rootcause_state(emu)
    with state.lock:
        found = []
        for ticket_id, ticket in state.tickets.items():
            if not (ticket.status or 0) & status:
                continue
            if view == TicketView.ASSIGNED and not _same_user(ticket.assignee, req.user):
                continue
            if view == TicketView.FOLLOWING and user not in state.followers.get(ticket_id, ()):
                continue
            if search and not _matches(ticket, search):
                continue
            found.append(ticket)
    found.sort(key=lambda t: t.ticket_number or 0)
    return json_response(found)


def archive_tickets(emu: FakeWATS, req: Request) -> Response:
    """``POST /api/RootCause/ArchiveTickets`` with ticket ids: all Solved, or none archived."""
    ids = decode_json(req.body, list[uuid.UUID])
    if not ids:
        raise HTTPFailure(400, "Give at least one ticket id to archive.")
    state = rootcause_state(emu)
    with state.lock:
        tickets = [state.ticket(ticket_id) for ticket_id in ids]
        unsolved = [
            f"ticket {t.ticket_number} ({_label(t.status or 1)})"
            for t in tickets
            if t.status not in (TicketStatus.SOLVED, TicketStatus.ARCHIVED)
        ]
        if unsolved:
            raise HTTPFailure(
                400, "Only Solved tickets can be archived; not solved: " + ", ".join(unsolved) + "."
            )
        now = _now()
        last = tickets[-1]
        for ticket in tickets:
            if ticket.status == TicketStatus.ARCHIVED:
                last = ticket
                continue
            entry = _entry(req.user, UpdateType.PROPERTIES, "status: Solved -> Archived")
            last = msgspec.structs.replace(
                ticket,
                status=TicketStatus.ARCHIVED,
                updated_utc=now,
                history=[*(ticket.history or ()), entry],
            )
            assert last.ticket_id is not None
            state.tickets[last.ticket_id] = last
        return json_response(last)


# --- attachments ------------------------------------------------------------------------------


def post_attachment(emu: FakeWATS, req: Request) -> Response:
    """``POST /api/RootCause/Attachment`` (multipart/form-data): the new attachment's id."""
    content_type = req.headers.get("content-type")
    boundary = boundary_of(content_type)
    if boundary is None:
        raise HTTPFailure(
            415,
            f"The request content type '{content_type or ''}' is not supported; upload the file "
            "as multipart/form-data.",
        )
    try:
        parts = parse_multipart(req.body, boundary)
    except MultipartError as exc:
        raise HTTPFailure(400, f"The multipart body is invalid: {exc}.") from exc
    files = [p for p in parts if p.filename is not None or (p.name or "").lower() == "file"]
    if not files:
        raise HTTPFailure(400, "No file was uploaded: send a form part with a file name.")
    part = files[0]
    filename = part.filename or "attachment"
    guessed = mimetypes.guess_type(filename)[0]
    stored = StoredAttachment(
        filename=filename,
        content_type=part.content_type or guessed or "application/octet-stream",
        data=part.data,
    )
    attachment_id = uuid.uuid4()
    state = rootcause_state(emu)
    with state.lock:
        state.attachments[attachment_id] = stored
    return json_response(str(attachment_id))


def get_attachment(emu: FakeWATS, req: Request) -> Response:
    """``GET /api/RootCause/Attachment?attachmentId=[&fileName=]``: the bytes as uploaded.

    With ``fileName`` the answer is a download under that name; without, it is sent for display.
    """
    attachment_id = _uuid_param(req, "attachmentId")
    state = rootcause_state(emu)
    with state.lock:
        stored = state.attachments.get(attachment_id)
    if stored is None:
        raise HTTPFailure(404, f"Attachment {attachment_id} was not found.")
    download = req.param("fileName")
    if download:
        disposition = f"attachment; filename*=UTF-8''{quote(download, safe='')}"
    else:
        disposition = "inline"
    return Response(
        body=stored.data,
        content_type=stored.content_type,
        headers={"Content-Disposition": disposition},
    )
