"""``api.rootcause``: root-cause tickets, their attachments and archive (tag RootCause).

The server has one update operation (``PUT /api/RootCause/Ticket``) taking a whole ticket; the
conveniences (:meth:`~RootCauseDomain.add_comment`, :meth:`~RootCauseDomain.change_status`,
:meth:`~RootCauseDomain.assign_ticket`) read the ticket first and send it back changed, so
nothing the caller did not mean to change is lost.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterable, Sequence
from typing import BinaryIO

import httpx
import msgspec

from pywats._call import Call, Flow, bytes_call, download_call, json_call
from pywats._domain import Domain, ModeT, operation
from pywats._errors import InvalidArgumentError
from pywats._upload import UploadSource, multipart_upload
from pywats.models.rootcause import (
    ACTIVE_STATUSES,
    Ticket,
    TicketAttachment,
    TicketPriority,
    TicketStatus,
    TicketTag,
    TicketUpdate,
    TicketView,
)

__all__ = ["MAX_ATTACHMENT_SIZE", "RootCauseDomain"]

TicketId = str | uuid.UUID

MAX_ATTACHMENT_SIZE = 30_000_000
"""The default largest attachment sent, in bytes: IIS's default request limit, which WATS
servers run behind (a server configured higher takes ``max_size=`` more)."""

_json = msgspec.json.Encoder()
_ALL_STATUSES = TicketStatus(sum(TicketStatus))


def _uuid(value: object, name: str) -> uuid.UUID:
    """``value`` as a UUID, or :class:`InvalidArgumentError` naming the argument."""
    if isinstance(value, uuid.UUID):
        return value
    if isinstance(value, str):
        try:
            return uuid.UUID(value)
        except ValueError:
            pass
    raise InvalidArgumentError(f"{name} must be a uuid (str or uuid.UUID), not {value!r}")


def _text(value: object, name: str, *, optional: bool = True) -> str | None:
    if value is None and optional:
        return None
    if not isinstance(value, str):
        raise InvalidArgumentError(f"{name} must be a str, not {type(value).__name__}")
    return value


def _status(value: object, name: str = "status") -> TicketStatus:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidArgumentError(f"{name} must be a TicketStatus, not {value!r}")
    if not 0 < value <= _ALL_STATUSES or value & ~_ALL_STATUSES:
        raise InvalidArgumentError(f"{name}: {value} is not a combination of TicketStatus flags")
    return TicketStatus(value)


def _single_status(value: object) -> TicketStatus:
    status = _status(value)
    if status.bit_count() != 1:
        raise InvalidArgumentError(f"status: a ticket has one status, not {status.label}")
    return status


def _ticket_body(ticket: Ticket) -> bytes:
    try:
        return _json.encode(ticket)
    except (TypeError, ValueError, msgspec.EncodeError) as exc:
        raise InvalidArgumentError(f"the ticket cannot be sent: {exc}") from exc


def _ticket_call(method: str, ticket: Ticket) -> Call[Ticket]:
    return json_call(method, "/api/RootCause/Ticket", Ticket, raw_body=_ticket_body(ticket))


def _get_ticket_call(ticket_id: TicketId) -> Call[Ticket]:
    return json_call(
        "GET",
        "/api/RootCause/Ticket",
        Ticket,
        params={"ticketId": str(_uuid(ticket_id, "ticket_id"))},
    )


def _tickets_call(status: object, view: object, search_string: object) -> Call[list[Ticket]]:
    if isinstance(view, bool) or not isinstance(view, int) or view not in set(TicketView):
        raise InvalidArgumentError(f"view must be a TicketView, not {view!r}")
    return json_call(
        "GET",
        "/api/RootCause/Tickets",
        list[Ticket],
        params={
            "status": int(_status(status)),
            "view": int(view),
            "searchString": _text(search_string, "search_string"),
        },
        empty=[],
    )


def _attachments(
    attachments: Iterable[TicketAttachment | TicketId] | None,
) -> list[TicketAttachment] | None:
    if attachments is None:
        return None
    if isinstance(attachments, str | bytes):
        raise InvalidArgumentError("attachments must be a list of attachment ids")
    out: list[TicketAttachment] = []
    for item in attachments:
        if isinstance(item, TicketAttachment):
            out.append(TicketAttachment(_uuid(item.attachment_id, "attachment_id"), item.filename))
        else:
            out.append(TicketAttachment(attachment_id=_uuid(item, "attachment id")))
    return out or None


def _comment(
    comment: str | None, attachments: Iterable[TicketAttachment | TicketId] | None
) -> TicketUpdate | None:
    text = _text(comment, "comment")
    files = _attachments(attachments)
    if text is None and files is None:
        return None
    return TicketUpdate(content=text, attachments=files)


def _changed(current: Ticket, **changes: object) -> Ticket:
    """``current`` as it is sent back: changed, without its history (the server keeps that)."""
    return msgspec.structs.replace(current, history=None, **changes)


class RootCauseDomain(Domain[ModeT]):
    """Root-cause tickets, their attachments and archive (tag RootCause)."""

    # --- reading ------------------------------------------------------------------------

    @operation
    def get_ticket(self, ticket_id: TicketId) -> Call[Ticket]:
        """The ticket with this id, its history included.

        Raises:
            NotFoundError: no ticket has that id.
            InvalidArgumentError: ``ticket_id`` is not a uuid.
        """
        return _get_ticket_call(ticket_id)

    @operation
    def get_tickets(
        self,
        status: TicketStatus = TicketStatus.OPEN,
        view: TicketView = TicketView.ASSIGNED,
        search_string: str | None = None,
    ) -> Call[list[Ticket]]:
        """Tickets with one of the given statuses, seen from the calling user.

        Args:
            status: one status or several combined (``TicketStatus.OPEN | TicketStatus.SOLVED``).
            view: ``ASSIGNED`` (assigned to me), ``FOLLOWING`` (tickets I follow) or ``ALL``
                (needs the "Manage All Tickets" permission).
            search_string: only tickets whose subject, a tag's key or a tag's value contains it.
        """
        return _tickets_call(status, view, search_string)

    @operation
    def get_open_tickets(self, view: TicketView = TicketView.ASSIGNED) -> Call[list[Ticket]]:
        """Open tickets (not yet in progress, on hold, solved…)."""
        return _tickets_call(TicketStatus.OPEN, view, None)

    @operation
    def get_active_tickets(self, view: TicketView = TicketView.ASSIGNED) -> Call[list[Ticket]]:
        """Tickets being worked on: open, in progress or on hold."""
        return _tickets_call(ACTIVE_STATUSES, view, None)

    # --- creating and changing ----------------------------------------------------------

    @operation
    def create_ticket(
        self,
        subject: str,
        *,
        priority: TicketPriority = TicketPriority.MEDIUM,
        assignee: str | None = None,
        team: str | None = None,
        report_uuid: TicketId | None = None,
        tags: dict[str, str] | None = None,
        initial_comment: str | None = None,
        attachments: Sequence[TicketAttachment | TicketId] | None = None,
    ) -> Call[Ticket]:
        """Create a ticket; returns it with its id and number.

        Args:
            subject: the one-line title.
            priority: low, medium (default) or high.
            assignee: the user to work on it.
            team: the team it belongs to.
            report_uuid: the report it is about.
            tags: key/value tags.
            initial_comment: the first entry of its history.
            attachments: ids from :meth:`upload_attachment` to attach to the first entry.
        """
        if not isinstance(subject, str) or not subject.strip():
            raise InvalidArgumentError(f"subject must be a non-empty str, not {subject!r}")
        if not isinstance(priority, int) or priority not in set(TicketPriority):
            raise InvalidArgumentError(f"priority must be a TicketPriority, not {priority!r}")
        if tags is not None and not (
            isinstance(tags, dict)
            and all(isinstance(k, str) and isinstance(v, str) for k, v in tags.items())
        ):
            raise InvalidArgumentError("tags must be a dict of str to str")
        ticket = Ticket(
            subject=subject,
            priority=TicketPriority(priority),
            assignee=_text(assignee, "assignee"),
            team=_text(team, "team"),
            report_uuid=_uuid(report_uuid, "report_uuid") if report_uuid is not None else None,
            tags=[TicketTag(key=k, value=v) for k, v in tags.items()] if tags else None,
            update=_comment(initial_comment, attachments),
        )
        return _ticket_call("POST", ticket)

    @operation
    def update_ticket(self, ticket: Ticket) -> Call[Ticket]:
        """Send a changed ticket (found by its ``ticket_id``); returns it as saved.

        Put a comment (and attachments) in ``ticket.update``. Members left ``None`` are not
        sent.

        Raises:
            NotFoundError: no ticket has that id.
            ValidationError: the server refused the change (e.g. a status it cannot move to).
        """
        if not isinstance(ticket, Ticket):
            raise InvalidArgumentError(f"ticket must be a Ticket, not {type(ticket).__name__}")
        if ticket.ticket_id is None:
            raise InvalidArgumentError("ticket.ticket_id is required to update a ticket")
        return _ticket_call("PUT", ticket)

    @operation
    def add_comment(
        self,
        ticket_id: TicketId,
        comment: str,
        *,
        assignee: str | None = None,
        attachments: Sequence[TicketAttachment | TicketId] | None = None,
    ) -> Flow[Ticket]:
        """Add a comment (with attachments, optionally reassigning); returns the saved ticket."""
        if not isinstance(comment, str) or not comment.strip():
            raise InvalidArgumentError(f"comment must be a non-empty str, not {comment!r}")
        update = _comment(comment, attachments)
        changes: dict[str, object] = {"update": update}
        if assignee is not None:
            changes["assignee"] = _text(assignee, "assignee")
        current: Ticket = yield _get_ticket_call(ticket_id)
        saved: Ticket = yield _ticket_call("PUT", _changed(current, **changes))
        return saved

    @operation
    def change_status(
        self,
        ticket_id: TicketId,
        status: TicketStatus,
        *,
        assignee: str | None = None,
        comment: str | None = None,
    ) -> Flow[Ticket]:
        """Move a ticket to another status (optionally reassigning, with a comment).

        Archive solved tickets with :meth:`archive_tickets`, not here.

        Raises:
            ValidationError: the server does not allow the move (e.g. from closed to solved).
        """
        changes: dict[str, object] = {"status": _single_status(status)}
        if assignee is not None:
            changes["assignee"] = _text(assignee, "assignee")
        update = _comment(comment, None)
        changes["update"] = update
        current: Ticket = yield _get_ticket_call(ticket_id)
        saved: Ticket = yield _ticket_call("PUT", _changed(current, **changes))
        return saved

    @operation
    def assign_ticket(self, ticket_id: TicketId, assignee: str) -> Flow[Ticket]:
        """Assign a ticket to a user; returns the saved ticket."""
        if not isinstance(assignee, str) or not assignee.strip():
            raise InvalidArgumentError(f"assignee must be a non-empty str, not {assignee!r}")
        current: Ticket = yield _get_ticket_call(ticket_id)
        saved: Ticket = yield _ticket_call("PUT", _changed(current, assignee=assignee, update=None))
        return saved

    @operation
    def archive_tickets(self, ticket_ids: Sequence[TicketId]) -> Call[Ticket | None]:
        """Archive solved tickets (by their owner, or a user who may manage all tickets).

        Returns the ticket the server answers with (the last one archived), or ``None``.

        Raises:
            ValidationError: a ticket is not solved (the emulator then archives none of them).
            NotFoundError: no ticket has one of the ids.
        """
        if isinstance(ticket_ids, str | uuid.UUID) or not isinstance(ticket_ids, Iterable):
            raise InvalidArgumentError("ticket_ids must be a list of ticket ids")
        ids = [str(_uuid(t, "ticket id")) for t in ticket_ids]
        if not ids:
            raise InvalidArgumentError("ticket_ids is empty: give at least one ticket id")
        call: Call[Ticket | None] = json_call(
            "POST",
            "/api/RootCause/ArchiveTickets",
            Ticket | None,
            raw_body=_json.encode(ids),
            idempotent=True,  # archiving an archived ticket again changes nothing
        )

        def parse(response: httpx.Response) -> Ticket | None:
            return call.parse(response) if response.content.strip() else None

        return Call(
            method=call.method,
            path=call.path,
            parse=parse,
            content=call.content,
            content_type=call.content_type,
            idempotent=True,
        )

    # --- attachments --------------------------------------------------------------------

    @operation
    def upload_attachment(
        self,
        file: UploadSource,
        filename: str | None = None,
        *,
        max_size: int | None = MAX_ATTACHMENT_SIZE,
    ) -> Call[uuid.UUID]:
        """Upload a file to attach to a ticket update; returns its attachment id.

        Args:
            file: the content (bytes), a path, or a file object opened in binary mode.
            filename: the name it is stored under (default: the path's or file object's name;
                required with bytes).
            max_size: refuse a larger file before sending anything (``None``: no limit).

        A path or a seekable file is streamed from the file, never read into memory (and read
        again on a retry); bytes, and a file object that cannot seek, are sent from memory.

        Raises:
            InvalidArgumentError: not a file, unreadable, or larger than ``max_size``.
            HTTPError: status 413 when the server's own limit is lower.
        """
        body, content_type, _ = multipart_upload(
            "file", file, filename, max_size=max_size, what="the attachment"
        )
        call: Call[uuid.UUID] = json_call("POST", "/api/RootCause/Attachment", uuid.UUID)
        return Call(
            method="POST",
            path=call.path,
            parse=call.parse,
            content=body,
            content_type=content_type,
        )

    @operation
    def download_attachment(
        self,
        attachment_id: TicketId,
        to: str | os.PathLike[str] | BinaryIO,
        filename: str | None = None,
    ) -> Call[int]:
        """Download an attachment into ``to`` (a path, replaced only once the whole file
        arrived, or a binary file object), in chunks: a large file never passes through
        memory. Returns the number of bytes written.

        Raises:
            NotFoundError: no attachment has that id.
            InvalidArgumentError: ``to`` is not a path or a binary file object, or cannot be
                written.
        """
        return download_call(
            "GET",
            "/api/RootCause/Attachment",
            to,
            params={
                "attachmentId": str(_uuid(attachment_id, "attachment_id")),
                "fileName": _text(filename, "filename"),
            },
            what="the attachment",
        )

    @operation
    def get_attachment(self, attachment_id: TicketId, filename: str | None = None) -> Call[bytes]:
        """Download an attachment's content (bytes, as uploaded).

        Args:
            filename: ask the server to send it as a download under this name (otherwise
                images are sent for display).

        Raises:
            NotFoundError: no attachment has that id.
        """
        return bytes_call(
            "GET",
            "/api/RootCause/Attachment",
            params={
                "attachmentId": str(_uuid(attachment_id, "attachment_id")),
                "fileName": _text(filename, "filename"),
            },
        )
