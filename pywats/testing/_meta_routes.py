"""The emulator's metadata routes: app, auth, system status, System Manager, client registration."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import msgspec

from pywats.models.app import CommonUserSettings
from pywats.models.system import StationClient
from pywats.testing._http import HTTPFailure, Request, Response, Router, decode_json, json_response

if TYPE_CHECKING:
    from pywats.testing._emulator import FakeWATS

__all__ = ["UserSettings", "add_meta_routes", "user_settings"]


@dataclass
class UserSettings:
    """Users' common settings the emulator was given (``emu.domain_state("app.users", …)``).

    A user the emulator knows otherwise (the user of an accepted token, a ``user:password``
    pair) has default settings: its name as full name, ``en-US``, the role ``Administrator``,
    every level and product group.
    """

    users: dict[str, CommonUserSettings] = field(default_factory=dict)  # casefolded name ->
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def set(self, user_name: str, settings: CommonUserSettings) -> None:
        """Make ``user_name`` known with these settings."""
        with self.lock:
            self.users[user_name.casefold()] = settings

    def get(self, user_name: str) -> CommonUserSettings | None:
        """The settings given for ``user_name``, if any."""
        with self.lock:
            return self.users.get(user_name.casefold())


def user_settings(emu: FakeWATS) -> UserSettings:
    """The users' common settings given to the emulator."""
    return emu.domain_state("app.users", UserSettings)


def add_meta_routes(router: Router) -> None:
    """Register the metadata routes on ``router``."""
    router.add("GET", "/api/App/Version", version)
    router.add("GET", "/api/App/Processes", processes)
    router.add("GET", "/api/App/Levels", levels)
    router.add("GET", "/api/App/ProductGroups", product_groups)
    router.add("GET", "/api/App/CommonUserSettings", common_user_settings)
    router.add("GET", "/api/SystemStatus", system_status)
    router.add("GET", "/api/Auth/GetToken", get_token)
    router.add("GET", "/api/Auth/GetToken/{identifier}", get_token)
    router.add("GET", "/api/SystemManager/Client", get_client)
    router.add("PUT", "/api/SystemManager/Client", put_client)
    router.add("GET", "/api/SystemManager/Clients", get_clients)
    router.add("GET", "/api/SystemManager/ClientLog/{identifier}", client_log)
    router.add("GET", "/api/SystemManager/Level", get_level)
    router.add("POST", "/api/SystemManager/Level", post_level)
    router.add("POST", "/api/internal/Client/Register", register_client)
    router.add("GET", "/api/internal/Client/Ping", ping)


def _flag(req: Request, name: str) -> bool | None:
    value = req.param(name)
    if value is None:
        return None
    if value.lower() not in ("true", "false"):
        raise HTTPFailure(400, f"The value '{value}' is not valid for {name}.")
    return value.lower() == "true"


def version(emu: FakeWATS, req: Request) -> Response:
    """``GET /api/App/Version``: a JSON string."""
    return json_response(emu.state.version)


def processes(emu: FakeWATS, req: Request) -> Response:
    """``GET /api/App/Processes``; without filters: active test, repair and WIP operations."""
    test = _flag(req, "includeTestOperations")
    repair = _flag(req, "includeRepairOperations")
    wip = _flag(req, "includeWipOperations")
    inactive = _flag(req, "includeInactiveProcesses") or False
    if test is None and repair is None and wip is None:
        test = repair = wip = True
    out = [
        p
        for p in emu.state.processes
        if (inactive or p.active)
        and (
            (test and p.is_test_operation)
            or (repair and p.is_repair_operation)
            or (wip and p.is_wip_operation)
        )
    ]
    return json_response(out)


def levels(emu: FakeWATS, req: Request) -> Response:
    """``GET /api/App/Levels``."""
    return json_response(emu.state.levels)


def product_groups(emu: FakeWATS, req: Request) -> Response:
    """``GET /api/App/ProductGroups``; filters only with ``includeFilters=true``."""
    groups = emu.state.product_groups
    if not _flag(req, "includeFilters"):
        groups = [msgspec.structs.replace(g, filters=None) for g in groups]
    return json_response(groups)


def common_user_settings(emu: FakeWATS, req: Request) -> Response:
    """``GET /api/App/CommonUserSettings?UserName=``: 404 for a user the emulator does not know."""
    name = req.param("UserName")
    if not name:
        raise HTTPFailure(400, "The UserName parameter is required.")
    given = user_settings(emu).get(name)
    if given is not None:
        return json_response(given)
    state = emu.state
    with state.lock:
        known = {info.user.casefold(): info.user for info in state.tokens.values()}
        known.update((user.casefold(), user) for user in state.users)
        user = known.get(name.casefold())
        if user is None:
            raise HTTPFailure(404, f"User '{name}' was not found.")
        settings = CommonUserSettings(
            full_name=user,
            culture_code="en-US",
            roles=["Administrator"],
            levels=[lv.level_name for lv in state.levels if lv.level_name],
            product_groups=[
                g.product_group_name for g in state.product_groups if g.product_group_name
            ],
        )
    return json_response(settings)


