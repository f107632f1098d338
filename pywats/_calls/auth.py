"""``api.auth``: API tokens."""

from __future__ import annotations

from typing import Any

import httpx
import msgspec

from pywats._call import Call, UnexpectedResponseError, segment
from pywats._domain import Domain, ModeT, operation

__all__ = ["AuthDomain"]


def _token(response: httpx.Response) -> str:
    # Documented only as "object": accept a JSON string, an object holding the token, or text.
    try:
        value: Any = msgspec.json.decode(response.content)
    except msgspec.DecodeError:
        value = response.text.strip()
    if isinstance(value, dict):
        value = next(
            (v for k, v in value.items() if k.lower() in ("token", "apitoken", "value")), None
        )
    if not isinstance(value, str) or not value:
        raise UnexpectedResponseError(
            "no token in the answer", method="GET", url=str(response.request.url)
        )
    return value


class AuthDomain(Domain[ModeT]):
    """API tokens for the authenticated user."""

    @operation
    def get_token(self, identifier: str | None = None, *, reset: bool = False) -> Call[str]:
        """Create an API token (shown once). ``reset`` invalidates the previous one.

        The value is used verbatim as ``Authorization: Basic <token>``.
        """
        path = "/api/Auth/GetToken" + (f"/{segment(identifier)}" if identifier else "")
        return Call(
            method="GET",
            path=path,
            parse=_token,
            params={"reset": True if reset else None},
            # Not idempotent: each call may mint a new token.
            idempotent=False,
        )
