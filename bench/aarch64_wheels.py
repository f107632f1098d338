"""Do the station's dependencies install on Raspberry Pi OS Bookworm from wheels only?

Run with the project's venv: ``.venv/bin/python bench/aarch64_wheels.py [WHEEL]`` (without
``WHEEL`` it builds the checkout's into a temporary folder). Bookworm is aarch64 with CPython
3.11 and glibc 2.36: pip resolves ``WHEEL[station]`` for exactly that platform
(``--only-binary=:all:``, every ``manylinux`` tag up to glibc 2.36, ``--dry-run``, so only the
metadata is fetched), from PyPI, ignoring this machine's pip configuration (``--isolated``): a
local wheel cache must not stand in for the index. A dependency without a usable wheel (one that
would need a compiler on the Pi) fails the resolution. It prints the table that
``docs/raspberry-pi.md`` shows and exits 1 on a failure; ``tests/test_install.py`` runs it.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

PYTHON_VERSION = "3.11"  # Raspberry Pi OS Bookworm's python3
GLIBC_MINOR = 36  # Bookworm's glibc 2.36
# pip takes platform tags literally: every manylinux tag a glibc-2.36 aarch64 system accepts.
PLATFORMS = ["manylinux2014_aarch64"] + [
    f"manylinux_2_{minor}_aarch64" for minor in range(17, GLIBC_MINOR + 1)
]


@dataclass(frozen=True)
class Resolved:
    """One distribution pip would install, and the wheel it chose."""

    name: str
    version: str
    wheel: str

    @property
    def pure(self) -> bool:
        return self.wheel.endswith("-none-any.whl")


def pip_command(wheel: Path, extras: str, report: Path, index_url: str | None) -> list[str]:
    """The pip command that resolves ``wheel[extras]`` for the Pi, writing ``report``."""
    command = [sys.executable, "-m", "pip", "install", "--isolated", "--dry-run", "--quiet"]
    command += ["--ignore-installed", "--only-binary=:all:", "--target", str(report.parent / "t")]
    for platform in PLATFORMS:
        command += ["--platform", platform]
    command += ["--python-version", PYTHON_VERSION, "--implementation", "cp"]
    command += ["--abi", f"cp{PYTHON_VERSION.replace('.', '')}", "--report", str(report)]
    if index_url:
        command += ["--index-url", index_url]
    return [*command, f"{wheel}[{extras}]"]


def resolve(wheel: Path, extras: str = "station", index_url: str | None = None) -> list[Resolved]:
    """What pip installs with ``wheel[extras]`` on the Pi, or ``RuntimeError`` with pip's words."""
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "report.json"
        done = subprocess.run(
            pip_command(wheel, extras, report, index_url),
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(done.stderr.strip() or done.stdout.strip())
        data = json.loads(report.read_text(encoding="utf-8"))
    return [
        Resolved(
            item["metadata"]["name"],
            item["metadata"]["version"],
            item["download_info"]["url"].rsplit("/", 1)[-1],
        )
        for item in data["install"]
    ]


def build_wheel(dest: Path) -> Path:
    """The checkout's wheel, built as docs/operations.md builds it."""
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--quiet",
            "--wheel-dir",
            str(dest),
            ROOT,
        ],
        check=True,
        timeout=300,
    )
    (wheel,) = dest.glob("pywats-*.whl")
    return wheel


def table(resolved: list[Resolved]) -> str:
    """Markdown: compiled wheels first (the ones that could have been missing), then the rest."""
    rows = sorted(
        (r for r in resolved if r.name != "pywats"), key=lambda r: (r.pure, r.name.lower())
    )
    lines = ["| package | version | wheel |", "|---|---|---|"]
    lines += [f"| {r.name} | {r.version} | `{r.wheel}` |" for r in rows]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("wheel", nargs="?", type=Path, help="the wheel (default: build one)")
    parser.add_argument("--extras", default="station", help="extras to resolve (default station)")
    parser.add_argument("--index-url", help="an index other than PyPI (a mirror)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        wheel = args.wheel or build_wheel(Path(tmp))
        try:
            resolved = resolve(wheel.resolve(), args.extras, args.index_url)
        except RuntimeError as exc:
            print(f"not installable from wheels on aarch64 / CPython {PYTHON_VERSION}:\n{exc}")
            return 1
    compiled = sum(not r.pure for r in resolved)
    print(
        f"{wheel.name}[{args.extras}] on aarch64, CPython {PYTHON_VERSION}, glibc 2.{GLIBC_MINOR}: "
        f"{len(resolved) - 1} dependencies, all wheels ({compiled} compiled for aarch64)\n"
    )
    print(table(resolved))
    return 0


if __name__ == "__main__":
    sys.exit(main())
