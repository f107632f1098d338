"""The emulator's metadata: processes, levels, product groups, station clients, tokens.

Seeded with realistic defaults (the process codes that occur in real exports) and settable from
Python (``emulator.state.processes = [...]``).
"""

from __future__ import annotations

import base64
import secrets
import threading
import uuid
from dataclasses import dataclass, field

from pywats.models.app import Level, Process, ProductGroup
from pywats.models.system import StationClient

__all__ = ["State", "TokenInfo", "default_processes"]


def default_processes() -> list[Process]:
    """Test operations 10/30/31/50/60/90/100/210, WIP 200, repair 500/510 (codes seen in real
    data and the equipment converters' defaults)."""

    def proc(code: int, name: str, index: int, **flags: bool) -> Process:
        return Process(
            code=code,
            name=name,
            description=name,
            process_index=index,
            state=1,
            process_id=uuid.uuid5(uuid.NAMESPACE_URL, f"pywats-emulator/process/{code}"),
            **flags,
        )

    return [
        proc(10, "SW Debug", 1, is_test_operation=True),
        # The codes the equipment converters default to, as WATS's own converters for those
        # machines do: ICT (Teradyne Spectrum, TAKAYA top side), ICT bottom side (TAKAYA),
        # functional test (the TestStand add-on sample), boundary scan (XJTAG).
        proc(30, "In-Circuit Test", 2, is_test_operation=True),
        proc(31, "In-Circuit Test (bottom)", 3, is_test_operation=True),
        proc(50, "PCBA test", 4, is_test_operation=True),
        proc(60, "Functional Test", 5, is_test_operation=True),
        proc(90, "Burn In test", 6, is_test_operation=True),
        proc(100, "End of line test", 7, is_test_operation=True),
        proc(200, "Final assembly", 8, is_wip_operation=True),
        proc(210, "Boundary Scan", 9, is_test_operation=True),
        proc(500, "Repair", 10, is_repair_operation=True),
        proc(510, "RMA Repair", 11, is_repair_operation=True),
    ]


@dataclass(slots=True)
class TokenInfo:
    """Who a token belongs to and what it may do (``read_only`` tokens get 403 on writes)."""

    user: str
    read_only: bool = False


@dataclass
class State:
    """Everything the emulator knows apart from reports."""

    version: str = "2026.1.5.324"
    processes: list[Process] = field(default_factory=default_processes)
    levels: list[Level] = field(
        default_factory=lambda: [
            Level(level_id=1, level_name="Default"),
            Level(level_id=2, level_name="Production"),
        ]
    )
    product_groups: list[ProductGroup] = field(
        default_factory=lambda: [
            ProductGroup(product_group_id=1, product_group_name="All products"),
        ]
    )
    system_status: dict[str, str] = field(
        default_factory=lambda: {"Database": "OK", "Processing": "OK", "Storage": "OK"}
    )
    clients: list[StationClient] = field(default_factory=list)
    client_log: dict[int, list[dict[str, object]]] = field(default_factory=dict)
    level_paths: dict[tuple[str, ...], int] = field(default_factory=dict)
    tokens: dict[str, TokenInfo] = field(default_factory=dict)
    users: dict[str, str] = field(default_factory=dict)  # basic user:password pairs
    client_macs: dict[str, int] = field(default_factory=dict)  # MAC address -> client id
    lock: threading.RLock = field(default_factory=threading.RLock, repr=False)

    def process(self, code: int) -> Process | None:
        """The process with this code."""
        return next((p for p in self.processes if p.code == code), None)

    def add_token(self, token: str, user: str = "api", *, read_only: bool = False) -> None:
        """Accept ``token`` as ``Authorization: Basic <token>``."""
        with self.lock:
            self.tokens[token] = TokenInfo(user, read_only)

    def new_token(self, user: str, identifier: str | None, *, reset: bool) -> str:
        """Mint a token like the server does (a base64 ``identifier:secret`` pair)."""
        name = identifier or user
        with self.lock:
            if reset:
                for key in [k for k, v in self.tokens.items() if v.user == name]:
                    del self.tokens[key]
            raw = f"{name}:{secrets.token_hex(16)}".encode()
            token = base64.b64encode(raw).decode("ascii")
            self.tokens[token] = TokenInfo(name)
        return token

    def identify(self, authorization: str | None) -> TokenInfo | None:
        """The identity behind an ``Authorization`` header, or ``None`` if it is not accepted."""
        if not authorization:
            return None
        scheme, _, value = authorization.strip().partition(" ")
        if scheme.lower() != "basic" or not value:
            return None
        value = value.strip()
        with self.lock:
            info = self.tokens.get(value)
            if info is not None:
                return info
            try:
                user, _, password = base64.b64decode(value, validate=True).decode().partition(":")
            except (ValueError, UnicodeDecodeError):
                return None
            if user in self.users and self.users[user] == password:
                return TokenInfo(user)
        return None

    def level_id(self, hierarchy: list[str], *, create: bool) -> int | None:
        """The id of the leaf of ``hierarchy`` (topmost first), creating missing levels if asked."""
        with self.lock:
            leaf: int | None = None
            for depth in range(1, len(hierarchy) + 1):
                path = tuple(hierarchy[:depth])
                leaf = self.level_paths.get(path)
                if leaf is None:
                    if not create:
                        return None
                    leaf = max((lv.level_id for lv in self.levels), default=0) + 1
                    self.levels.append(Level(level_id=leaf, level_name=path[-1]))
                    self.level_paths[path] = leaf
            return leaf

    def register_client(
        self, name: str, *, location: str | None, purpose: str | None, mac: str | None
    ) -> StationClient:
        """Add a station client, or return the one with this name (updating its location)."""
        with self.lock:
            for i, client in enumerate(self.clients):
                if client.name == name:
                    updated = StationClient(
                        client_id=client.client_id,
                        name=name,
                        display_name=client.display_name or name,
                        location=location or client.location,
                        purpose=purpose or client.purpose,
                        type=client.type,
                        client_group_id=client.client_group_id,
                    )
                    self.clients[i] = updated
                    return updated
            client = StationClient(
                client_id=max((c.client_id for c in self.clients), default=0) + 1,
                name=name,
                display_name=name,
                location=location,
                purpose=purpose,
                type=5,
                client_group_id=1,
            )
            self.clients.append(client)
            self.client_log.setdefault(client.client_id, [])
            if mac:
                self.client_macs[mac.upper()] = client.client_id
            return client
