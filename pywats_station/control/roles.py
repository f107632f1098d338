"""Who may do what over the control channel: the roles a connection can hold.

Two tokens, two roles (``docs/security.md`` has the whole threat model):

* **operator** (``control-token``): read everything, retry/purge the queue, enable, disable and
  restart converters, dry-run a configured built-in converter, send a test report. This is the
  token handed to MES tools and remote terminal UIs.
* **admin** (``control-admin-token``): everything an operator may do, and whatever changes what
  the daemon runs, where it reads and writes, or where it sends the API token: ``config.set``,
  dry runs of user-code converters. It stays with the service's user (and root); a connection
  from another machine holds at most **operator** unless ``[control] remote_admin = true``.

A connection that has not authenticated holds :attr:`Role.NONE` and may only discover the API,
ping and log in.
"""

from __future__ import annotations

import enum
from typing import Literal

__all__ = ["Role", "RoleName"]

RoleName = Literal["none", "operator", "admin"]
"""A role as the protocol shows it (:attr:`Role.label`)."""


class Role(enum.IntEnum):
    """A connection's rights; a higher role may do everything a lower one may."""

    NONE = 0
    OPERATOR = 1
    ADMIN = 2

    @property
    def label(self) -> RoleName:
        """The role's name as the protocol shows it (``"operator"``)."""
        names: dict[Role, RoleName] = {
            Role.NONE: "none",
            Role.OPERATOR: "operator",
            Role.ADMIN: "admin",
        }
        return names[self]

    @classmethod
    def from_label(cls, label: str) -> Role:
        """The role named ``label`` (``"admin"``).

        Raises:
            ValueError: No role has that name.
        """
        for role in cls:
            if role.label == label:
                return role
        raise ValueError(f"no role {label!r}: none, operator or admin")
