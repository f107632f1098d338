"""Loading converters: built-ins, ``module:Class``, ``.py`` files, and every way that fails."""

from __future__ import annotations

import textwrap
import uuid
from pathlib import Path

import pytest

from pywats_station.converters.api import FileConverter
from pywats_station.converters.builtin.csv import CsvConverter
from pywats_station.converters.builtin.wsjf import WsjfConverter
from pywats_station.converters.builtin.wstf import WstfConverter
from pywats_station.converters.builtin.wsxf import WsxfConverter
from pywats_station.converters.registry import (
    BUILTINS,
    ConverterLoadError,
    create_converter,
    is_builtin,
    load_converter,
)

GOOD = """
from pathlib import Path
from typing import ClassVar

from pywats_station.converters import ConverterContext, FileConverter, Skipped


class {name}(FileConverter):
    name: ClassVar[str] = "{name_lower}"

    def convert(self, path: Path, ctx: ConverterContext) -> Skipped:
        return Skipped(reason="{name}")
"""


def write(folder: Path, filename: str, source: str) -> Path:
    path = folder / filename
    path.write_text(textwrap.dedent(source))
    return path


def good(name: str = "Good") -> str:
    return GOOD.format(name=name, name_lower=name.lower())


def module_name() -> str:
    return f"conv_{uuid.uuid4().hex[:8]}"  # fresh each test: sys.modules caches imports


def test_builtins_load_by_name_in_any_case() -> None:
    first = {
        "wsjf": WsjfConverter,
        "wsxf": WsxfConverter,
        "wstf": WstfConverter,
        "csv": CsvConverter,
    }
    assert first.items() <= BUILTINS.items()  # the equipment converters and auto join them
    assert load_converter("WSJF") is WsjfConverter
    assert load_converter(" csv ") is CsvConverter
    assert is_builtin("Wstf")
    assert not is_builtin("my.module:Conv")
    for name, cls in BUILTINS.items():
        assert cls.name == name


