"""Sample arguments for the library's operations, one module per domain (``SAMPLES``).

``tests/testing/contract.py`` builds (never sends) every operation of ``pyWATS`` with these to
check its method, path and query parameters against the server's description. A domain's
module is named after its attribute on ``pyWATS`` (``product.py`` for ``api.product``); its
``SAMPLES`` maps ``domain.operation`` to a list of ``(args, kwargs)``: several entries for an
operation that reaches different routes depending on its arguments.

A domain module may also define ``seed_contract(fake) -> ContractSeed``: it puts what the
domain's routes need into the contract test's seeded emulator (through the emulator's own
routes) and returns the values of its path parameters, a valid body for each of its routes that
takes one, and valid requests (:class:`Probe`) for each of its routes
(``tests/testing/test_contract.py``).
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass, field
from types import ModuleType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pywats.testing import FakeWATS

__all__ = ["Args", "ContractSeed", "Probe", "domain_contract_seed", "domain_samples"]

Args = tuple[tuple[Any, ...], dict[str, Any]]


@dataclass(frozen=True, slots=True)
class Probe:
    """One valid request to a route and the status it must get."""

    path: str
    query: tuple[tuple[str, str], ...] = ()
    body: bytes = b""
    content_type: str = "application/json"
    expect: int = 200
    why: str = ""  # the reason for an expected status other than 200


@dataclass
class ContractSeed:
    """What a domain adds to the contract test's seeded emulator.

    Attributes:
        path_values: a valid value of each of the domain's path parameters, by name (names
            are shared by every route: two domains giving one name different values fail).
        bodies: a valid body and its content type, by route key (``"PUT /api/Product"``).
        probes: valid requests, by route key; every route of the domain needs at least one.
    """

    path_values: dict[str, str] = field(default_factory=dict)
    bodies: dict[str, tuple[bytes, str]] = field(default_factory=dict)
    probes: dict[str, list[Probe]] = field(default_factory=dict)


def domain_samples() -> dict[str, list[Args]]:
    """The samples of every module here (one or more per domain: ``analytics_yield.py`` and
    ``analytics_data.py`` share ``api.analytics``)."""
    found: dict[str, list[Args]] = {}
    for module in _modules():
        found.update(getattr(module, "SAMPLES", {}))
    return found


def _modules() -> list[ModuleType]:
    """Every module of this package, in name order."""
    return [
        importlib.import_module(f"{__name__}.{info.name}")
        for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name)
    ]


def domain_contract_seed(fake: FakeWATS) -> ContractSeed:
    """Seed ``fake`` with every domain's contract data; their path values, bodies and probes."""
    merged = ContractSeed()
    for module in _modules():
        seed: Callable[[FakeWATS], ContractSeed] | None = getattr(module, "seed_contract", None)
        if seed is None:
            continue
        part = seed(fake)
        for name, value in part.path_values.items():
            if merged.path_values.setdefault(name, value) != value:
                raise ValueError(
                    f"{module.__name__}: path parameter {{{name}}} is already "
                    f"{merged.path_values[name]!r} (from another domain), not {value!r}"
                )
        merged.bodies.update(part.bodies)
        merged.probes.update(part.probes)
    return merged
