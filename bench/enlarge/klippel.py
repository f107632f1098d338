"""A Klippel QC run ``factor`` times bigger: every curve measured at ``factor`` times the points.

A Klippel input is a folder with its header beside it, so this module has
``enlarge_folder(src, dst, factor)`` instead of ``enlarge(data, factor)``: ``src`` is a run
folder (its header ``<src>.txt`` beside it), ``dst`` the folder to write (its header
``<dst>.txt`` is written beside it). Between two rows of a curve ``factor - 1`` rows are
interpolated (every column linearly; a cell without a value, ``-``, stays one where either
neighbour has none), so the run stays one report with the same steps, its curves ``factor``
times longer, as a finer frequency sweep would make them. Single-value files are copied.
"""

from __future__ import annotations

import shutil
from pathlib import Path

__all__ = ["enlarge_folder"]


def enlarge_folder(src: Path, dst: Path, factor: int) -> None:
    """Write the run ``src`` (and its header) as ``dst``, its curves ``factor`` times denser.

    Raises:
        ValueError: ``factor`` is below 1, or ``dst`` exists.
        FileNotFoundError: ``src`` or its header is missing.
    """
    if factor < 1:
        raise ValueError(f"factor must be at least 1, not {factor}")
    if dst.exists():
        raise ValueError(f"{dst} exists already")
    header = src.with_name(src.name + ".txt")
    if not header.is_file():
        raise FileNotFoundError(f"no header {header.name} beside {src}")
    dst.mkdir(parents=True)
    for path in sorted(src.iterdir()):
        if not path.is_file():
            continue
        data = path.read_bytes()
        if data.startswith(b"frq\t"):
            (dst / path.name).write_bytes(_denser(data, factor))
        else:
            shutil.copyfile(path, dst / path.name)
    shutil.copyfile(header, dst.with_name(dst.name + ".txt"))


def _denser(data: bytes, factor: int) -> bytes:
    """A curve's rows with ``factor - 1`` rows interpolated between each two."""
    text = data.decode("utf-8")
    newline = "\r\n" if "\r\n" in text else "\n"
    first, *rows = [line for line in text.splitlines() if line.strip()]
    out = [first]
    cells = [row.split("\t") for row in rows]
    for index, row in enumerate(cells):
        out.append("\t".join(row))
        if index + 1 == len(cells):
            break
        following = cells[index + 1]
        for step in range(1, factor):
            share = step / factor
            pairs = zip(row, following, strict=True)
            out.append("\t".join(_between(a, b, share) for a, b in pairs))
    return (newline.join(out) + newline).encode("utf-8")


def _between(a: str, b: str, share: float) -> str:
    try:
        low, high = float(a), float(b)
    except ValueError:
        return "-"  # a cell without a value on either side: none between them either
    return format(low + (high - low) * share, ".8g")