def test_module_and_class(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    name = module_name()
    write(tmp_path, f"{name}.py", good("Mine"))
    monkeypatch.syspath_prepend(str(tmp_path))
    cls = load_converter(f"{name}:Mine")
    assert cls.__name__ == "Mine"
    assert issubclass(cls, FileConverter)


def test_py_file_absolute_relative_and_with_class(tmp_path: Path) -> None:
    path = write(tmp_path, "line.py", good("Line"))
    assert load_converter(str(path)).name == "line"
    assert load_converter("line.py", base_dir=tmp_path).name == "line"
    assert load_converter("line.py:Line", base_dir=tmp_path).name == "line"
    sub = tmp_path / "conv"
    sub.mkdir()
    write(sub, "other.py", good("Other"))
    assert load_converter("conv/other.py", base_dir=tmp_path).name == "other"


def test_py_file_is_read_afresh_each_time(tmp_path: Path) -> None:
    path = write(tmp_path, "conv.py", good("First"))
    assert load_converter(str(path)).__name__ == "First"
    write(tmp_path, "conv.py", good("Second"))
    assert load_converter(str(path)).__name__ == "Second"


def test_two_files_with_the_same_name_do_not_clash(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first = load_converter(str(write(tmp_path / "a", "conv.py", good("A"))))
    second = load_converter(str(write(tmp_path / "b", "conv.py", good("B"))))
    assert first.__module__ != second.__module__
    assert (first.__name__, second.__name__) == ("A", "B")


def test_imported_converter_classes_are_not_counted(tmp_path: Path) -> None:
    source = good("Only") + "\nfrom pywats_station.converters.builtin.wsjf import WsjfConverter\n"
    assert load_converter(str(write(tmp_path, "c.py", source))).__name__ == "Only"


def test_an_abstract_base_beside_one_converter_is_fine(tmp_path: Path) -> None:
    source = good("Concrete") + "\n\nclass Base(FileConverter):\n    pass\n"
    assert load_converter(str(write(tmp_path, "c.py", source))).__name__ == "Concrete"


def expect_error(kind: str, pattern: str, base_dir: Path | None = None) -> None:
    with pytest.raises(ConverterLoadError, match=pattern):
        load_converter(kind, base_dir=base_dir)


def test_unknown_kind() -> None:
    expect_error("teradyne", r"unknown converter kind 'teradyne': not a built-in \(wsjf, wsxf")
    expect_error("", "no converter kind given")


def test_module_not_found() -> None:
    expect_error("no_such_module_xyz:Conv", r"module 'no_such_module_xyz' not found")
    expect_error("json.no_such_sub:Conv", r"module 'json.no_such_sub' not found")


def test_module_whose_import_fails(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    name = module_name()
    write(tmp_path, f"{name}.py", "import no_such_dependency_abc\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    expect_error(f"{name}:Conv", rf"importing module '{name}' failed: No module named 'no_such")


def test_module_syntax_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    name = module_name()
    write(tmp_path, f"{name}.py", "x = 1\ndef broken(:\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    expect_error(f"{name}:Conv", rf"syntax error in module '{name}'.*line 2")


def test_file_syntax_error_names_the_line(tmp_path: Path) -> None:
    write(tmp_path, "bad.py", "import os\n\nclass X(:\n    pass\n")
    expect_error("bad.py", r"syntax error in converter file .*bad\.py, line 3: ", tmp_path)


def test_file_raising_at_import_names_the_line(tmp_path: Path) -> None:
    write(tmp_path, "raises.py", "x = 1\nraise RuntimeError('no database')\n")
    expect_error(
        "raises.py",
        r"loading converter file .*raises\.py raised RuntimeError: no database \(line 2\)",
        tmp_path,
    )
    write(tmp_path, "exits.py", "import sys\nsys.exit(4)\n")
    expect_error("exits.py", r"raised SystemExit: 4", tmp_path)


def test_file_not_found(tmp_path: Path) -> None:
    expect_error("missing.py", r"converter file .*missing\.py not found", tmp_path)
    expect_error(str(tmp_path / "missing.py") + ":Conv", r"missing\.py not found")


def test_class_missing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path, "c.py", good("Present"))
    expect_error(
        "c.py:Absent", r"has no class 'Absent' \(converter classes there: .*Present", tmp_path
    )
    name = module_name()
    write(tmp_path, f"{name}.py", good("Present"))
    monkeypatch.syspath_prepend(str(tmp_path))
    expect_error(f"{name}:Absent", rf"module '{name}' has no class 'Absent'")


def test_not_a_converter_class(tmp_path: Path) -> None:
    write(tmp_path, "c.py", good("Conv") + "\n\nclass Helper:\n    pass\n\nVALUE = 3\n")
    expect_error(
        "c.py:Helper", r"'Helper' is not a converter class \(subclass FileConverter", tmp_path
    )
    expect_error("c.py:VALUE", r"'VALUE' is not a converter class", tmp_path)


def test_abstract_class(tmp_path: Path) -> None:
    write(tmp_path, "c.py", good("Conv") + "\n\nclass Half(FileConverter):\n    pass\n")
    expect_error("c.py:Half", r"'Half' is abstract: it does not implement convert\(\)", tmp_path)


def test_file_must_define_exactly_one_converter(tmp_path: Path) -> None:
    write(tmp_path, "none.py", "x = 1\n")
    expect_error("none.py", r"must define exactly one converter class.*\(found: none\)", tmp_path)
    write(tmp_path, "two.py", good("One") + good("Two"))
    expect_error("two.py", r"exactly one converter class.*\(found: One, Two\)", tmp_path)


def test_arguments_must_be_a_struct(tmp_path: Path) -> None:
    write(tmp_path, "c.py", good("Conv") + "\nConv.Arguments = dict\n")
    expect_error("c.py", r"Arguments must be a msgspec\.Struct class", tmp_path)


def test_create_converter_reports_a_failing_constructor(tmp_path: Path) -> None:
    source = good("Conv") + "\n    def __init__(self) -> None:\n        raise OSError('no port')\n"
    write(tmp_path, "c.py", source)
    with pytest.raises(
        ConverterLoadError, match=r"creating converter .*Conv raised OSError: no port"
    ):
        create_converter("c.py", base_dir=tmp_path)
    assert isinstance(create_converter("wsjf"), WsjfConverter)
