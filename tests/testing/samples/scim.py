"""Sample arguments for ``api.scim`` and its share of the contract test's seeded emulator."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from pywats import pyWATS
from pywats.models.scim import PATCH_OP_SCHEMA, PatchOperation, ScimName, ScimUser
from tests.testing.samples import Args, ContractSeed, Probe

if TYPE_CHECKING:
    from pywats.testing import FakeWATS

__all__ = ["SAMPLES", "seed_contract"]

_ID = "5d1c2b3a-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
_NAME = "contract.user@example.com"

SAMPLES: dict[str, list[Args]] = {
    "scim.get_token": [((), {}), ((30,), {})],
    "scim.get_users": [((), {}), ((1, 10), {"filter": f'userName eq "{_NAME}"'})],
    "scim.create_user": [((ScimUser(user_name=_NAME),), {})],
    "scim.get_user": [((_ID,), {})],
    "scim.get_user_by_username": [((_NAME,), {})],
    "scim.update_user": [((_ID, [PatchOperation(op="replace", path="active", value=False)]), {})],
    "scim.set_user_active": [((_ID, True), {})],
    "scim.deactivate_user": [((_ID,), {})],
    "scim.update_display_name": [((_ID, "Ada Lovelace"), {})],
    "scim.delete_user": [((_ID,), {})],
}


def seed_contract(fake: FakeWATS) -> ContractSeed:
    """One user, found by its id and its userName."""
    with pyWATS("http://wats.test", "test-token", transport=fake) as api:
        user = api.scim.create_user(
            ScimUser(user_name=_NAME, name=ScimName(given_name="Ada"), external_id="aad-1")
        )
    assert user.id is not None
    create = json.dumps(
        {
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "userName": "contract.new@example.com",
            "active": True,
            "displayName": "New User",
            "emails": [{"value": "contract.new@example.com", "type": "work", "primary": True}],
        }
    ).encode()
    patch = json.dumps(
        {
            "schemas": [PATCH_OP_SCHEMA],
            "Operations": [
                {"op": "replace", "path": "fullName", "value": "Ada Lovelace"},
                {"op": "replace", "path": "active", "value": False},
                {"op": "replace", "path": "levels", "value": "Production"},
            ],
        }
    ).encode()
    users = "/api/SCIM/v2/Users"
    return ContractSeed(
        path_values={"userId": user.id, "userName": _NAME},
        bodies={
            "POST /api/SCIM/v2/Users": (create, "application/json"),
            "PATCH /api/SCIM/v2/Users/{userId}": (patch, "application/json"),
        },
        probes={
            "GET /api/SCIM/v2/Token": [
                Probe("/api/SCIM/v2/Token"),
                Probe("/api/SCIM/v2/Token", (("duration", "30"),)),
            ],
            "GET /api/SCIM/v2/Users": [
                Probe(users),
                Probe(users, (("startIndex", "1"), ("count", "1"))),
                Probe(users, (("filter", f'userName eq "{_NAME}"'),)),
            ],
            "POST /api/SCIM/v2/Users": [Probe(users, body=create)],
            "GET /api/SCIM/v2/Users/userName={userName}": [Probe(f"{users}/userName={_NAME}")],
            "GET /api/SCIM/v2/Users/{userId}": [Probe(f"{users}/{user.id}")],
            "PATCH /api/SCIM/v2/Users/{userId}": [Probe(f"{users}/{user.id}", body=patch)],
            "DELETE /api/SCIM/v2/Users/{userId}": [
                Probe(
                    f"{users}/{user.id}",
                    expect=204,
                    why="SCIM (RFC 7644 §3.6) answers a delete with 204; the description "
                    "documents every answer as 200",
                )
            ],
        },
    )
