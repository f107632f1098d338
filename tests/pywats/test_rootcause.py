"""``api.rootcause`` against the emulator, blocking and async: tickets, statuses, archive."""

from __future__ import annotations

import io
import re
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import msgspec
import pytest

import pywats
from pywats import pyWATS
from pywats.models.rootcause import (
    ACTIVE_STATUSES,
    Ticket,
    TicketPriority,
    TicketStatus,
    TicketView,
    UpdateType,
)
from pywats.testing import FakeWATS
from pywats.testing._rootcause_routes import MOVES, rootcause_state
from tests.pywats.both_clients import BASE_URL, TOKEN, both_clients

fake, api = both_clients()

S = TicketStatus

# What the docs promise (docs/rootcause.md), written out here so a change of the emulator's table
# fails a test rather than changing what is tested.
ALLOWED = {
    S.OPEN: {S.IN_PROGRESS, S.ON_HOLD, S.SOLVED, S.CLOSED},
    S.IN_PROGRESS: {S.OPEN, S.ON_HOLD, S.SOLVED, S.CLOSED},
    S.ON_HOLD: {S.OPEN, S.IN_PROGRESS, S.SOLVED, S.CLOSED},
    S.SOLVED: {S.OPEN, S.IN_PROGRESS, S.CLOSED},
    S.CLOSED: {S.OPEN},
    S.ARCHIVED: set(),
}


@pytest.fixture
def ada(fake: FakeWATS) -> Iterator[pyWATS]:
    """A second user of the same server."""
    fake.state.add_token("ada-token", "ada")
    with pyWATS(BASE_URL, "ada-token", transport=fake) as client:
        yield client


def _raw(
    fake: FakeWATS, method: str, path: str, *, content_type: str | None = None, **kwargs: Any
) -> httpx.Response:
    """A request as a client other than pywats would send it."""
    headers = {"Authorization": f"Basic {TOKEN}"}
    if content_type is not None:
        headers["Content-Type"] = content_type
    with httpx.Client(base_url=BASE_URL, transport=fake) as http:
        return http.request(method, path, headers=headers, **kwargs)


def _ticket_in(api: pyWATS, status: TicketStatus, subject: str = "Fixture 3 fails") -> Ticket:
    """A new ticket moved to ``status`` the shortest allowed way."""
    ticket = api.rootcause.create_ticket(subject, assignee="api")
    assert ticket.ticket_id is not None
    if status == S.ARCHIVED:
        api.rootcause.change_status(ticket.ticket_id, S.SOLVED)
        api.rootcause.archive_tickets([ticket.ticket_id])
    elif status != S.OPEN:
        api.rootcause.change_status(ticket.ticket_id, status)
    return api.rootcause.get_ticket(ticket.ticket_id)


# --- creating and reading ---------------------------------------------------------------------


def test_a_new_ticket_is_open_numbered_and_owned_by_its_creator(api: pyWATS) -> None:
    first = api.rootcause.create_ticket("Fixture 3 fails", assignee="ada", team="Test")
    second = api.rootcause.create_ticket("ICT false fails", priority=TicketPriority.HIGH)
    assert first.ticket_id is not None
    assert second.ticket_id is not None
    assert (first.ticket_number, second.ticket_number) == (1, 2)
    assert first.status == S.OPEN
    assert (first.priority, second.priority) == (TicketPriority.MEDIUM, TicketPriority.HIGH)
    assert (first.owner, first.assignee, first.team) == ("api", "ada", "Test")
    assert first.created_utc is not None
    assert first.created_utc == first.updated_utc
    assert api.rootcause.get_ticket(first.ticket_id) == first
    assert api.rootcause.get_ticket(str(second.ticket_id).upper()) == second


def test_a_ticket_about_a_report_names_it(api: pyWATS, fake: FakeWATS) -> None:
    from tests.pywats.client_scenarios import minimal_report

    report_id = api.report.submit_report(minimal_report())
    ticket = api.rootcause.create_ticket("Low 3V3", report_uuid=str(report_id))
    assert ticket.report_uuid == uuid.UUID(str(report_id))
    with pytest.raises(pywats.ValidationError, match=r"reportUuid: report .* was not found"):
        api.rootcause.create_ticket("Nothing", report_uuid=uuid.uuid4())


