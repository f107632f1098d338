"""A real systemd as PID 1 in throwaway namespaces, for end-to-end tests of the service.

CI machines (and this project's) run tests as root without systemd as PID 1. Linux namespaces
give a real ``systemd --system`` anyway: a new PID namespace (systemd is its PID 1), a private
mount namespace in which ``/etc`` and ``/var`` are overlays whose changes live in a tmpfs,
``/run`` and ``/tmp`` are fresh tmpfs, and cgroup2 is mounted for systemd to manage. The
network is shared, so the daemon inside reaches the emulator on the host's loopback.

What keeps the box from touching the host: systemd boots into a target of its own that pulls
only journald; every ``*.wants``/``*.requires`` folder of the distribution's units is hidden
(a unit's ``After=sysinit.target`` then starts nothing else), and the units that act on the
shared kernel or on shared folders are masked on top: ``systemd-tmpfiles-setup`` would empty
``/tmp`` by its ``D /tmp`` rule, sysctl, udev, module loading and swap change the kernel.
Everything the test writes into the box (users, units, configuration, the queue) goes to the
overlays and disappears with it; the host sees the files through ``/proc/<pid>/root``.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import time
from pathlib import Path

__all__ = ["SystemdBox", "unavailable_reason"]

SYSTEMD = Path("/lib/systemd/systemd")
HOST_TMP = Path("/run/box/host-tmp")  # the host's /tmp, read-only, inside the box

# Units that act on the shared kernel, devices or folders: masked inside the box.
_MASKED = (
    "systemd-tmpfiles-setup.service",
    "systemd-tmpfiles-setup-dev.service",
    "systemd-tmpfiles-clean.service",
    "systemd-tmpfiles-clean.timer",
    "systemd-sysctl.service",
    "systemd-udevd.service",
    "systemd-udev-trigger.service",
    "systemd-udev-settle.service",
    "systemd-modules-load.service",
    "systemd-binfmt.service",
    "systemd-remount-fs.service",
    "systemd-random-seed.service",
    "systemd-timesyncd.service",
    "systemd-networkd.service",
    "systemd-resolved.service",
    "systemd-networkd-wait-online.service",
    "NetworkManager-wait-online.service",
    "systemd-update-utmp.service",
    "systemd-journal-flush.service",
    "emergency.service",
    "rescue.service",
    "swap.target",
)

_BOOT = r"""
set -eu
mount -t tmpfs -o mode=0755 tmpfs /run
mkdir -p /run/systemd/system /run/box /run/box/host-tmp
# The host's /tmp stays reachable, read-only, under /run/box/host-tmp (a checkout or its
# virtual environment may live there), before a fresh tmpfs hides it at /tmp.
mount --bind /tmp /run/box/host-tmp
mount -o remount,bind,ro /run/box/host-tmp
mount -t tmpfs -o mode=1777 tmpfs /tmp
for d in etc var; do
  mkdir -p /run/box/$d/up /run/box/$d/work
  mount -t overlay overlay -o lowerdir=/$d,upperdir=/run/box/$d/up,workdir=/run/box/$d/work /$d
done
for d in /usr/lib/systemd/system/*.wants /usr/lib/systemd/system/*.requires \
         /etc/systemd/system/*.wants /etc/systemd/system/*.requires; do
  [ -d "$d" ] && mount -t tmpfs -o mode=0755 tmpfs "$d"
done
: > /etc/fstab
for unit in $MASKED; do ln -sf /dev/null /run/systemd/system/$unit; done
printf '[Unit]\nDescription=test box\nWants=systemd-journald.service\n' \
  > /run/systemd/system/box.target
mount -t cgroup2 cgroup2 /sys/fs/cgroup
# Shared propagation inside the box, as systemd sets up on a machine it boots (in a container it
# leaves that to the container manager): credentials are mounted in a child namespace and must
# propagate back. Nothing propagates to the host: the box's namespace began private.
mount --make-rshared /
exec env container=pywats-test-box /lib/systemd/systemd --system --unit=box.target \
  --log-target=console --show-status=no
"""


def unavailable_reason() -> str | None:
    """Why no box can be made here, or ``None`` if it can (it is then tried for real)."""
    if os.geteuid() != 0:
        return "needs root (namespaces, mounts) for a systemd as PID 1"
    for tool in ("unshare", "nsenter"):
        if shutil.which(tool) is None:
            return f"{tool} (util-linux) is not installed"
    if not SYSTEMD.exists():
        return f"{SYSTEMD} is not installed"
    if not Path("/proc/filesystems").read_text().count("overlay"):
        return "the kernel has no overlay file system"
    return None


class SystemdBox:
    """``systemd --system`` as PID 1 of new namespaces; :meth:`run` executes commands inside."""

    def __init__(self, log: Path) -> None:
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None
        self.pid = 0  # systemd's pid as the host sees it

    def start(self, timeout: float = 30.0) -> None:
        """Boot the box and wait until its systemd answers; raises with the boot log if not."""
        with open(self.log, "wb") as log:
            self.process = subprocess.Popen(
                [
                    "unshare",
                    "--fork",
                    "--pid",
                    "--mount",
                    "--uts",
                    "--ipc",
                    "--cgroup",
                    "--mount-proc",
                    "--propagation",
                    "private",
                    "sh",
                    "-c",
                    _BOOT,
                ],
                env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "MASKED": " ".join(_MASKED)},
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            self.pid = self._systemd_pid()
            if self.pid:
                state = self.run("systemctl", "is-system-running", check=False).stdout.strip()
                if state in ("running", "degraded"):
                    return
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"the systemd box did not boot:\n{self.log.read_text(errors='replace')}")

    def _systemd_pid(self) -> int:
        """The box's PID 1: the child of ``unshare`` (it execs systemd after the mounts)."""
        assert self.process is not None
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        try:
            pids = children.read_text().split()
        except OSError:
            return 0
        for pid in pids:
            try:
                if Path(f"/proc/{pid}/comm").read_text().strip() == "systemd":
                    return int(pid)
            except OSError:
                continue
        return 0

    @staticmethod
    def inside(path: Path) -> Path:
        """Where a host path is seen inside the box (the host's ``/tmp`` is hidden by its own)."""
        if path.is_relative_to("/tmp"):
            return HOST_TMP / path.relative_to("/tmp")
        return path

    def path(self, path: str | Path) -> Path:
        """A path of the box as the host reaches it."""
        return Path(f"/proc/{self.pid}/root") / Path(path).relative_to("/")

    def run(
        self, *argv: str, check: bool = True, timeout: float = 120.0, stdin: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        """Run a command inside the box (its mounts and PIDs) as root."""
        done = subprocess.run(
            ["nsenter", "-t", str(self.pid), "-m", "-p", "-u", "-i", "-C", "--wd=/", *argv],
            input=stdin,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if check and done.returncode != 0:
            raise AssertionError(
                f"{' '.join(argv)} exited {done.returncode}:\n{done.stdout}\n{done.stderr}"
            )
        return done

    def stop(self) -> None:
        """Kill the box: SIGKILL to its PID 1 ends every process in it; the mounts go too."""
        if self.pid:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, 9)
        if self.process is not None:
            if self.process.poll() is None:
                self.process.kill()
            self.process.wait(30)
