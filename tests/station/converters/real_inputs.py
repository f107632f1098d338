"""The real fixtures as converter inputs: each file, each folder, and the built-in made for it.

``../shared/fixtures/real/`` holds one folder per format (``atml/``, ``spea-3030/``…). A file
converter's inputs are its files; a folder converter's inputs are the folders inside a format's
folder (``klippel/DUT-…/``, whose header ``DUT-….txt`` lies beside it, as a Klippel QC system
writes them). The format folders themselves are only collections: no converter should take one.
Tests that need the fixtures skip, naming the folder, when it is absent (:mod:`tests.fixtures`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from tests.fixtures import REAL

__all__ = ["OWN_KIND", "Fixture", "own_kind", "real_inputs"]

# The fixture folder a format's real files are in -> the built-in that reads them.
OWN_KIND = {
    "atml": "atml",
    "teststand-xml": "teststand",
    "teradyne-gr228x": "teradyne_gr228x",
    "teradyne-spectrum": "teradyne_spectrum",
    "spea-3030": "spea_3030",
    "xjtag": "xjtag",
    "klippel": "klippel",
    "takaya-atd": "takaya_atd",
}
FOLDER_FORMATS = frozenset({"klippel"})  # formats whose input is a folder


@dataclass(frozen=True)
class Fixture:
    """One real input: a file, or (for folder converters) a folder of files."""

    path: Path
    folder: bool

    @property
    def format(self) -> str:
        """The fixture folder it is in (``atml``, ``spea-3030``…)."""
        return self.path.relative_to(REAL).parts[0]

    @property
    def depth(self) -> int:
        """1 for a format's folder or a file in it, 2 for what is inside a sub-folder…"""
        return len(self.path.relative_to(REAL).parts)

    @property
    def id(self) -> str:
        """The path below the fixtures folder, ``/`` after a folder: the test id."""
        return self.path.relative_to(REAL).as_posix() + ("/" if self.folder else "")


def real_inputs() -> list[Fixture]:
    """Every real file (READMEs aside) and every folder holding files, in a stable order."""
    if not REAL.is_dir():
        return []
    found = []
    for path in sorted(REAL.rglob("*")):
        if path.is_file() and path.name.lower() != "readme.md":
            found.append(Fixture(path, folder=False))
        elif path.is_dir() and any(p.is_file() for p in path.iterdir()):
            found.append(Fixture(path, folder=True))
    return found


def own_kind(fixture: Fixture) -> str | None:
    """The built-in made for this input, or ``None`` when no built-in should take it.

    WSJF and WSXF exports share a folder: the suffix tells them apart. A folder format's files
    alone belong to no file converter, and only its input folders (not the format's folder) to
    its folder converter.
    """
    if fixture.format == "wsjf":
        if fixture.folder:
            return None
        return "wsxf" if fixture.path.suffix.lower() == ".xml" else "wsjf"
    kind = OWN_KIND.get(fixture.format)
    if fixture.format in FOLDER_FORMATS:
        return kind if fixture.folder and fixture.depth == 2 else None
    return None if fixture.folder else kind