def test_first_comment_and_tags_are_kept(api: pyWATS) -> None:
    ticket = api.rootcause.create_ticket(
        "Fixture 3 fails", tags={"Line": "L1", "Fixture": "F3"}, initial_comment="Seen twice"
    )
    assert [(t.key, t.value) for t in ticket.tags or ()] == [("Line", "L1"), ("Fixture", "F3")]
    assert ticket.history is not None
    assert len(ticket.history) == 1
    entry = ticket.history[0]
    assert (entry.update_type, entry.content, entry.update_user) == (
        UpdateType.CONTENT,
        "Seen twice",
        "api",
    )
    assert entry.update_id is not None
    assert entry.update_utc is not None


def test_an_unknown_ticket_is_not_found(api: pyWATS) -> None:
    with pytest.raises(pywats.NotFoundError, match=r"Ticket .* was not found"):
        api.rootcause.get_ticket(uuid.uuid4())


@pytest.mark.parametrize("bad", ["not-a-uuid", 123, None, ""])
def test_a_malformed_ticket_id_is_refused_before_sending(
    api: pyWATS, fake: FakeWATS, bad: Any
) -> None:
    with pytest.raises(pywats.InvalidArgumentError, match="ticket_id must be a uuid"):
        api.rootcause.get_ticket(bad)
    assert not fake.log


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"subject": ""}, "subject must be a non-empty str"),
        ({"subject": 5}, "subject must be a non-empty str"),
        ({"subject": "x", "priority": 7}, "priority must be a TicketPriority"),
        ({"subject": "x", "tags": {"Line": 1}}, "tags must be a dict of str to str"),
        ({"subject": "x", "assignee": 3}, "assignee must be a str"),
        ({"subject": "x", "report_uuid": "nope"}, "report_uuid must be a uuid"),
        ({"subject": "x", "attachments": "abc"}, "attachments must be a list"),
        ({"subject": "x", "attachments": ["abc"]}, "attachment id must be a uuid"),
    ],
)
def test_create_refuses_bad_arguments(
    api: pyWATS, fake: FakeWATS, kwargs: dict[str, Any], match: str
) -> None:
    rest = dict(kwargs)  # the parameters are shared by the sync and the async run
    subject = rest.pop("subject")
    with pytest.raises(pywats.InvalidArgumentError, match=match):
        api.rootcause.create_ticket(subject, **rest)
    assert not fake.log


@pytest.mark.parametrize(
    ("body", "status", "match"),
    [
        ({}, 400, "subject is required"),
        ({"subject": 5}, 400, r"got `int` - at `\$.subject`"),
        ({"subject": "x", "status": 3}, 400, "status: 3 is not a ticket status"),
        ({"subject": "x", "status": 32}, 400, "a new ticket cannot be Archived"),
        ({"subject": "x", "priority": 9}, 400, "priority: 9 is not a priority"),
        ({"subject": "x", "ticketId": "zz"}, 400, "ticketId"),
    ],
)
def test_the_server_refuses_bad_new_tickets(
    fake: FakeWATS, body: dict[str, Any], status: int, match: str
) -> None:
    answer = _raw(fake, "POST", "/api/RootCause/Ticket", json=body)
    assert answer.status_code == status
    assert re.search(match, answer.json()["Message"]), answer.text


# --- listing ----------------------------------------------------------------------------------


def test_tickets_are_listed_by_status_flags(api: pyWATS) -> None:
    open_ = _ticket_in(api, S.OPEN, "one")
    busy = _ticket_in(api, S.IN_PROGRESS, "two")
    held = _ticket_in(api, S.ON_HOLD, "three")
    solved = _ticket_in(api, S.SOLVED, "four")

    def numbers(status: TicketStatus) -> list[int | None]:
        return [t.ticket_number for t in api.rootcause.get_tickets(status, TicketView.ALL)]

    assert numbers(S.OPEN) == [open_.ticket_number]
    assert numbers(S.SOLVED | S.IN_PROGRESS) == [busy.ticket_number, solved.ticket_number]
    assert numbers(ACTIVE_STATUSES) == [open_.ticket_number, busy.ticket_number, held.ticket_number]
    assert numbers(S.CLOSED | S.ARCHIVED) == []
    assert [t.ticket_number for t in api.rootcause.get_active_tickets()] == numbers(ACTIVE_STATUSES)
    assert [t.ticket_number for t in api.rootcause.get_open_tickets()] == numbers(S.OPEN)


