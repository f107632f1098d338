"""Sample arguments for ``api.rootcause`` and its share of the contract test's seeded emulator."""

from __future__ import annotations

import io
import json
import uuid
from typing import TYPE_CHECKING

from pywats import pyWATS
from pywats._upload import multipart_body
from pywats.models.rootcause import Ticket, TicketStatus, TicketView
from tests.testing.samples import Args, ContractSeed, Probe

if TYPE_CHECKING:
    from pywats.testing import FakeWATS

__all__ = ["SAMPLES", "seed_contract"]

_ID = uuid.UUID("0b6f4c1e-2a3d-4e5f-8a9b-0c1d2e3f4a5b")

SAMPLES: dict[str, list[Args]] = {
    "rootcause.get_ticket": [((_ID,), {})],
    "rootcause.get_tickets": [
        ((), {}),
        ((TicketStatus.SOLVED | TicketStatus.CLOSED, TicketView.ALL, "fixture"), {}),
    ],
    "rootcause.get_open_tickets": [((), {})],
    "rootcause.get_active_tickets": [((), {"view": TicketView.FOLLOWING})],
    "rootcause.create_ticket": [(("Fixture 3 fails",), {"tags": {"Line": "1"}})],
    "rootcause.update_ticket": [((Ticket(ticket_id=_ID, progress="Probing"),), {})],
    "rootcause.add_comment": [((_ID, "Replaced the probe"), {})],
    "rootcause.change_status": [((_ID, TicketStatus.SOLVED), {})],
    "rootcause.assign_ticket": [((_ID, "ada"), {})],
    "rootcause.archive_tickets": [(([_ID],), {})],
    "rootcause.upload_attachment": [((b"log", "log.txt"), {})],
    "rootcause.get_attachment": [((_ID,), {}), ((_ID, "log.txt"), {})],
    "rootcause.download_attachment": [((_ID, io.BytesIO()), {})],
}


def seed_contract(fake: FakeWATS) -> ContractSeed:
    """An open ticket with an attachment, and a solved one to archive."""
    with pyWATS("http://wats.test", "test-token", transport=fake) as api:
        rc = api.rootcause
        attachment = rc.upload_attachment(b"probe log\r\n", "probe.log")
        ticket = rc.create_ticket(
            "Contract: fixture 3 fails",
            assignee="api",
            tags={"Line": "1"},
            initial_comment="Seen twice",
            attachments=[attachment],
        )
        solved = rc.create_ticket("Contract: solved", assignee="api")
        assert solved.ticket_id is not None
        rc.change_status(solved.ticket_id, TicketStatus.SOLVED)
    ticket_id, solved_id = str(ticket.ticket_id), str(solved.ticket_id)
    create = json.dumps(
        {
            "subject": "Contract: new",
            "priority": 2,
            "tags": [{"key": "Line", "value": "2"}],
            "update": {"content": "First", "attachments": [{"attachmentId": str(attachment)}]},
        }
    ).encode()
    change = json.dumps(
        {"ticketId": ticket_id, "progress": "Probing", "update": {"content": "Still failing"}}
    ).encode()
    archive = json.dumps([solved_id]).encode()
    upload, upload_type = multipart_body("file", "scope.png", b"\x89PNG\r\n\x1a\n")
    bodies = {
        "POST /api/RootCause/Ticket": (create, "application/json"),
        "PUT /api/RootCause/Ticket": (change, "application/json"),
        "POST /api/RootCause/ArchiveTickets": (archive, "application/json"),
        "POST /api/RootCause/Attachment": (upload, upload_type),
    }
    probes = {
        "GET /api/RootCause/Ticket": [Probe("/api/RootCause/Ticket", (("ticketId", ticket_id),))],
        "POST /api/RootCause/Ticket": [Probe("/api/RootCause/Ticket", body=create)],
        "PUT /api/RootCause/Ticket": [Probe("/api/RootCause/Ticket", body=change)],
        "GET /api/RootCause/Tickets": [
            Probe("/api/RootCause/Tickets", (("status", "1"), ("view", "0"))),
            Probe("/api/RootCause/Tickets", (("status", "8"), ("view", "2"))),
            Probe(
                "/api/RootCause/Tickets",
                (("status", "63"), ("view", "1"), ("searchString", "fixture")),
            ),
        ],
        "POST /api/RootCause/ArchiveTickets": [
            Probe("/api/RootCause/ArchiveTickets", body=archive)
        ],
        "POST /api/RootCause/Attachment": [
            Probe("/api/RootCause/Attachment", body=upload, content_type=upload_type)
        ],
        "GET /api/RootCause/Attachment": [
            Probe("/api/RootCause/Attachment", (("attachmentId", str(attachment)),)),
            Probe(
                "/api/RootCause/Attachment",
                (("attachmentId", str(attachment)), ("fileName", "probe.log")),
            ),
        ],
    }
    return ContractSeed(bodies=bodies, probes=probes)
