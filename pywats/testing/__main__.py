"""``python -m pywats.testing serve``: run the emulated WATS server over TCP."""

from __future__ import annotations

import argparse
import math
import sys
from functools import partial
from pathlib import Path

from pywats.testing._http import MAX_BODY, READ_TIMEOUT

__all__ = ["main"]


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point; returns the exit code."""
    parser = argparse.ArgumentParser(
        prog="python -m pywats.testing",
        description="An emulated WATS server for testing scripts, converters and stations.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="serve the emulator over HTTP")
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=0, help="port (default 0: a free one)")
    serve.add_argument(
        "--token",
        action="append",
        default=None,
        help="accepted API token (repeatable; default: test-token)",
    )
    serve.add_argument("--data", type=Path, help="keep reports in a SQLite file in this folder")
    mode = serve.add_mutually_exclusive_group()
    mode.add_argument("--strict", action="store_true", help="validate like the live server")
    mode.add_argument("--lenient", action="store_true", help="accept real exports (default)")
    serve.add_argument(
        "--admin", action="store_true", help="enable the /_emulator admin routes (faults, log)"
    )
    serve.add_argument(
        "--read-timeout",
        type=_positive_seconds,
        default=READ_TIMEOUT,
        metavar="SECONDS",
        help="time a client has to send a request's headers, then its body; a late body "
        f"is answered 408 (default {READ_TIMEOUT:g})",
    )
    serve.add_argument(
        "--max-body",
        type=_byte_count,
        default=MAX_BODY,
        metavar="BYTES",
        help=f"largest request body accepted; a larger one is answered 413 (default {MAX_BODY})",
    )
    serve.add_argument("--certfile", type=Path, help="serve HTTPS with this PEM certificate")
    serve.add_argument("--keyfile", type=Path, help="the private key of --certfile")
    args = parser.parse_args(argv)
    if (args.certfile is None) != (args.keyfile is None):
        parser.error("--certfile and --keyfile go together")
    tls = (str(args.certfile), str(args.keyfile)) if args.certfile else None

    try:
        import trio

        from pywats.testing._emulator import FakeWATS
        from pywats.testing._serve import serve as run_server
    except ImportError as exc:  # pragma: no cover - depends on the install
        print(f"missing dependency ({exc}); install pywats[testing]", file=sys.stderr)
        return 2

    tokens = args.token or ["test-token"]
    emulator = FakeWATS(
        tokens[0],
        strict=args.strict,
        data_dir=args.data,
        admin=args.admin,
        max_body=args.max_body,
        read_timeout=args.read_timeout,
    )
    for token in tokens[1:]:
        emulator.state.add_token(token)
    try:
        trio.run(partial(run_server, emulator, args.host, args.port, tls=tls))
    except (OSError, BaseExceptionGroup) as exc:
        # trio wraps a bind failure in an exception group: show the OSError, not a traceback.
        found = _os_error(exc)
        if found is None:
            raise
        print(
            f"cannot serve on {args.host}:{args.port}: {found.strerror or found}", file=sys.stderr
        )
        return 1
    return 0


def _positive_seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"expected a number of seconds above 0, not {text!r}")
    return value


def _byte_count(text: str) -> int:
    if not text.strip().isdigit():
        raise argparse.ArgumentTypeError(f"expected a whole number of bytes, not {text!r}")
    return int(text)


def _os_error(exc: BaseException) -> OSError | None:
    if isinstance(exc, OSError):
        return exc
    if isinstance(exc, BaseExceptionGroup):
        for inner in exc.exceptions:
            found = _os_error(inner)
            if found is not None:
                return found
    return None


if __name__ == "__main__":
    raise SystemExit(main())