def test_views_assigned_following_and_all(api: pyWATS, ada: pyWATS) -> None:
    mine = api.rootcause.create_ticket("assigned to api", assignee="api")
    theirs = ada.rootcause.create_ticket("ada's own")
    watched = ada.rootcause.create_ticket("ada's, api commented")
    assert watched.ticket_id is not None
    api.rootcause.add_comment(watched.ticket_id, "Same on line 2")

    def subjects(view: TicketView, client: pyWATS = api) -> list[str | None]:
        return [t.subject for t in client.rootcause.get_tickets(S.OPEN, view)]

    assert subjects(TicketView.ASSIGNED) == [mine.subject]
    assert subjects(TicketView.FOLLOWING) == [mine.subject, watched.subject]
    assert subjects(TicketView.ALL) == [mine.subject, theirs.subject, watched.subject]
    assert subjects(TicketView.FOLLOWING, ada) == [theirs.subject, watched.subject]
    assert subjects(TicketView.ASSIGNED, ada) == []


def test_search_matches_subject_tag_keys_and_values(api: pyWATS) -> None:
    api.rootcause.create_ticket("Fixture 3 fails", tags={"Line": "L1"})
    api.rootcause.create_ticket("ICT false fails", tags={"Station": "ICT-7"})
    api.rootcause.create_ticket("Boot loops")

    def found(text: str) -> list[str | None]:
        tickets = api.rootcause.get_tickets(S.OPEN, TicketView.ALL, search_string=text)
        return [t.subject for t in tickets]

    assert found("FIXTURE") == ["Fixture 3 fails"]
    assert found("station") == ["ICT false fails"]
    assert found("ict-7") == ["ICT false fails"]
    assert found("fails") == ["Fixture 3 fails", "ICT false fails"]
    assert found("nothing like it") == []


@pytest.mark.parametrize(
    ("status", "view", "match"),
    [
        (0, TicketView.ALL, "not a combination of TicketStatus flags"),
        (64, TicketView.ALL, "not a combination of TicketStatus flags"),
        ("1", TicketView.ALL, "status must be a TicketStatus"),
        (S.OPEN, 5, "view must be a TicketView"),
        (S.OPEN, "all", "view must be a TicketView"),
    ],
)
def test_listing_refuses_bad_arguments(
    api: pyWATS, fake: FakeWATS, status: Any, view: Any, match: str
) -> None:
    with pytest.raises(pywats.InvalidArgumentError, match=match):
        api.rootcause.get_tickets(status, view)
    assert not fake.log


@pytest.mark.parametrize(
    ("query", "match"),
    [
        ({"view": "2"}, "The status parameter is required"),
        ({"status": "1"}, "The view parameter is required"),
        ({"status": "64", "view": "2"}, "status: 64 is not a combination"),
        ({"status": "1", "view": "3"}, "view: 3 is not 0"),
        ({"status": "one", "view": "2"}, "The value 'one' is not valid for status"),
    ],
)
def test_the_server_refuses_bad_listings(fake: FakeWATS, query: dict[str, str], match: str) -> None:
    answer = _raw(fake, "GET", "/api/RootCause/Tickets", params=query)
    assert answer.status_code == 400
    assert match in answer.json()["Message"]


