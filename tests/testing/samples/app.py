"""Contract samples of ``api.app`` operations added with their domain's tag (Mes).

The other operations of ``api.app`` have their samples in ``tests/testing/contract.py``.
"""

from __future__ import annotations

from pywats.testing import FakeWATS
from tests.testing.samples import Args, ContractSeed, Probe

SAMPLES: dict[str, list[Args]] = {
    "app.get_common_user_settings": [(("api",), {})],
}


def seed_contract(fake: FakeWATS) -> ContractSeed:
    """A request for the user of the contract test's token."""
    return ContractSeed(
        probes={
            "GET /api/App/CommonUserSettings": [
                Probe("/api/App/CommonUserSettings", (("UserName", "api"),)),
                Probe("/api/App/CommonUserSettings", (("username", "API"),)),
                Probe(
                    "/api/App/CommonUserSettings",
                    (("UserName", "nobody"),),
                    expect=404,
                    why="no such user",
                ),
            ]
        }
    )
