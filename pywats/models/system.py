"""System Manager: station clients registered with the server, their log, levels."""

from __future__ import annotations

import enum
from datetime import datetime

from pywats.models._base import Dto

__all__ = ["ClientLogEntry", "ClientType", "StationClient"]


class ClientType(enum.IntEnum):
    """``type`` of a client in System Manager."""

    LOCAL_SERVER = 1
    MASTER_SERVER = 2
    CLIENT = 5
    WEB_CLIENT = 6


class StationClient(Dto):
    """A WATS client (test station) as System Manager knows it (``ClientDto``).

    Only ``display_name``, ``location``, ``purpose`` and ``client_group_id`` can be changed;
    ``client_id`` identifies the client on update.
    """

    client_id: int
    name: str | None = None
    display_name: str | None = None
    location: str | None = None
    purpose: str | None = None
    type: int | None = None
    client_group_id: int | None = None


class ClientLogEntry(Dto):
    """One line of a client's log in System Manager."""

    client_log_id: int | None = None
    client_id: int | None = None
    log_date: datetime | None = None
    user_name: str | None = None
    text: str | None = None