# --- changing ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "to"),
    [(a, b) for a in S for b in S if a != b],
    ids=lambda s: s.name,
)
def test_status_moves_follow_the_table(api: pyWATS, start: TicketStatus, to: TicketStatus) -> None:
    ticket = _ticket_in(api, start)
    assert ticket.status == start
    assert ticket.ticket_id is not None
    if to in ALLOWED[start]:
        moved = api.rootcause.change_status(ticket.ticket_id, to)
        assert moved.status == to
        assert moved.history is not None
        assert moved.history[-1].content == f"status: {start.label} -> {to.label}"
        assert moved.history[-1].update_type == UpdateType.PROPERTIES
        return
    with pytest.raises(pywats.ValidationError) as refused:
        api.rootcause.change_status(ticket.ticket_id, to)
    message = refused.value.message
    if start == S.ARCHIVED:
        assert "is archived; archived tickets cannot change" in message
    elif to == S.ARCHIVED:
        assert "cannot be set to Archived by an update" in message
        assert "ArchiveTickets" in message
    else:
        assert f"cannot move from {start.label} to {to.label}" in message
        assert message.startswith("status: ticket ")
    assert api.rootcause.get_ticket(ticket.ticket_id).status == start


def test_the_emulators_table_is_the_documented_one() -> None:
    assert MOVES == ALLOWED


@pytest.mark.parametrize("status", [S.OPEN | S.SOLVED, 0, 3, "Solved"])
def test_a_ticket_has_one_status(api: pyWATS, fake: FakeWATS, status: Any) -> None:
    with pytest.raises(pywats.InvalidArgumentError, match="status"):
        api.rootcause.change_status(uuid.uuid4(), status)
    assert not fake.log


def test_changes_are_recorded_in_the_history(api: pyWATS) -> None:
    ticket = api.rootcause.create_ticket("Fixture 3 fails", tags={"Line": "L1"})
    assert ticket.ticket_id is not None
    assert ticket.updated_utc is not None
    changed = api.rootcause.update_ticket(
        Ticket(
            ticket_id=ticket.ticket_id,
            assignee="ada",
            priority=TicketPriority.HIGH,
            progress="Probe 12 replaced",
        )
    )
    assert (changed.assignee, changed.priority, changed.progress) == (
        "ada",
        TicketPriority.HIGH,
        "Probe 12 replaced",
    )
    assert changed.subject == ticket.subject
    assert changed.tags == ticket.tags
    assert changed.updated_utc is not None
    assert changed.updated_utc >= ticket.updated_utc
    assert [(h.update_type, h.content) for h in changed.history or ()] == [
        (UpdateType.PROPERTIES, "priority: medium -> high; assignee: None -> ada"),
        (UpdateType.PROGRESS, "Probe 12 replaced"),
    ]
    same = api.rootcause.update_ticket(Ticket(ticket_id=ticket.ticket_id, assignee="ada"))
    assert same.history == changed.history  # nothing changed, nothing recorded


def test_add_comment_and_assign_keep_the_rest(api: pyWATS) -> None:
    ticket = api.rootcause.create_ticket(
        "Fixture 3 fails", tags={"Line": "L1"}, priority=TicketPriority.LOW, team="Test"
    )
    assert ticket.ticket_id is not None
    commented = api.rootcause.add_comment(ticket.ticket_id, "Seen on line 2", assignee="ada")
    assigned = api.rootcause.assign_ticket(ticket.ticket_id, "bob")
    for saved in (commented, assigned):
        assert (saved.tags, saved.priority, saved.team, saved.status) == (
            ticket.tags,
            TicketPriority.LOW,
            "Test",
            S.OPEN,
        )
    assert assigned.assignee == "bob"
    assert [(h.update_type, h.content) for h in assigned.history or ()] == [
        (UpdateType.PROPERTIES, "assignee: None -> ada"),
        (UpdateType.CONTENT, "Seen on line 2"),
        (UpdateType.PROPERTIES, "assignee: ada -> bob"),
    ]


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda rc: rc.update_ticket(Ticket(subject="x")), "ticket_id is required"),
        (lambda rc: rc.update_ticket({"ticketId": str(uuid.uuid4())}), "must be a Ticket"),
        (lambda rc: rc.add_comment(uuid.uuid4(), ""), "comment must be a non-empty str"),
        (lambda rc: rc.assign_ticket(uuid.uuid4(), None), "assignee must be a non-empty str"),
        (lambda rc: rc.update_ticket(Ticket(ticket_id=uuid.uuid4(), tags=[object()])), "sent"),  # type: ignore[list-item]
    ],
)
def test_updates_refuse_bad_arguments(api: pyWATS, fake: FakeWATS, call: Any, match: str) -> None:
    with pytest.raises(pywats.InvalidArgumentError, match=match):
        call(api.rootcause)
    assert not fake.log


