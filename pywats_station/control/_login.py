"""Logging in to the control channel: tokens, the role each grants, and the login throttles.

Two throttles, both aimed at the client that fails, never at the good clients of its address
(on loopback every local client shares one address, so an address-wide lockout would let any
local process lock the TUI out):

* **the failing connection** (:class:`ConnectionLogins`): after a failed ``auth.login`` its
  next attempt waits ``delay`` seconds (its reader is not read meanwhile), and after
  ``max_failures`` failures it is closed (1008). A failed ``Authorization`` header ends its
  connection at once (HTTP 401).
* **the failed attempts of an address** (:class:`Authenticator`): each *wrong* token takes from
  the address's bucket; while it is empty, further wrong tokens are refused at once with
  -32003 / HTTP 429 and ``retry_after``, which tells a misconfigured client to stop, and keeps
  the log quiet. A **correct token is always accepted**, throttled address or not: every
  presented token is compared first.

Why answering a correct token during a throttle is not a guessing oracle worth fearing: the
tokens are ``secrets.token_urlsafe(32)``, 256 random bits. The rate of guesses is bounded by
the server, not by the throttle: an unauthenticated connection gets ``max_failures`` guesses at
least ``delay`` apart before it is closed, at most ``max_unauthenticated`` such connections
exist at once, and every header guess costs a new TCP connection and handshake through the
bounded pending pool. Even a million guesses per second (orders of magnitude beyond what a
station accepts) would need about 10^63 years for an even chance at 2^255 tokens. What the
throttles protect is the station's time and its log, and neither needs to refuse the right
token. Tokens are compared in constant time (:func:`hmac.compare_digest`), each one, always.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

import trio

from pywats_station.control._bucket import TokenBucket
from pywats_station.control.protocol import ControlError, ErrorCode
from pywats_station.control.roles import Role

__all__ = ["Authenticator", "ConnectionLogins", "Grant", "LoginPolicy"]

log = logging.getLogger("pywats_station.control")

SUMMARY_PERIOD: Final = 60.0
"""Seconds between two log lines about the same throttled address."""


@dataclass(frozen=True)
class Grant:
    """An accepted token: the role the connection gets, and the token's own.

    Attributes:
        role: What the connection holds from now on.
        token_role: What the token grants where nothing caps it (``role`` is lower when an
            admin token comes from another machine without ``remote_admin``).
    """

    role: Role
    token_role: Role

    @property
    def capped(self) -> bool:
        """Whether the connection got less than its token grants."""
        return self.role < self.token_role

    @property
    def note(self) -> str | None:
        """Why the role is capped, for the login result and the log; ``None`` if it is not."""
        if not self.capped:
            return None
        return (
            f"the {self.token_role.label} token grants {self.role.label} to a connection from "
            "another machine ([control] remote_admin is off)"
        )


@dataclass(frozen=True)
class LoginPolicy:
    """How a connection that fails ``auth.login`` is slowed down, then closed.

    Attributes:
        delay: Seconds a connection waits after a failed login before its next attempt.
        max_failures: Failed logins after which the connection is closed (1008).
    """

    delay: float = 1.0
    max_failures: int = 3

    def __post_init__(self) -> None:
        if self.delay < 0 or self.max_failures < 1:
            raise ValueError("login delay >= 0 and max_failures >= 1, please")


class ConnectionLogins:
    """One connection's failed logins: when it may try again, and whether it is done."""

    def __init__(self) -> None:
        self.failures = 0
        self._not_before = 0.0

    async def wait_turn(self) -> None:
        """Sleep until this connection may try again (at once if it never failed)."""
        await trio.sleep_until(self._not_before)

    def failed(self, policy: LoginPolicy) -> bool:
        """Record a failure; ``True`` when the connection has failed too often and must close."""
        self.failures += 1
        self._not_before = trio.current_time() + policy.delay
        return self.failures >= policy.max_failures


