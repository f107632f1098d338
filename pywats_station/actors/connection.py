"""The connection actor: is the server there, does it accept our token, and who are we to it.

It health-checks the server (``GET /api/App/Version``) every ``check_interval`` seconds while
online, and while offline retries with capped exponential backoff (1 s, 2 s, 4 s … 60 s). An
upload that hits a network error wakes it at once. On every (re)connect it registers the
station with the server's client registry, as the WATS Client does, so the station shows up in
System Manager.
"""

from __future__ import annotations

import logging
import uuid

import trio

from pywats import AsyncWATS
from pywats._errors import HTTPError, PyWATSError, TransportError
from pywats_station.runtime import ConnectionState, Runtime
from pywats_station.server_access import explain

__all__ = ["mac_address", "run_connection"]

log = logging.getLogger("pywats_station.connection")

_BACKOFF_FIRST = 1.0
_BACKOFF_MAX = 60.0


def mac_address() -> str:
    """This machine's MAC address as 12 hex digits (the identifier WATS clients register with)."""
    return f"{uuid.getnode():012X}"


async def run_connection(
    api: AsyncWATS,
    runtime: Runtime,
    *,
    credential_problem: str | None = None,
    check_interval: float = 30.0,
    location: str | None = None,
    purpose: str | None = None,
    task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Track the connection until cancelled.

    With a ``credential_problem`` (no token, an unusable one, or one not confirmed for this
    server) the server is not asked at all: the state is ``auth_failed`` with that reason, which
    says what to do, until a reload brings a usable token.
    """
    task_status.started()
    if credential_problem is not None:
        runtime.set_connection(ConnectionState.AUTH_FAILED, credential_problem)
        await trio.sleep_forever()
    backoff = _BACKOFF_FIRST
    while True:
        runtime.check_now = trio.Event()
        was_online = runtime.online.is_set()
        state, error = await _check(api, runtime)
        if state is ConnectionState.ONLINE:
            if not was_online:
                log.info("connected to %s (server %s)", runtime.server_url, runtime.server_version)
                await _register(api, runtime, location, purpose)
            runtime.set_connection(state)
            backoff = _BACKOFF_FIRST
            wait = check_interval
        else:
            if was_online or runtime.connection is not state:
                log.warning("server %s: %s (%s)", runtime.server_url, state.value, error)
            runtime.set_connection(state, error)
            wait = backoff
            backoff = min(_BACKOFF_MAX, backoff * 2)
        with trio.move_on_after(wait):
            await runtime.check_now.wait()


async def _check(api: AsyncWATS, runtime: Runtime) -> tuple[ConnectionState, str | None]:
    try:
        runtime.server_version = await api.app.get_version()
    except HTTPError as exc:
        if exc.status in (401, 403):
            # Only here is the token really refused (no token at all is said before asking).
            what = "refused the API token" if exc.status == 401 else "denied the API token access"
            return ConnectionState.AUTH_FAILED, (
                f"the server {what} ({exc.status}: {exc.message}); store the right one with "
                "`pywats-station login`"
            )
        return ConnectionState.OFFLINE, explain(exc) or f"{exc.status}: {exc.message}"
    except TransportError as exc:
        # An untrusted certificate or a proxy refusing its credentials: say which key fixes it.
        return ConnectionState.OFFLINE, explain(exc) or str(exc)
    except PyWATSError as exc:
        return ConnectionState.OFFLINE, str(exc)
    return ConnectionState.ONLINE, None


async def _register(
    api: AsyncWATS, runtime: Runtime, location: str | None, purpose: str | None
) -> None:
    """Register the station (best effort: a server without the endpoint is not an outage)."""
    try:
        # uuid.getnode() may run a subprocess (ip/ifconfig) where libuuid is missing.
        mac = await trio.to_thread.run_sync(mac_address)
        client = await api.system.register_client(
            runtime.station_name, mac=mac, location=location, purpose=purpose
        )
    except PyWATSError as exc:
        log.info("station registration skipped: %s", exc)
        return
    if client is not None:
        runtime.registered_client_id = client.client_id
        log.info("registered as client %d (%s)", client.client_id, runtime.station_name)
