"""The station's control channel: JSON-RPC 2.0 over a websocket, used by the TUI and MES tools.

=================  ==================================================================
module             holds
=================  ==================================================================
``protocol``       the JSON-RPC messages (msgspec types), error codes, frame parsing
``methods``        the catalogue: every method's spec (types in ``models``, ``events``)
``registry``       ``Registry`` (handlers, built-ins, OpenRPC) and ``CallContext``
``server``         ``serve_control``, ``ControlServer``
``hub``            ``ControlHub``: events to subscribed clients
``client``         ``open_control_client``/``Client`` (trio), ``BlockingClient``
``blocking``       (``BlockingClient``'s thread, re-exported by ``client``)
``auth``           the control token files
``roles``          ``Role``: what a connection may do (operator, admin)
=================  ==================================================================

The protocol, security defaults and catalogue are described in ``docs/control-api.md``.
"""

from __future__ import annotations

from pywats_station.control._spec import (
    Event,
    MethodSpec,
    NoParams,
    NotificationSpec,
    Params,
    Result,
)
from pywats_station.control.auth import ControlTokenError, ensure_control_token, read_control_token
from pywats_station.control.client import (
    BlockingClient,
    Client,
    ControlConnectionError,
    EventsDropped,
    open_control_client,
    open_memory_client,
)
from pywats_station.control.hub import ControlHub
from pywats_station.control.protocol import ControlError, ErrorCode
from pywats_station.control.registry import CallContext, Registry
from pywats_station.control.roles import Role
from pywats_station.control.server import ControlServer, serve_control

__all__ = [
    "BlockingClient",
    "CallContext",
    "Client",
    "ControlConnectionError",
    "ControlError",
    "ControlHub",
    "ControlServer",
    "ControlTokenError",
    "ErrorCode",
    "Event",
    "EventsDropped",
    "MethodSpec",
    "NoParams",
    "NotificationSpec",
    "Params",
    "Registry",
    "Result",
    "Role",
    "ensure_control_token",
    "open_control_client",
    "open_memory_client",
    "read_control_token",
    "serve_control",
]
