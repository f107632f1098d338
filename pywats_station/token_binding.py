"""Which server the API token may be sent to: the token is bound to one origin.

The API token is the service account's: whoever receives it in an ``Authorization`` header can
act as the station on the WATS server. ``server.url`` can be changed over the control channel
(``config.set``, admin role), so without a binding a token holder could point the station at a
host of theirs and collect the API token from the next health check.

The binding (``<secrets>/server-binding.json``, mode 0600) records the *origin*
(``scheme://host:port``) the token is confirmed for:

* ``pywats-station login`` confirms the token for the configured server (it runs on the station,
  as the service's user or root: the machine's owner);
* on the daemon's first start the configured server is trusted (trust on first use: the file was
  written by the machine's owner);
* a change of ``server.url`` made in the configuration file by hand is the owner's, and moves the
  binding with it;
* a change made over the control channel is recorded as *pending* before the file is written:
  while the configured origin is the pending one, the daemon sends **no** token (status says
  why), until ``pywats-station login`` confirms it. A URL given in ``$PYWATS_SERVER_URL`` comes
  from the service's environment and is always trusted.

The record holds no secret; it is private anyway, next to the token it guards.
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
from pathlib import Path
from urllib.parse import urlsplit

import msgspec

from pywats_station.paths import InstancePaths, atomic_write, give_to_folder_owner

__all__ = [
    "BINDING_FILE",
    "Binding",
    "bind_origin",
    "check_binding",
    "mark_pending",
    "origin_of",
    "read_binding",
]

log = logging.getLogger("pywats_station.secrets")

BINDING_FILE = "server-binding.json"
_DEFAULT_PORTS = {"http": 80, "https": 443}


class Binding(msgspec.Struct, kw_only=True, omit_defaults=True):
    """The binding record.

    Attributes:
        origin: The origin the token is confirmed for; ``None`` before the first one.
        pending: An origin set over the control channel and not confirmed yet.
        pending_since: When it was set (seconds since the epoch).
    """

    origin: str | None = None
    pending: str | None = None
    pending_since: float | None = None


_decoder = msgspec.json.Decoder(Binding)


def origin_of(url: str) -> str:
    """``scheme://host:port`` of ``url``, lower-case, with the scheme's default port filled in.

    Two URLs reach the same server exactly when their origins are equal (a different port may
    be another service on the same host).

    Raises:
        ValueError: ``url`` has no scheme or host.
    """
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if not scheme or not host:
        raise ValueError(f"not a server URL: {url!r}")
    port = parts.port or _DEFAULT_PORTS.get(scheme, 0)
    shown = f"[{host}]" if ":" in host else host
    return f"{scheme}://{shown}:{port}"


def _path(paths: InstancePaths) -> Path:
    return paths.secrets_dir / BINDING_FILE


def read_binding(paths: InstancePaths) -> Binding:
    """The binding record (empty when there is none, or when it is damaged)."""
    try:
        data = _path(paths).read_bytes()
    except FileNotFoundError:
        return Binding()
    try:
        return _decoder.decode(data)
    except msgspec.DecodeError:
        # A damaged record trusts nothing: the next check binds the configured origin only if
        # it is not pending, which a damaged record cannot say; login repairs it.
        log.warning("%s is damaged; run `pywats-station login` to confirm the server", _path(paths))
        return Binding(pending="?")


def _write(paths: InstancePaths, binding: Binding) -> None:
    folder = paths.secrets_dir
    if not folder.exists():
        folder.mkdir(parents=True, mode=0o700, exist_ok=True)
        with contextlib.suppress(OSError):
            os.chmod(folder, 0o700)
    atomic_write(_path(paths), msgspec.json.encode(binding), mode=0o600)
    give_to_folder_owner(_path(paths))


def bind_origin(paths: InstancePaths, url: str) -> str:
    """Confirm the token for ``url``'s origin (``login``, first start, hand edits).

    Returns:
        The origin bound.
    """
    origin = origin_of(url)
    _write(paths, Binding(origin=origin))
    return origin


def mark_pending(paths: InstancePaths, url: str) -> str:
    """Record that ``server.url`` is being set to ``url`` over the control channel.

    Called *before* the configuration file is written, so that no reload can see the new URL
    without this record.

    Returns:
        The pending origin.
    """
    current = read_binding(paths)
    origin = origin_of(url)
    if current.origin == origin:  # back to the confirmed server: nothing to confirm
        if current.pending is not None:
            _write(paths, Binding(origin=current.origin))
        return origin
    _write(paths, Binding(origin=current.origin, pending=origin, pending_since=time.time()))
    return origin


def check_binding(paths: InstancePaths, url: str, *, from_env: bool = False) -> str | None:
    """Whether the token may be sent to ``url``: ``None`` if so, else the reason why not.

    Binds the origin on first use and follows a hand edit of the file (module docstring).

    Args:
        paths: The instance.
        url: The configured server URL.
        from_env: The URL comes from ``$PYWATS_SERVER_URL`` (always trusted, never bound).
    """
    if from_env or not url:
        return None
    try:
        origin = origin_of(url)
    except ValueError:
        return None  # the config check reports a bad URL; no request can go anywhere
    current = read_binding(paths)
    if current.pending is not None and current.pending in (origin, "?"):
        confirmed = current.origin or "no server yet"
        return (
            f"server.url was changed over the control channel to {origin}; the API token is "
            f"confirmed for {confirmed} and is not sent to another server until someone on the "
            "station confirms it: run `pywats-station login`"
        )
    if current.origin != origin:
        if current.origin is not None:
            log.info(
                "server.url changed in the configuration file: the API token is now confirmed "
                "for %s (was %s)",
                origin,
                current.origin,
            )
        try:
            _write(paths, Binding(origin=origin))
        except OSError as exc:  # cannot record it: still the owner's own file, send the token
            log.warning("cannot record the server binding: %s", exc)
    return None
