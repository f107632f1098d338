"""The documentation site builds (``mkdocs build --strict``) with no broken link or anchor.

``mkdocs.yml`` turns every broken link between pages, every missing ``#anchor`` and every page
left out of the navigation into a warning, and ``--strict`` makes a warning fail the build. A
link from a page to a file of the repository outside ``docs/`` (a config example) is not a page
of the site: mkdocs reports it as info, and the test checks that the file exists.
"""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"

_OUTSIDE = re.compile(
    r"Doc file '([^']+)' contains a link '([^']+)', but the target is not found among "
    r"documentation files"
)
_WARNING = re.compile(r"^(?:WARNING|ERROR)\b.*$", re.M)


def _build(site: Path, config: Path = ROOT / "mkdocs.yml") -> subprocess.CompletedProcess[str]:
    if importlib.util.find_spec("mkdocs") is None or importlib.util.find_spec("material") is None:
        pytest.skip("mkdocs and mkdocs-material are not installed (the dev and docs extras)")
    return subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(config), "-d", str(site)],
        cwd=ROOT,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def _problems(output: str, docs: Path) -> list[str]:
    """The build's warnings, and the links to files (outside the pages) that do not exist."""
    problems = _WARNING.findall(output)
    for page, link in _OUTSIDE.findall(output):
        target = (docs / page).parent / link.split("#", 1)[0]
        if not target.resolve().is_relative_to(docs.parent) or not target.exists():
            problems.append(f"{page}: {link} is not a file of the repository")
    return problems


def test_the_site_builds_without_a_warning(tmp_path: Path) -> None:
    site = tmp_path / "site"
    done = _build(site)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    assert _problems(output, DOCS) == [], output
    # Every page of docs/ is in the site.
    for page in sorted(p.relative_to(DOCS) for p in DOCS.rglob("*.md")):
        if page.name == "index.md":
            built = site / page.parent / "index.html"
        else:
            built = site / page.with_suffix("") / "index.html"
        assert built.exists(), f"docs/{page} was not built"


def test_broken_links_are_found(tmp_path: Path) -> None:
    """The check itself: a missing anchor fails ``--strict``; a missing file is a problem."""
    docs = tmp_path / "docs"
    docs.mkdir()
    (tmp_path / "examples").mkdir()
    (tmp_path / "examples" / "here.toml").write_text("", encoding="utf-8")
    (docs / "index.md").write_text(
        "# Home\n\n[fine](../examples/here.toml), [gone](../examples/gone.toml), "
        "[page](missing.md)\n",
        encoding="utf-8",
    )
    (docs / "other.md").write_text("# Other\n\n[there](index.md#nowhere)\n", encoding="utf-8")
    text = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    text = re.sub(r"^nav:.*", "nav:\n  - index.md\n  - other.md\n", text, flags=re.M | re.S)
    config = tmp_path / "mkdocs.yml"
    config.write_text(text, encoding="utf-8")
    done = _build(tmp_path / "site", config)
    output = done.stdout + done.stderr
    assert done.returncode != 0, output
    problems = _problems(output, docs)
    assert any("does not contain an anchor '#nowhere'" in p for p in problems), problems
    assert "index.md: ../examples/gone.toml is not a file of the repository" in problems
    assert "index.md: missing.md is not a file of the repository" in problems
    assert not any("here.toml" in p for p in problems), problems
