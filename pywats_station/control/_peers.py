"""Who is on the other end of a control connection: its address, and whether it is local.

The address is the per-address limits' and the login throttle's key, and "local" decides
whether an admin token grants admin (:mod:`~pywats_station.control.roles`). An in-memory
stream is a client in this very process: local.
"""

from __future__ import annotations

import ipaddress
from typing import Final

import trio

__all__ = ["IN_PROCESS", "address_of", "is_local", "is_loopback", "stream_address"]

IN_PROCESS: Final = "in-process"
"""The address of a client over an in-memory stream (this process, so: local)."""


def address_of(remote: tuple[str, int]) -> tuple[str, str]:
    """``(host:port, host)`` of a client; an IPv4 address mapped into IPv6 as IPv4."""
    host, port = str(remote[0]), remote[1]
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        pass
    else:
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            host = str(address.ipv4_mapped)  # one client, one key for the per-address limits
    return (f"[{host}]:{port}" if ":" in host else f"{host}:{port}"), host


def stream_address(stream: trio.abc.Stream) -> tuple[str, str]:
    """The client's address from a TCP or TLS stream; in-memory streams are in-process."""
    if isinstance(stream, trio.SSLStream):
        stream = stream.transport_stream
    if isinstance(stream, trio.SocketStream):
        try:
            name = stream.socket.getpeername()
        except OSError:  # reset already: it is going away, and is nobody's
            return "unknown", "unknown"
        if isinstance(name, tuple):
            return address_of((str(name[0]), int(name[1])))
    return IN_PROCESS, IN_PROCESS


def is_loopback(host: str) -> bool:
    """Whether ``host`` is a loopback address (or ``localhost``); names resolve anywhere."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def is_local(host: str) -> bool:
    """Whether a client at ``host`` is on this machine (loopback, or this process)."""
    return host == IN_PROCESS or is_loopback(host)
