"""``api.system``: system status and the station clients of System Manager."""

from __future__ import annotations

from typing import Any

import httpx
import msgspec

from pywats._call import Call, Flow, json_call, segment
from pywats._domain import Domain, ModeT, operation
from pywats.models.system import ClientLogEntry, StationClient

__all__ = ["SystemDomain"]


def _any_json(response: httpx.Response) -> Any:
    try:
        return msgspec.json.decode(response.content) if response.content.strip() else None
    except msgspec.DecodeError:
        return None


def _level_id(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, dict):
        for key in ("levelId", "LevelId", "id", "Id"):
            if isinstance(value.get(key), int):
                return int(value[key])
    return None


class SystemDomain(Domain[ModeT]):
    """System status and station clients (``/api/SystemStatus``, ``/api/SystemManager``)."""

    @operation
    def get_system_status(self) -> Call[dict[str, str]]:
        """The server's status map (name → value)."""
        return json_call("GET", "/api/SystemStatus", dict[str, str], empty={})

    @operation
    def get_client(
        self, *, name: str | None = None, identifier: str | None = None
    ) -> Call[StationClient]:
        """A station client by ``name`` or ``identifier`` (its MAC address)."""
        if (name is None) == (identifier is None):
            raise ValueError("give exactly one of name or identifier")
        return json_call(
            "GET",
            "/api/SystemManager/Client",
            StationClient,
            params={"name": name, "identifier": identifier},
        )

    @operation
    def get_clients(self) -> Call[list[StationClient]]:
        """Every station client."""
        return json_call("GET", "/api/SystemManager/Clients", list[StationClient], empty=[])

    @operation
    def update_client(
        self, client: StationClient, *, move_with_history: bool | None = None
    ) -> Flow[StationClient]:
        """Update a client's display name, location, purpose or level (by ``client_id``)."""
        answer: Any = yield json_call(
            "PUT",
            "/api/SystemManager/Client",
            Any,
            params={"moveWithHistory": move_with_history},
            body=client,
            empty={},
        )
        if isinstance(answer, dict) and "clientId" in answer:
            return msgspec.convert(answer, StationClient)
        return client

    @operation
    def get_client_log(self, identifier: str) -> Call[list[ClientLogEntry]]:
        """The System Manager log of one client (by MAC address)."""
        return json_call(
            "GET",
            f"/api/SystemManager/ClientLog/{segment(identifier)}",
            list[ClientLogEntry],
            empty=[],
        )

    @operation
    def get_level(self, hierarchy: list[str]) -> Flow[int | None]:
        """The id of the leaf level of ``hierarchy`` (topmost first), or ``None`` if missing."""
        answer: Any = yield json_call(
            "GET", "/api/SystemManager/Level", Any, params={"hierarchy": hierarchy}, empty={}
        )
        return _level_id(answer)

    @operation
    def create_level(self, hierarchy: list[str]) -> Flow[int | None]:
        """Create the levels of ``hierarchy`` (topmost first) that are missing; the leaf's id."""
        answer: Any = yield json_call(
            "POST", "/api/SystemManager/Level", Any, body=hierarchy, empty={}
        )
        return _level_id(answer)

    @operation
    def register_client(
        self,
        name: str,
        *,
        mac: str,
        location: str | None = None,
        purpose: str | None = None,
        description: str | None = None,
        utc_offset: float | None = None,
    ) -> Flow[StationClient | None]:
        """Register this station as a WATS client (internal endpoint, as the WATS Client does).

        Returns the client record when the server answers with one.
        """
        answer: Any = yield Call(
            method="POST",
            path="/api/internal/Client/Register",
            parse=_any_json,
            params={
                "mac": mac,
                "name": name,
                "location": location,
                "purpose": purpose,
                "description": description,
                "utcOffset": utc_offset,
            },
            internal=True,
            # Registering twice updates the same record: safe to repeat.
            idempotent=True,
        )
        if isinstance(answer, dict) and isinstance(answer.get("clientId"), int):
            return msgspec.convert(answer, StationClient)
        return None