def test_an_update_of_an_unknown_ticket_is_not_found(api: pyWATS) -> None:
    with pytest.raises(pywats.NotFoundError):
        api.rootcause.update_ticket(Ticket(ticket_id=uuid.uuid4(), subject="x"))
    with pytest.raises(pywats.NotFoundError):
        api.rootcause.add_comment(uuid.uuid4(), "hello")


def test_the_server_names_a_bad_update(api: pyWATS) -> None:
    ticket = api.rootcause.create_ticket("Fixture 3 fails")
    assert ticket.ticket_id is not None
    with pytest.raises(pywats.ValidationError, match="status: 6 is not a ticket status"):
        api.rootcause.update_ticket(Ticket(ticket_id=ticket.ticket_id, status=S(6)))
    with pytest.raises(pywats.ValidationError, match="priority: 5 is not a priority"):
        api.rootcause.update_ticket(Ticket(ticket_id=ticket.ticket_id, priority=TicketPriority(5)))
    with pytest.raises(pywats.ValidationError, match="subject cannot be empty"):
        api.rootcause.update_ticket(Ticket(ticket_id=ticket.ticket_id, subject=" "))
    with pytest.raises(pywats.ValidationError, match=r"got `int` - at `\$.subject`"):
        api.rootcause.update_ticket(Ticket(ticket_id=ticket.ticket_id, subject=5))  # type: ignore[arg-type]


# --- archive ----------------------------------------------------------------------------------


def test_solved_tickets_are_archived(api: pyWATS) -> None:
    one, two = _ticket_in(api, S.SOLVED, "one"), _ticket_in(api, S.SOLVED, "two")
    assert one.ticket_id is not None
    assert two.ticket_id is not None
    answer = api.rootcause.archive_tickets([one.ticket_id, str(two.ticket_id)])
    assert answer is not None
    assert answer.ticket_id == two.ticket_id
    assert answer.status == S.ARCHIVED
    listed = api.rootcause.get_tickets(S.ARCHIVED, TicketView.ALL)
    assert [t.ticket_id for t in listed] == [one.ticket_id, two.ticket_id]
    assert api.rootcause.get_tickets(S.SOLVED, TicketView.ALL) == []
    history = api.rootcause.get_ticket(one.ticket_id).history or []
    assert history[-1].content == "status: Solved -> Archived"
    # Again: nothing changes, nothing is refused (a retry does no harm).
    again = api.rootcause.archive_tickets([one.ticket_id])
    assert again is not None
    assert again.history == api.rootcause.get_ticket(one.ticket_id).history


def test_archiving_an_unsolved_ticket_archives_none(api: pyWATS) -> None:
    solved = _ticket_in(api, S.SOLVED, "solved")
    busy = _ticket_in(api, S.IN_PROGRESS, "busy")
    closed = _ticket_in(api, S.CLOSED, "closed")
    ids = [t.ticket_id for t in (solved, busy, closed)]
    with pytest.raises(pywats.ValidationError) as refused:
        api.rootcause.archive_tickets(ids)  # type: ignore[arg-type]
    assert refused.value.message == (
        "Only Solved tickets can be archived; not solved: "
        f"ticket {busy.ticket_number} (In progress), ticket {closed.ticket_number} (Closed)."
    )
    assert solved.ticket_id is not None
    assert api.rootcause.get_ticket(solved.ticket_id).status == S.SOLVED


def test_archiving_an_unknown_ticket_is_not_found(api: pyWATS) -> None:
    solved = _ticket_in(api, S.SOLVED)
    assert solved.ticket_id is not None
    with pytest.raises(pywats.NotFoundError):
        api.rootcause.archive_tickets([solved.ticket_id, uuid.uuid4()])
    assert api.rootcause.get_ticket(solved.ticket_id).status == S.SOLVED


