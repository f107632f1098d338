"""The checks of ``pywats-station diagnose``: each a small function of a :class:`Probe`.

Every check returns a :class:`Result`: its name, an outcome (``ok``, ``warn``, ``fail``,
``skip``), what it found, and, unless it passed, what to do. A check never raises: what it
cannot find out is its finding. The checks that talk to the server share one :class:`Probe`,
which asks the server once (through ``server.proxy`` and ``server.ca_file``, as the daemon
does) and keeps the answer.
"""

from __future__ import annotations

import importlib.metadata
import os
import pwd
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

__all__ = [
    "CHECKS",
    "Probe",
    "Result",
    "check_auth",
    "check_clock",
    "check_config",
    "check_control",
    "check_disk",
    "check_dns",
    "check_folders",
    "check_journal",
    "check_registration",
    "check_service",
    "check_tls",
    "check_versions",
]

Outcome = Literal["ok", "warn", "fail", "skip"]
# Beyond this, reports carry visibly wrong times (WATS sorts and filters by them).
CLOCK_WARN = 60.0
CLOCK_FAIL = 600.0
MIN_FREE = 64 << 20  # below this the queue cannot take a day of reports on a busy station
PACKAGES = ("httpx", "msgspec", "trio", "cryptography", "trio-websocket", "platformdirs")
_MIN_PYTHON = (3, 11)


@dataclass(frozen=True)
class Result:
    """One check's finding."""

    name: str
    outcome: Outcome
    detail: str
    fix: str = ""


def _ok(name: str, detail: str) -> Result:
    return Result(name, "ok", detail)