class Authenticator:
    """Checks presented tokens against the known ones; throttles wrong ones per address.

    Args:
        tokens: Every accepted token and the role it grants (``{operator_token:
            Role.OPERATOR, admin_token: Role.ADMIN}``).
        failures: ``(burst, period)`` of the per-address bucket of wrong tokens.
        remote_admin: Whether a connection from another machine may hold the admin role;
            otherwise an admin token grants it operator.
        max_tracked: Addresses remembered at most (full buckets are forgotten first).

    Raises:
        ValueError: No token, a token granting :attr:`Role.NONE`, or a bad bucket.
    """

    def __init__(
        self,
        tokens: Mapping[str, Role],
        *,
        failures: tuple[int, float] = (5, 10.0),
        remote_admin: bool = False,
        max_tracked: int = 1024,
    ) -> None:
        if not tokens or any(role is Role.NONE for role in tokens.values()):
            raise ValueError("at least one token, each granting a role above none")
        TokenBucket(*failures, now=0.0)  # validates it before the first client finds out
        self._tokens = [(_utf8(token), role) for token, role in tokens.items()]
        self._failures = failures
        self._remote_admin = remote_admin
        self._max_tracked = max_tracked
        self._buckets: dict[str, TokenBucket] = {}
        # Addresses being throttled -> (wrong tokens refused since it started, when the log
        # last said so, refused since then): one line when it starts, one a minute at most.
        self._throttled: dict[str, tuple[int, float, int]] = {}
        self.refused = 0

    def check(self, presented: str, address: str, *, local: bool) -> Grant:
        """Accept ``presented`` (with the role it grants from ``address``) or raise.

        Args:
            presented: The token the client sent.
            address: The client's address (the throttle's key).
            local: Whether the client is on this machine (loopback, in-process).

        Raises:
            ControlError: -32001 for a wrong token; -32003 (``data.retry_after``) for a
                wrong token while ``address`` has failed too often.
        """
        role = self._match(_utf8(presented))
        if role is not None:
            granted = role
            if role is Role.ADMIN and not local and not self._remote_admin:
                granted = Role.OPERATOR
            return Grant(granted, role)
        self.refused += 1
        now = trio.current_time()
        bucket = self._buckets.get(address)
        if bucket is None:
            self._forget_some(now)
            bucket = self._buckets[address] = TokenBucket(*self._failures, now=now)
        episode = self._throttled.get(address)
        if episode is not None and bucket.full(now):  # quiet for a whole period: it is over
            log.info("control logins from %s: throttle over (%d refused)", address, episode[0])
            del self._throttled[address]
            episode = None
        if bucket.take(now):
            raise ControlError(ErrorCode.UNAUTHORIZED, "unauthorized: wrong control token")
        if episode is None:  # once per episode, not once per guess
            log.warning(
                "control logins from %s: too many wrong tokens; more are refused at once "
                "(correct tokens are still accepted)",
                address,
            )
            episode = (0, now, -1)  # this refusal is in that line
        refused, logged_at, unlogged = episode
        if now - logged_at >= SUMMARY_PERIOD:
            log.warning(
                "control logins from %s: %d more wrong tokens refused in the last %.0f s",
                address,
                unlogged + 1,
                now - logged_at,
            )
            logged_at, unlogged = now, -1
        self._throttled[address] = (refused + 1, logged_at, unlogged + 1)
        raise ControlError(
            ErrorCode.RATE_LIMITED,
            "too many failed logins from this address; retry later",
            {"retry_after": round(max(bucket.retry_after(now), 0.001), 3)},
        )

    def throttled(self, address: str) -> bool:
        """Whether wrong tokens from ``address`` are refused with -32003 right now."""
        bucket = self._buckets.get(address)
        return bucket is not None and not bucket.available(trio.current_time())

    def _match(self, presented: bytes) -> Role | None:
        # Every token is compared, whatever matched first: the time taken does not say which.
        found: Role | None = None
        for token, role in self._tokens:
            if hmac.compare_digest(presented, token) and found is None:
                found = role
        return found

    def _forget_some(self, now: float) -> None:
        if len(self._buckets) < self._max_tracked:
            return
        for address in [a for a, b in self._buckets.items() if b.full(now)]:
            del self._buckets[address]
            self._throttled.pop(address, None)
        while len(self._buckets) >= self._max_tracked:  # all throttled: forget the oldest
            address = next(iter(self._buckets))
            del self._buckets[address]
            self._throttled.pop(address, None)


def _utf8(text: str) -> bytes:
    # surrogatepass: a str from an in-process caller may hold lone surrogates; never raise on it.
    return text.encode("utf-8", "surrogatepass")
