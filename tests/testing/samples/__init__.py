"""Sample arguments for the library's operations, one module per domain (``SAMPLES``).

``tests/testing/contract.py`` builds (never sends) every operation of ``pyWATS`` with these to
check its method, path and query parameters against the server's description. A domain's
module is named after its attribute on ``pyWATS`` (``product.py`` for ``api.product``); its
``SAMPLES`` maps ``domain.operation`` to a list of ``(args, kwargs)``: several entries for an
operation that reaches different routes depending on its arguments.
"""

from __future__ import annotations

import importlib
from typing import Any

from pywats.api import DOMAINS

Args = tuple[tuple[Any, ...], dict[str, Any]]


def domain_samples() -> dict[str, list[Args]]:
    """The samples of every domain that has a module here."""
    found: dict[str, list[Args]] = {}
    for name in DOMAINS:
        try:
            module = importlib.import_module(f"tests.testing.samples.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"tests.testing.samples.{name}":
                raise
            continue
        found.update(module.SAMPLES)
    return found
