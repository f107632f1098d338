"""The predecessor's half of ``bench/models.py``: times ``pywats-api`` in its own environment.

``pywats-api`` also imports as ``pywats``, so it cannot share an interpreter with this project.
``bench/models.py`` runs this file with the predecessor venv's python (``-I``, so neither the
working directory nor this folder shadows the installed package) and reads one JSON object from
stdout. Only the standard library is imported here besides the predecessor itself, and the
predecessor is reached through :func:`importlib.import_module`, so the file type-checks in this
project's environment too (pydantic objects are ``Any``).

Commands::

    version                                   -> {"version", "pydantic", "httpx", "python"}
    models --repeat R --file PATH NUMBER ...  -> {"results": [{"file", "parse", "dump",
                                                  "roundtrip"} | {"file", "error"}]}
    http --url URL --token T --calls N --warmup W
                                              -> {"value", "throttle_off", "throttle_on"}

Times are seconds per operation: the best of ``R`` samples of ``NUMBER`` operations each.
"""

from __future__ import annotations

import argparse
import gc
import importlib
import importlib.metadata
import json
import platform
import sys
import time
from collections.abc import Callable
from typing import Any

UUT_MODULE = "pywats.domains.report.report_models.uut.uut_report"
UUR_MODULE = "pywats.domains.report.report_models.uur.uur_report"


def best_per_op(op: Callable[[], object], number: int, repeat: int) -> float:
    """Return the best of ``repeat`` samples, each ``number`` calls of ``op``, per call.

    The garbage collector stays on (as in real use) but is emptied before each sample, so one
    sample does not pay for the garbage of the previous one.
    """
    best = float("inf")
    for _ in range(repeat):
        gc.collect()
        start = time.perf_counter()
        for _ in range(number):
            op()
        best = min(best, (time.perf_counter() - start) / number)
    return best


def report_class(data: bytes) -> Any:
    """Pick ``UUTReport`` or ``UURReport`` from the WSJF ``type`` member.

    Done once per file, outside the timed code: the predecessor has no single entry point that
    dispatches on ``type`` (our ``wsjf.loads`` does, inside its timed call).
    """
    kind = json.loads(data).get("type")
    module: Any = importlib.import_module(UUR_MODULE if kind == "R" else UUT_MODULE)
    return module.UURReport if kind == "R" else module.UUTReport


def first_line(exc: BaseException) -> str:
    """A short reason for a failure: the exception type and its first two lines.

    A pydantic ``ValidationError`` puts the count on its first line and the field on the second.
    """
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return f"{type(exc).__name__}: {' / '.join(lines[:2])}"


def time_models(files: list[tuple[str, int]], repeat: int) -> list[dict[str, Any]]:
    """Time parse, serialise and parse+serialise of each file with the predecessor's models."""
    results: list[dict[str, Any]] = []
    for path, number in files:
        with open(path, "rb") as handle:
            data = handle.read()
        try:
            cls = report_class(data)
            model = cls.model_validate_json(data)
            model.model_dump_json(by_alias=True, exclude_none=True)
        except Exception as exc:  # a rejected file is a result, not a crash
            results.append({"file": path, "error": first_line(exc)})
            continue

        def parse(cls: Any = cls, data: bytes = data) -> object:
            return cls.model_validate_json(data)

        def dump(model: Any = model) -> object:
            return model.model_dump_json(by_alias=True, exclude_none=True)

        def roundtrip(cls: Any = cls, data: bytes = data) -> object:
            return cls.model_validate_json(data).model_dump_json(by_alias=True, exclude_none=True)

        results.append(
            {
                "file": path,
                "parse": best_per_op(parse, number, repeat),
                "dump": best_per_op(dump, number, repeat),
                "roundtrip": best_per_op(roundtrip, number, repeat),
            }
        )
    return results


def time_calls(url: str, token: str, calls: int, warmup: int) -> dict[str, Any]:
    """Time ``api.analytics.get_version()`` with throttling off, then on.

    The response cache is off in both: with it on, every call after the first would be answered
    from memory and the figure would say nothing about a call. Throttling is a global limiter
    that ``pyWATS`` picks up when it is built; its default (500 requests per 60 s) would make
    these calls sleep, so the "on" client gets a budget too large to reach: the limiter's code
    runs, it never waits.
    """
    pywats: Any = importlib.import_module("pywats")
    throttle: Any = importlib.import_module("pywats.core.throttle")
    clients: dict[str, Any] = {}
    for name, kwargs in (
        ("throttle_off", {"enabled": False}),
        ("throttle_on", {"max_requests": 10**9, "window_seconds": 60.0, "enabled": True}),
    ):
        throttle.configure_throttling(**kwargs)
        clients[name] = pywats.pyWATS(
            base_url=url, token=token, enable_cache=False, retry_enabled=False
        )
    out: dict[str, Any] = {}
    for name, api in clients.items():
        value = api.analytics.get_version()
        out["value"] = value
        for _ in range(warmup):
            api.analytics.get_version()
        gc.collect()
        start = time.perf_counter()
        for _ in range(calls):
            api.analytics.get_version()
        out[name] = (time.perf_counter() - start) / calls
    for api in clients.values():
        api.close()
    return out


def main(argv: list[str]) -> int:
    """Run one command and print its JSON result on stdout."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("version")
    models = sub.add_parser("models")
    models.add_argument("--repeat", type=int, default=3)
    models.add_argument("--file", nargs=2, action="append", metavar=("PATH", "NUMBER"))
    http = sub.add_parser("http")
    http.add_argument("--url", required=True)
    http.add_argument("--token", required=True)
    http.add_argument("--calls", type=int, default=1000)
    http.add_argument("--warmup", type=int, default=100)
    args = parser.parse_args(argv)

    result: dict[str, Any]
    if args.command == "version":
        pywats: Any = importlib.import_module("pywats")
        result = {
            "version": importlib.metadata.version("pywats-api"),
            "module_version": getattr(pywats, "__version__", None),
            "pydantic": importlib.metadata.version("pydantic"),
            "httpx": importlib.metadata.version("httpx"),
            "python": platform.python_version(),
        }
    elif args.command == "models":
        files = [(path, int(number)) for path, number in args.file or []]
        result = {"results": time_models(files, args.repeat)}
    else:
        result = time_calls(args.url, args.token, args.calls, args.warmup)
    json.dump(result, sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
