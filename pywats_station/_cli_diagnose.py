"""``pywats-station diagnose [--json]``: check what a station needs, and say what to fix.

The checks (:mod:`pywats_station._diagnose_checks`) run in order: the station itself (Python
and packages, the configuration, the folders as the service's user sees them, free disk), the
server (DNS, the TLS handshake through the configured proxy and CA, the clock against the
server's, the token, the registration), then the running daemon (its control channel, the
systemd service, its last errors in the journal). Each prints one line, and what to do when it
did not pass. The exit code is 0 when no check failed (warnings and skipped checks do not
count: a station without systemd, or not registered yet, works), 9 when one did.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict

from pywats_station._cli_common import ExitCode, paths_of

__all__ = ["cmd_diagnose"]

_MARK = {"ok": "ok  ", "warn": "WARN", "fail": "FAIL", "skip": "skip"}


def cmd_diagnose(args: argparse.Namespace) -> int:
    """``pywats-station diagnose [--json]``."""
    from pywats_station._diagnose_checks import CHECKS, Probe, Result

    paths = paths_of(args)
    probe = Probe.load(paths)
    results: list[Result] = []
    for check in CHECKS:
        try:
            results.append(check(probe))
        except Exception as exc:
            name = check.__name__.removeprefix("check_")
            results.append(Result(name, "fail", f"the check itself failed: {exc!r}", ""))
    failed = [r for r in results if r.outcome == "fail"]
    if args.json:
        print(
            json.dumps(
                {"ok": not failed, "checks": [asdict(r) for r in results]},
                indent=2,
            )
        )
    else:
        for r in results:
            print(f"[{_MARK[r.outcome]}] {r.name:<12} {r.detail}")
            if r.fix and r.outcome != "ok":
                print(f"       {'':<12} -> {r.fix}")
        warned = sum(r.outcome == "warn" for r in results)
        print(
            f"\n{len(results) - len(failed) - warned} passed or skipped, {warned} warning(s), "
            f"{len(failed)} failed"
        )
    return ExitCode.UNHEALTHY if failed else ExitCode.OK
