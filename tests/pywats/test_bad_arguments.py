"""Every operation of every domain, given arguments of the wrong kind, fails with a named pywats
error (or Python's own ``TypeError`` when the arguments do not even bind), never with a bare
``AttributeError``, a msgspec or an httpx exception from inside the library."""

from __future__ import annotations

import inspect
import warnings
from collections.abc import Iterator
from typing import Any

import pytest

from pywats import PyWATSError, pyWATS
from pywats._domain import operation
from pywats.api import DOMAINS
from pywats.testing import FakeWATS

WRONG = [object(), 12345, -1.5, ["x"], None, b"\xff\x00", {"a": 1}]


def operations() -> Iterator[tuple[str, str, int]]:
    """(domain, operation, number of required positional arguments) for every operation."""
    fake = FakeWATS("t")
    with pyWATS("http://wats.test", "t", transport=fake) as api:
        for name in DOMAINS:
            domain = getattr(api, name)
            for attr in sorted(dir(type(domain))):
                op = getattr(type(domain), attr, None)
                if not isinstance(op, operation):
                    continue
                parameters = list(inspect.signature(op.__wrapped__).parameters.values())[1:]
                required = [
                    p
                    for p in parameters
                    if p.default is inspect.Parameter.empty
                    and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
                ]
                yield name, attr, len(required)


@pytest.mark.parametrize(("domain", "name", "count"), list(operations()))
def test_wrong_arguments_give_a_named_error(domain: str, name: str, count: int) -> None:
    fake = FakeWATS("t")
    with pyWATS("http://wats.test", "t", transport=fake) as api, warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # the predecessor's names
        method: Any = getattr(getattr(api, domain), name)
        problems = []
        for wrong in WRONG:
            try:
                method(*([wrong] * count))
            except PyWATSError:
                pass
            except TypeError as exc:
                # Python's own: the arguments do not bind (a required keyword is missing).
                if "argument" not in str(exc):
                    problems.append(f"{domain}.{name}({wrong!r}): {exc!r}")
        assert not problems