@pytest.mark.parametrize(
    ("ids", "match"), [([], "is empty"), ("abc", "must be a list"), (["x"], "must be a uuid")]
)
def test_archive_refuses_bad_arguments(api: pyWATS, fake: FakeWATS, ids: Any, match: str) -> None:
    with pytest.raises(pywats.InvalidArgumentError, match=match):
        api.rootcause.archive_tickets(ids)
    assert not fake.log


@pytest.mark.parametrize(
    ("body", "match"),
    [(b"[]", "at least one ticket id"), (b'["nope"]', r"\$\[0\]"), (b"{}", "Expected `array`")],
)
def test_the_server_refuses_bad_archive_bodies(fake: FakeWATS, body: bytes, match: str) -> None:
    answer = _raw(
        fake,
        "POST",
        "/api/RootCause/ArchiveTickets",
        content=body,
        content_type="application/json",
    )
    assert answer.status_code == 400
    assert re.search(match, answer.json()["Message"])


# --- attachments ------------------------------------------------------------------------------

EVERY_BYTE = bytes(range(256)) + b"\r\n--boundary\r\n\r\n--" + bytes(range(255, -1, -1))


def test_an_attachment_comes_back_byte_for_byte(api: pyWATS) -> None:
    attachment_id = api.rootcause.upload_attachment(EVERY_BYTE, "scope.bin")
    assert isinstance(attachment_id, uuid.UUID)
    assert api.rootcause.get_attachment(attachment_id) == EVERY_BYTE
    assert api.rootcause.get_attachment(str(attachment_id), "copy.bin") == EVERY_BYTE
    assert api.rootcause.upload_attachment(b"", "empty.txt") != attachment_id


def test_attachments_from_a_path_and_a_file_object(api: pyWATS, tmp_path: Any) -> None:
    path = tmp_path / "probe log.txt"
    path.write_bytes(b"line 1\r\nline 2\n")
    from_path = api.rootcause.upload_attachment(path)
    from_text_path = api.rootcause.upload_attachment(str(path))
    with path.open("rb") as stream:
        from_file = api.rootcause.upload_attachment(stream)
    from_buffer = api.rootcause.upload_attachment(io.BytesIO(b"abc"), "buffer.txt")
    for attachment_id in (from_path, from_text_path, from_file):
        assert api.rootcause.get_attachment(attachment_id) == b"line 1\r\nline 2\n"
    assert api.rootcause.get_attachment(from_buffer) == b"abc"
    ticket = api.rootcause.create_ticket(
        "Logs", initial_comment="attached", attachments=[from_path, from_buffer]
    )
    assert [a.filename for a in ticket.attachments] == ["probe log.txt", "buffer.txt"]


def test_a_file_name_survives_quotes_and_other_scripts(api: pyWATS) -> None:
    name = 'scope "ch1" måling 測定.png'
    attachment_id = api.rootcause.upload_attachment(b"\x89PNG", name)
    ticket = api.rootcause.create_ticket("x", initial_comment="see", attachments=[attachment_id])
    assert [a.filename for a in ticket.attachments] == [name]


class _Unsized(io.RawIOBase):
    """A stream of unknown length (a pipe): ``n`` bytes, not seekable."""

    def __init__(self, n: int) -> None:
        self._left = n

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        size = min(len(buffer), self._left)
        buffer[:size] = b"x" * size
        self._left -= size
        return size


@pytest.mark.parametrize(
    ("source", "kwargs", "match"),
    [
        (b"x" * 101, {"filename": "big.bin", "max_size": 100}, "101 bytes; the limit is 100"),
        (io.BytesIO(b"x" * 101), {"filename": "b", "max_size": 100}, "101 bytes; the limit"),
        (io.BufferedReader(_Unsized(500)), {"filename": "p", "max_size": 100}, "more than 100"),
        (b"abc", {}, "give a filename"),
        (b"abc", {"filename": ""}, "filename must be a non-empty str"),
        (io.StringIO("text"), {"filename": "t.txt"}, "not bytes"),
        (12345, {"filename": "n"}, "must be bytes, a path or a binary file object"),
        ("/no/such/file.bin", {}, "is not a file"),
    ],
)
def test_uploads_refuse_bad_files_before_sending(
    api: pyWATS, fake: FakeWATS, source: Any, kwargs: dict[str, Any], match: str
) -> None:
    with pytest.raises(pywats.InvalidArgumentError, match=match):
        api.rootcause.upload_attachment(source, **kwargs)
    assert not fake.log


