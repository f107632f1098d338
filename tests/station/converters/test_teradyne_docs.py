"""The Teradyne converters' pages run as written: their configuration loads, their samples convert.

``tests/test_docs_examples.py`` runs the examples of ``docs/*.md``; these pages live one level
down (``docs/converters/``), so their marked blocks are run here the same way, read from the
page as it is.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from pywats.testing._seed import default_processes
from pywats_station.config import read_config
from pywats_station.converters.api import Converted, parse_arguments
from pywats_station.converters.builtin.teradyne_gr228x import Gr228xConverter
from pywats_station.converters.builtin.teradyne_spectrum import SpectrumConverter
from pywats_station.converters.sandbox import run_conversion
from tests.doc_examples import ROOT, Block, blocks
from tests.station.converters.helpers import make_ctx

# The pages' kinds (not through the registry: these tests are about the two converters only).
KINDS: dict[str, type[Gr228xConverter] | type[SpectrumConverter]] = {
    "teradyne_gr228x": Gr228xConverter,
    "teradyne_spectrum": SpectrumConverter,
}

PAGES = [
    ROOT / "docs" / "converters" / f"{kind}.md" for kind in ("teradyne_gr228x", "teradyne_spectrum")
]


def page_blocks() -> list[Block]:
    return [block for page in PAGES for block in blocks(page)]


@pytest.mark.parametrize("block", page_blocks(), ids=lambda b: b.where)
def test_every_block_is_marked(block: Block) -> None:
    assert block.kind in ("config", "input", "illustrative"), block.marker


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_the_examples_run(page: Path, tmp_path: Path) -> None:
    config: Path | None = None
    ran = 0
    for block in blocks(page):
        if block.kind == "config":
            config = tmp_path / f"{block.line}.toml"
            config.write_text(block.text, encoding="utf-8")
            loaded = read_config(config, env={})
            assert not loaded.warnings, [str(w) for w in loaded.warnings]
            for converter in loaded.config.converters:
                parse_arguments(KINDS[converter.kind], converter.arguments)
            ran += 1
        elif block.kind == "input":
            path = tmp_path / block.options["file"]
            path.write_text(block.text, encoding="utf-8")
            kind, arguments = block.options.get("kind"), {}
            if kind is None:
                assert config is not None, f"{block.where}: an input needs kind= or a config"
                (converter,) = read_config(config, env={}).config.converters
                kind, arguments = converter.kind, converter.arguments
            cls = KINDS[kind]
            ctx = make_ctx(cls, arguments, processes=default_processes())
            result = run_conversion(cls(), path, ctx)
            assert isinstance(result, Converted), (block.where, result)
            assert cls().validate(path, ctx).confidence >= 0.9
            ran += 1
    assert ran >= 2  # a configuration and a sample, at least