def system_status(emu: FakeWATS, req: Request) -> Response:
    """``GET /api/SystemStatus``."""
    return json_response(emu.state.system_status)


def get_token(emu: FakeWATS, req: Request, identifier: str | None = None) -> Response:
    """``GET /api/Auth/GetToken[/{identifier}]``: mint a token; ``reset`` voids the old one."""
    token = emu.state.new_token(req.user or "api", identifier, reset=bool(_flag(req, "reset")))
    return json_response(token)


def _client_by(emu: FakeWATS, name: str | None, identifier: str | None) -> StationClient:
    state = emu.state
    with state.lock:
        if identifier is not None:
            client_id = state.client_macs.get(identifier.upper())
            found = next((c for c in state.clients if c.client_id == client_id), None)
        else:
            found = next(
                (c for c in state.clients if (c.name or "").lower() == (name or "").lower()), None
            )
    if found is None:
        raise HTTPFailure(404, f"Client {identifier or name} was not found.")
    return found


def get_client(emu: FakeWATS, req: Request) -> Response:
    """``GET /api/SystemManager/Client?name=…|identifier=…``."""
    name, identifier = req.param("name"), req.param("identifier")
    if name is None and identifier is None:
        raise HTTPFailure(400, "Either name or identifier is required.")
    return json_response(_client_by(emu, name, identifier))


def put_client(emu: FakeWATS, req: Request) -> Response:
    """``PUT /api/SystemManager/Client``: update display name, location, purpose, level."""
    _flag(req, "moveWithHistory")  # accepted; the emulator keeps no history to move
    update = decode_json(req.body, StationClient)
    state = emu.state
    with state.lock:
        for i, client in enumerate(state.clients):
            if client.client_id == update.client_id:
                changed = msgspec.structs.replace(
                    client,
                    display_name=update.display_name or client.display_name,
                    location=update.location or client.location,
                    purpose=update.purpose or client.purpose,
                    client_group_id=update.client_group_id or client.client_group_id,
                )
                state.clients[i] = changed
                return json_response(changed)
    raise HTTPFailure(404, f"Client {update.client_id} was not found.")


def get_clients(emu: FakeWATS, req: Request) -> Response:
    """``GET /api/SystemManager/Clients``."""
    return json_response(emu.state.clients)


def client_log(emu: FakeWATS, req: Request, identifier: str) -> Response:
    """``GET /api/SystemManager/ClientLog/{identifier}``."""
    client = _client_by(emu, None, identifier)
    return json_response(emu.state.client_log.get(client.client_id, []))


def get_level(emu: FakeWATS, req: Request) -> Response:
    """``GET /api/SystemManager/Level?hierarchy=a&hierarchy=b``: the leaf id or null."""
    hierarchy = req.params("hierarchy")
    if not hierarchy:
        raise HTTPFailure(400, "The hierarchy parameter is required.")
    return json_response(emu.state.level_id(hierarchy, create=False))


def post_level(emu: FakeWATS, req: Request) -> Response:
    """``POST /api/SystemManager/Level`` with a JSON array: create missing levels."""
    hierarchy = decode_json(req.body, list[str])
    if not hierarchy:
        raise HTTPFailure(400, "The hierarchy must not be empty.")
    return json_response(emu.state.level_id(hierarchy, create=True))


def register_client(emu: FakeWATS, req: Request) -> Response:
    """``POST /api/internal/Client/Register?mac=&name=&location=&purpose=``."""
    name, mac = req.param("name"), req.param("mac")
    if not name:
        raise HTTPFailure(400, "The name parameter is required.")
    if not mac:
        raise HTTPFailure(400, "The mac parameter is required.")
    offset = req.param("utcOffset")
    if offset is not None:
        try:
            float(offset)
        except ValueError:
            raise HTTPFailure(400, f"The value '{offset}' is not valid for utcOffset.") from None
    client = emu.state.register_client(
        name, location=req.param("location"), purpose=req.param("purpose"), mac=mac
    )
    return json_response(client)


def ping(emu: FakeWATS, req: Request) -> Response:
    """``GET /api/internal/Client/Ping``: server name and time."""
    from datetime import UTC, datetime

    return json_response({"ServerName": "pywats-emulator", "ServerTime": datetime.now(UTC)})