def test_a_path_over_the_limit_is_not_read(api: pyWATS, tmp_path: Any) -> None:
    path = tmp_path / "big.bin"
    path.write_bytes(b"x" * 2048)
    with pytest.raises(pywats.InvalidArgumentError, match="2,048 bytes; the limit is 1,024"):
        api.rootcause.upload_attachment(path, max_size=1024)


def test_the_servers_own_limit_is_a_413() -> None:
    small = FakeWATS(TOKEN, max_body=1000)
    with (
        pyWATS(BASE_URL, TOKEN, transport=small) as client,
        pytest.raises(pywats.HTTPError, match="too large") as refused,
    ):
        client.rootcause.upload_attachment(b"x" * 2000, "big.bin")
    assert refused.value.status == 413


def test_an_unknown_attachment_is_not_found(api: pyWATS) -> None:
    with pytest.raises(pywats.NotFoundError, match=r"Attachment .* was not found"):
        api.rootcause.get_attachment(uuid.uuid4())
    with pytest.raises(pywats.InvalidArgumentError, match="attachment_id must be a uuid"):
        api.rootcause.get_attachment("42")


def test_a_comment_cannot_attach_what_was_not_uploaded(api: pyWATS) -> None:
    with pytest.raises(pywats.ValidationError, match=r"update.attachments\[0\].*was not uploaded"):
        api.rootcause.create_ticket("x", attachments=[uuid.uuid4()])


def test_a_download_is_named_when_asked(fake: FakeWATS, api: pyWATS) -> None:
    attachment_id = api.rootcause.upload_attachment(b"\x89PNG", "scope.png")
    shown = _raw(fake, "GET", "/api/RootCause/Attachment", params={"attachmentId": attachment_id})
    assert (shown.headers["content-type"], shown.headers["content-disposition"]) == (
        "image/png",
        "inline",
    )
    saved = _raw(
        fake,
        "GET",
        "/api/RootCause/Attachment",
        params={"attachmentId": str(attachment_id), "fileName": "før.png"},
    )
    assert saved.headers["content-disposition"] == "attachment; filename*=UTF-8''f%C3%B8r.png"


@pytest.mark.parametrize(
    ("content", "content_type", "status", "match"),
    [
        (b"raw bytes", "application/octet-stream", 415, "multipart/form-data"),
        (b"--b\r\nno blank line--b--", "multipart/form-data; boundary=b", 400, "multipart"),
        (b"--b\r\n\r\nno file\r\n--b--\r\n", "multipart/form-data; boundary=b", 400, "No file"),
        (b"nothing", "multipart/form-data; boundary=b", 400, "boundary"),
    ],
)
def test_the_server_refuses_bad_uploads(
    fake: FakeWATS, content: bytes, content_type: str, status: int, match: str
) -> None:
    answer = _raw(
        fake,
        "POST",
        "/api/RootCause/Attachment",
        content=content,
        content_type=content_type,
    )
    assert answer.status_code == status
    assert match in answer.json()["Message"]
    assert rootcause_state(fake).attachments == {}


# --- models -----------------------------------------------------------------------------------


def test_values_a_newer_server_may_send_are_kept() -> None:
    data = b'{"status": 64, "priority": 9, "history": [{"updateType": 7}], "brandNew": 1}'
    ticket = msgspec.json.decode(data, type=Ticket)
    assert int(ticket.status or 0) == 64
    assert (int(ticket.priority or 0), ticket.priority.name) == (9, "UNKNOWN_9")  # type: ignore[union-attr]
    assert ticket.history is not None
    assert ticket.history[0].update_type == 7


def test_status_labels() -> None:
    assert S.IN_PROGRESS.label == "In progress"
    assert (S.OPEN | S.ON_HOLD).label == "Open | On hold"
    assert ACTIVE_STATUSES == S.OPEN | S.IN_PROGRESS | S.ON_HOLD