@dataclass
class Probe:
    """What the checks share: the instance, its configuration, and one answer from the server.

    Attributes:
        paths: The instance's paths.
        config: The configuration, or ``None`` when it cannot be loaded.
        config_error: Why it cannot be loaded.
        env: The environment (token, proxies).
        now: The local clock (tests move it).
        run: Runs a command (systemctl, journalctl) and returns its exit code and output, or
            ``None`` when the command does not exist.
    """

    paths: Any
    config: Any = None
    config_error: str | None = None
    warnings: list[str] = field(default_factory=list)
    env: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    now: Callable[[], float] = time.time
    run: Callable[[Sequence[str]], tuple[int, str] | None] | None = None
    timeout: float = 10.0
    _answer: Any = None
    _asked: bool = False

    @classmethod
    def load(cls, paths: Any, **options: Any) -> Probe:
        """A probe for ``paths``, with its configuration read (never raises)."""
        from pywats_station.config import ConfigError, read_config

        probe = cls(paths, **options)
        try:
            loaded = read_config(paths.config_file)
        except ConfigError as exc:
            probe.config_error = str(exc)
        else:
            probe.config = loaded.config
            probe.warnings = [str(w) for w in loaded.warnings]
        return probe

    @property
    def url(self) -> str:
        from pywats_station.config import URL_ENV

        return self.env.get(URL_ENV) or (self.config.server.url if self.config else "")

    def access(self) -> Any:
        """The client options (:func:`pywats_station.server_access.server_access`).

        Raises:
            AccessError: ``ca_file`` or the proxy password cannot be used.
        """
        from pywats_station.server_access import server_access

        return server_access(self.config, self.paths)

    def answer(self) -> Any:
        """``GET /api/App/Version`` without a token, once: the response or the exception."""
        if not self._asked:
            self._asked = True
            import httpx

            from pywats_station.server_access import AccessError

            try:
                options = self.access().client_options()
                with httpx.Client(timeout=self.timeout, **options) as http:
                    self._answer = http.get(self.url.rstrip("/") + "/api/App/Version")
            except (httpx.HTTPError, AccessError, ValueError, OSError) as exc:
                self._answer = exc
        return self._answer

    def command(self, *argv: str) -> tuple[int, str] | None:
        """Run ``argv`` (``None``: it is not installed)."""
        if self.run is not None:
            return self.run(argv)
        if shutil.which(argv[0], path=self.env.get("PATH")) is None:
            return None
        try:
            done = subprocess.run(
                argv, capture_output=True, text=True, timeout=self.timeout, check=False
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            return 127, str(exc)
        return done.returncode, (done.stdout + done.stderr).strip()

    def unit(self) -> str:
        from pywats_station.systemd import unit_name

        return unit_name(self.paths.instance) + ".service"


# --- the station itself -------------------------------------------------------------------


def check_versions(probe: Probe, packages: Sequence[str] = PACKAGES) -> Result:
    """Python and the packages the daemon needs."""
    from pywats import __version__

    python = ".".join(map(str, sys.version_info[:3]))
    found, missing = [f"Python {python}", f"pywats {__version__}"], []
    for name in packages:
        try:
            found.append(f"{name} {importlib.metadata.version(name)}")
        except importlib.metadata.PackageNotFoundError:
            missing.append(name)
    detail = ", ".join(found)
    if sys.version_info[:2] < _MIN_PYTHON:
        return Result(
            "versions", "fail", detail, "install Python 3.11 or later (Raspberry Pi OS Bookworm)"
        )
    if missing:
        return Result(
            "versions",
            "fail",
            f"{detail}; missing: {', '.join(missing)}",
            "reinstall with the station's dependencies: pipx install 'pywats[station]'",
        )
    return _ok("versions", detail)


def check_config(probe: Probe) -> Result:
    """The configuration file loads and passes validation."""
    where = probe.paths.config_file
    if probe.config is None:
        return Result(
            "config",
            "fail",
            probe.config_error or "no configuration",
            f"fix {where} (`pywats-station config check` lists every problem), or create it "
            "with `pywats-station config init`",
        )
    if probe.warnings:
        return Result("config", "warn", "; ".join(probe.warnings), f"edit {where}")
    if not probe.url:
        return Result(
            "config", "warn", f"{where} is valid but names no server", "set it: login --url URL"
        )
    return _ok("config", f"{where} is valid")


@dataclass(frozen=True)
class _User:
    name: str
    uid: int
    gids: frozenset[int]


def _service_user(probe: Probe) -> _User:
    """The user the daemon runs as: the unit's ``User=`` when run as root, else oneself."""
    me = os.geteuid()
    if me == 0:
        shown = probe.command("systemctl", "show", "-p", "User", "--value", probe.unit())
        name = shown[1].strip() if shown and shown[0] == 0 else _unit_user(probe.unit())
        if name and name != "root":
            try:
                entry = pwd.getpwnam(name)
            except KeyError:
                pass
            else:
                gids = os.getgrouplist(name, entry.pw_gid)
                return _User(name, entry.pw_uid, frozenset(gids))
    entry = pwd.getpwuid(me)
    return _User(entry.pw_name, me, frozenset(os.getgroups()) | {os.getegid()})


def _unit_user(unit: str, folder: Path = Path("/etc/systemd/system")) -> str:
    """``User=`` of an installed unit file, read directly (no systemd running to ask)."""
    try:
        text = (folder / unit).read_text(encoding="utf-8")
    except OSError:
        return ""
    users = [
        line.split("=", 1)[1].strip() for line in text.splitlines() if line.startswith("User=")
    ]
    return users[-1] if users else ""


def _can(user: _User, path: Path, want: int) -> bool:
    """Whether ``user`` may access ``path`` in the ``want`` way (``os.R_OK | os.W_OK``…)."""
    if user.uid == 0:
        return True
    st = path.stat()
    if st.st_uid == user.uid:
        shift = 6
    elif st.st_gid in user.gids:
        shift = 3
    else:
        shift = 0
    bits = (st.st_mode >> shift) & 0o7
    return bits & want == want


def _folders(probe: Probe) -> list[tuple[str, Path]]:
    config = probe.config
    found = [("state", probe.paths.state_dir)]
    if config is not None:
        found.append(("queue", config.queue.directory(probe.paths)))
        for conv in config.converters:
            if not conv.enabled or conv.type == "scheduled" or not conv.watch:
                continue
            found.append((f"converter {conv.name} watch", Path(conv.watch).expanduser()))
            if conv.post_action == "move":
                found.append((f"converter {conv.name} done", conv.done_dir))
            found.append((f"converter {conv.name} error", conv.error_dir))
    return found


def check_folders(probe: Probe) -> Result:
    """The folders the daemon reads and writes exist and the service's user may use them."""
    user = _service_user(probe)
    problems: list[str] = []
    fixes: list[str] = []
    for label, path in _folders(probe):
        try:
            if not path.is_dir():
                problems.append(f"{label} {path} does not exist")
                fixes.append(f"mkdir -p {path} && chown {user.name} {path}")
            elif not _can(user, path, os.R_OK | os.W_OK | os.X_OK):
                problems.append(f"{label} {path}: {user.name} cannot read and write it")
                fixes.append(f"chown {user.name} {path} (or give its group write access)")
        except OSError as exc:
            problems.append(f"{label} {path}: {exc.strerror}")
    if problems:
        return Result("folders", "fail", "; ".join(problems), "; ".join(fixes) or "see above")
    count = len(_folders(probe))
    return _ok("folders", f"{count} folders usable by {user.name}")


def _gb(size: int) -> str:
    return f"{size / 1e9:.2f} GB" if size >= 10**8 else f"{size / 1e6:.1f} MB"


def check_disk(probe: Probe, minimum: int = MIN_FREE) -> Result:
    """Free space where the queue lives."""
    folder = probe.config.queue.directory(probe.paths) if probe.config else probe.paths.queue_dir
    existing = next((p for p in (folder, *folder.parents) if p.exists()), Path("/"))
    free = shutil.disk_usage(existing).free
    limit = probe.config.queue.max_bytes if probe.config else 0
    detail = f"{_gb(free)} free at {existing}"
    if free < minimum:
        return Result(
            "disk",
            "fail",
            detail,
            f"free space on {existing}, or put the queue on other storage (queue.path)",
        )
    if free < limit:
        return Result(
            "disk",
            "warn",
            f"{detail}, less than queue.max_bytes ({_gb(limit)})",
            "lower queue.max_bytes or free space: a full disk stops conversions before the "
            "queue's own limit does",
        )
    return _ok("disk", detail)


# --- the server ---------------------------------------------------------------------------


def _no_server(name: str, probe: Probe) -> Result:
    if probe.config is None:
        return Result(name, "skip", "the configuration cannot be loaded (see config)")
    return Result(name, "skip", "no server configured", "set server.url (login --url URL)")


def _env_proxy(env: Mapping[str, str], scheme: str) -> str | None:
    """The proxy the environment names for ``scheme`` (NO_PROXY aside), as httpx reads it."""
    for name in (f"{scheme}_proxy", "all_proxy"):
        value = env.get(name) or env.get(name.upper())
        if value:
            return value if "://" in value else f"http://{value}"
    return None


def check_dns(probe: Probe) -> Result:
    """The server's host name resolves (the proxy's, when one is configured: it resolves the
    server's)."""
    if not probe.url or probe.config is None:
        return _no_server("dns", probe)
    host = urlsplit(probe.url if "://" in probe.url else f"https://{probe.url}").hostname or ""
    what = "server"
    try:
        access = probe.access()
    except Exception:
        access = None
    proxy = access.proxy if access is not None else None
    if access is not None and access.trust_env and proxy is None:
        proxy = _env_proxy(probe.env, urlsplit(probe.url).scheme)
    if proxy:
        host, what = urlsplit(proxy).hostname or "", "proxy"
    try:
        addresses = {str(info[4][0]) for info in socket.getaddrinfo(host, None)}
    except (OSError, UnicodeError) as exc:
        return Result(
            "dns",
            "fail",
            f"the {what} {host} does not resolve ({exc})",
            (
                "check the name in server.proxy (or the environment's HTTPS_PROXY)"
                if what == "proxy"
                else "check the name in server.url"
            )
            + " and the station's DNS (/etc/resolv.conf)",
        )
    return _ok("dns", f"{what} {host}: {', '.join(sorted(addresses)[:3])}")


def check_tls(probe: Probe) -> Result:
    """The server answers over the configured route (TLS handshake, proxy, CA)."""
    from pywats_station.server_access import explain

    if not probe.url or probe.config is None:
        return _no_server("tls", probe)
    answer = probe.answer()
    if isinstance(answer, Exception):
        access = None
        try:
            access = probe.access()
        except Exception as exc:
            return Result("tls", "fail", str(exc), "fix the key it names")
        why = explain(answer, access)
        return Result(
            "tls",
            "fail",
            why or f"{probe.url} cannot be reached: {answer}",
            "" if why else "check the network, the URL and server.proxy",
        )
    if answer.status_code == 407:
        return Result(
            "tls",
            "fail",
            "the proxy refused its credentials (407)",
            "pywats-station proxy http://USER@HOST:PORT",
        )
    route = probe.access().describe(probe.env)
    if urlsplit(probe.url).scheme != "https":
        return Result(
            "tls",
            "warn",
            f"{probe.url} answers ({route}), but without TLS: the API token crosses the "
            "network readable",
            "use the server's https:// URL",
        )
    return _ok("tls", f"{probe.url} answers over TLS ({route})")


def check_clock(probe: Probe, warn: float = CLOCK_WARN, fail: float = CLOCK_FAIL) -> Result:
    """The local clock agrees with the server's ``Date`` (report times come from it)."""
    if not probe.url or probe.config is None:
        return _no_server("clock", probe)
    answer = probe.answer()
    date = getattr(answer, "headers", {}).get("date") if not isinstance(answer, Exception) else None
    if not date:
        return Result("clock", "skip", "the server's time is not known (no answer with a Date)")
    try:
        server = parsedate_to_datetime(date).timestamp()
    except (TypeError, ValueError):
        return Result("clock", "skip", f"the server's Date header is not a date: {date!r}")
    offset = probe.now() - server
    detail = f"local clock {abs(offset):.0f} s {'ahead of' if offset > 0 else 'behind'} the server"
    fix = (
        "enable time synchronisation (timedatectl set-ntp true; a Pi has no battery clock) and "
        "check timedatectl status"
    )
    if abs(offset) > fail:
        return Result("clock", "fail", detail + ": reports get wrong times", fix)
    if abs(offset) > warn:
        return Result("clock", "warn", detail, fix)
    return _ok("clock", detail)


def _api(probe: Probe, token: str) -> Any:
    from pywats import RetryPolicy, pyWATS

    return pyWATS(
        probe.url,
        token,
        timeout=probe.timeout,
        retry=RetryPolicy(max_attempts=1),
        **probe.access().client_options(),
    )


def _token(probe: Probe) -> tuple[str | None, str]:
    from pywats_station.secrets import SecretsError, resolve_token

    try:
        return resolve_token(probe.config, probe.paths, probe.env), ""
    except SecretsError as exc:
        return None, str(exc)


def check_auth(probe: Probe) -> Result:
    """The API token is set and the server accepts it."""
    from pywats import AuthenticationError, AuthorizationError, PyWATSError

    if not probe.url or probe.config is None:
        return _no_server("auth", probe)
    token, problem = _token(probe)
    if token is None:
        return Result(
            "auth",
            "fail",
            problem or "no API token is set",
            "pywats-station login (or $PYWATS_API_TOKEN, or server.token_file)",
        )
    try:
        with _api(probe, token) as api:
            version = api.app.get_version()
    except (AuthenticationError, AuthorizationError) as exc:
        return Result(
            "auth",
            "fail",
            f"the server refused the token ({exc.status}: {exc.message})",
            "store the right one with pywats-station login",
        )
    except (PyWATSError, ValueError, OSError) as exc:
        return Result("auth", "skip", f"the token could not be tried: {exc}")
    return _ok("auth", f"the server (version {version}) accepts the token")


def check_registration(probe: Probe) -> Result:
    """The server knows this station as a client (the daemon registers it when it connects)."""
    from pywats import NotFoundError, PyWATSError

    if not probe.url or probe.config is None:
        return _no_server("registration", probe)
    token, _ = _token(probe)
    if token is None:
        return Result("registration", "skip", "no usable API token (see auth)")
    name = probe.config.station.effective_name
    try:
        with _api(probe, token) as api:
            client = api.system.get_client(name=name)
    except NotFoundError:
        return Result(
            "registration",
            "warn",
            f"the server has no client named {name!r} yet",
            "start the daemon: it registers the station when it connects (check station.name)",
        )
    except (PyWATSError, ValueError, OSError) as exc:
        return Result("registration", "skip", f"could not be asked: {exc}")
    return _ok("registration", f"registered as {name!r} (client {client.client_id})")


# --- the running daemon -------------------------------------------------------------------


def check_control(probe: Probe) -> Result:
    """The daemon runs and answers on its control channel."""
    import contextlib

    from pywats_station._cli_status import daemon_url, open_daemon_client
    from pywats_station.status import read_status

    snapshot = read_status(probe.paths)
    if snapshot is None:
        return Result(
            "control",
            "fail",
            "the daemon is not running",
            f"systemctl start {probe.unit()} (or pywats-station run)",
        )
    url = daemon_url(probe.paths, snapshot)
    if url is None:
        return Result(
            "control",
            "fail",
            f"the daemon (pid {snapshot.pid}) runs but its control channel is not listening",
            "see the daemon's log (journalctl -u " + probe.unit() + ")",
        )
    try:
        with contextlib.closing(open_daemon_client(probe.paths, url, snapshot)) as client:
            status = client.call("station.status")
    except Exception as exc:
        return Result(
            "control",
            "fail",
            f"{url} does not answer: {exc}",
            "check the control token file and [control] listen",
        )
    return _ok("control", f"pid {snapshot.pid} answers at {url} ({status.get('connection')})")


def _systemd(probe: Probe) -> bool:
    return Path("/run/systemd/system").is_dir() or probe.run is not None


def check_service(probe: Probe) -> Result:
    """The systemd service is enabled and active."""
    if not _systemd(probe) or probe.command("systemctl", "--version") is None:
        return Result("service", "skip", "no systemd on this machine (not PID 1)")
    unit = probe.unit()
    active = probe.command("systemctl", "is-active", unit)
    enabled = probe.command("systemctl", "is-enabled", unit)
    state = active[1].strip() if active else "unknown"
    when = enabled[1].strip() if enabled else "unknown"
    if state == "active":
        if when != "enabled":
            return Result(
                "service", "warn", f"{unit} is active but {when}", f"systemctl enable {unit}"
            )
        return _ok("service", f"{unit} is active and enabled")
    if when in ("not-found", "") or "could not be found" in state + when:
        return Result(
            "service",
            "fail",
            f"{unit} is not installed",
            "pywats-station install-service",
        )
    return Result(
        "service",
        "fail",
        f"{unit} is {state} ({when})",
        f"systemctl start {unit}; see why with journalctl -u {unit}",
    )


def check_journal(probe: Probe, lines: int = 5) -> Result:
    """The service's last errors in the journal (the last day)."""
    unit = probe.unit()
    if not _systemd(probe):
        return Result("journal", "skip", "no systemd journal on this machine (not PID 1)")
    shown = probe.command(
        "journalctl", "-u", unit, "-p", "err", "-n", str(lines), "--since", "-24h",
        "--no-pager", "-o", "cat", "-q",
    )  # fmt: skip
    if shown is None:
        return Result("journal", "skip", "journalctl is not installed (no systemd journal)")
    code, text = shown
    if code != 0:
        return Result("journal", "skip", f"journalctl failed: {text or code}")
    errors = [line for line in text.splitlines() if line.strip()]
    if errors:
        return Result(
            "journal",
            "warn",
            f"{len(errors)} recent error(s), the last: " + " | ".join(errors[-lines:]),
            f"journalctl -u {unit} -e for the context",
        )
    return _ok("journal", f"no errors from {unit} in the last 24 hours")


CHECKS: tuple[Callable[[Probe], Result], ...] = (
    check_versions,
    check_config,
    check_folders,
    check_disk,
    check_dns,
    check_tls,
    check_clock,
    check_auth,
    check_registration,
    check_control,
    check_service,
    check_journal,
)
