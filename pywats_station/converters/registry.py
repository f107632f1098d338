"""Finding a converter class from the ``kind`` of a ``[[converters]]`` entry.

``kind`` is one of

* a built-in name: ``wsjf``, ``wsxf``, ``wstf``, ``csv`` (:data:`BUILTINS`);
* ``"package.module:Class"``: imported with :mod:`importlib` (the module must be importable);
* a path to a ``.py`` file, absolute or relative to ``base_dir`` (the configuration file's
  folder), optionally followed by ``:Class``; without it the file must define exactly one
  concrete converter class. The file is loaded under a module name of its own, so two files
  called ``converter.py`` do not clash and a changed file is read afresh on every load.

Everything that can go wrong raises :class:`ConverterLoadError` with a message that says what
and where (module not found, syntax error with its line, class missing, not a converter class,
abstract); an exception raised by the user's module is caught, never passed on.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import inspect
import itertools
import re
import sys
import traceback
from pathlib import Path
from types import ModuleType
from typing import Any, cast

import msgspec

from pywats_station.converters.api import (
    CONVERTER_BASES,
    AnyConverter,
    ConverterError,
    FileConverter,
    FolderConverter,
    ScheduledConverter,
)
from pywats_station.converters.builtin.atml import AtmlConverter
from pywats_station.converters.builtin.auto import AutoConverter
from pywats_station.converters.builtin.csv import CsvConverter
from pywats_station.converters.builtin.klippel import KlippelConverter
from pywats_station.converters.builtin.spea_3030 import Spea3030Converter
from pywats_station.converters.builtin.takaya_atd import TakayaAtdConverter
from pywats_station.converters.builtin.teradyne_gr228x import Gr228xConverter
from pywats_station.converters.builtin.teradyne_spectrum import SpectrumConverter
from pywats_station.converters.builtin.teststand import TestStandConverter
from pywats_station.converters.builtin.wsjf import WsjfConverter
from pywats_station.converters.builtin.wstf import WstfConverter
from pywats_station.converters.builtin.wsxf import WsxfConverter
from pywats_station.converters.builtin.xjtag import XjtagConverter

__all__ = ["BUILTINS", "ConverterLoadError", "create_converter", "is_builtin", "load_converter"]

ConverterClass = type[FileConverter] | type[FolderConverter] | type[ScheduledConverter]

BUILTINS: dict[str, ConverterClass] = {
    "wsjf": WsjfConverter,
    "wsxf": WsxfConverter,
    "wstf": WstfConverter,
    "csv": CsvConverter,
    "atml": AtmlConverter,
    "klippel": KlippelConverter,
    "xjtag": XjtagConverter,
    "teradyne_gr228x": Gr228xConverter,
    "teradyne_spectrum": SpectrumConverter,
    "spea_3030": Spea3030Converter,
    "takaya_atd": TakayaAtdConverter,
    "teststand": TestStandConverter,
    "auto": AutoConverter,
}
"""The built-in converters by kind name. They are trusted: the station runs them in a thread
(a child process for big inputs, so that their memory goes back)."""

_counter = itertools.count(1)


class ConverterLoadError(ConverterError):
    """A converter could not be loaded; the message says why and where."""


def is_builtin(kind: str) -> bool:
    """Whether ``kind`` names a built-in converter (any case)."""
    return kind.strip().lower() in BUILTINS


def load_converter(kind: str, *, base_dir: Path | None = None) -> ConverterClass:
    """Return the converter class named by ``kind`` (see the module docstring).

    Raises:
        ConverterLoadError: the converter cannot be loaded; the message says why.
    """
    text = kind.strip()
    if not text:
        raise ConverterLoadError("no converter kind given (a built-in name, module:Class or a .py)")
    if text.lower() in BUILTINS:
        return BUILTINS[text.lower()]
    file_part, class_name = _split_class(text)
    if file_part.lower().endswith(".py") or "/" in file_part or "\\" in file_part:
        return _from_file(file_part, class_name, base_dir)
    if class_name is None:
        builtins = ", ".join(BUILTINS)
        raise ConverterLoadError(
            f"unknown converter kind {text!r}: not a built-in ({builtins}), not "
            "'module:Class', not a .py file"
        )
    return _from_module(file_part, class_name)


def create_converter(kind: str, *, base_dir: Path | None = None) -> AnyConverter:
    """Load the class named by ``kind`` and instantiate it (without arguments).

    Raises:
        ConverterLoadError: loading failed, or the constructor raised.
    """
    cls = load_converter(kind, base_dir=base_dir)
    try:
        return cls()
    except (Exception, SystemExit) as exc:
        raise ConverterLoadError(f"creating {_label(cls)} raised {_last_line(exc)}") from exc


def _split_class(text: str) -> tuple[str, str | None]:
    # The last colon separates a class name, unless it is a Windows drive ("C:\x.py").
    head, sep, tail = text.rpartition(":")
    if sep and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", tail) and len(head) > 1:
        return head, tail
    return text, None


def _from_module(module_name: str, class_name: str) -> ConverterClass:
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name is not None and (module_name + ".").startswith(exc.name + "."):
            raise ConverterLoadError(f"module {module_name!r} not found") from exc
        raise ConverterLoadError(f"importing module {module_name!r} failed: {exc}") from exc
    except SyntaxError as exc:
        raise ConverterLoadError(_syntax(exc, f"module {module_name!r}")) from exc
    except (Exception, SystemExit) as exc:
        raise ConverterLoadError(
            f"importing module {module_name!r} raised {_last_line(exc)}"
        ) from exc
    return _pick(module, class_name, f"module {module_name!r}")


def _from_file(file_text: str, class_name: str | None, base_dir: Path | None) -> ConverterClass:
    path = Path(file_text).expanduser()
    if not path.is_absolute():
        path = (base_dir or Path.cwd()) / path
    path = path.resolve()
    where = f"converter file {path}"
    if not path.is_file():
        raise ConverterLoadError(f"{where} not found")
    digest = hashlib.sha1(str(path).encode(), usedforsecurity=False).hexdigest()[:10]
    stem = re.sub(r"\W", "_", path.stem)
    module_name = f"_pywats_converter_{stem}_{digest}_{next(_counter)}"
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise ConverterLoadError(f"{where} cannot be loaded as a Python module")
    module = importlib.util.module_from_spec(spec)
    # Registered before running it: msgspec and dataclasses look their module up by name.
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except SyntaxError as exc:
        sys.modules.pop(module_name, None)
        raise ConverterLoadError(_syntax(exc, where)) from exc
    except (Exception, SystemExit) as exc:
        sys.modules.pop(module_name, None)
        raise ConverterLoadError(f"loading {where} raised {_where_raised(exc, path)}") from exc
    return _pick(module, class_name, where)


def _pick(module: ModuleType, class_name: str | None, where: str) -> ConverterClass:
    if class_name is None:
        found = [
            obj
            for obj in vars(module).values()
            if inspect.isclass(obj)
            and obj.__module__ == module.__name__
            and issubclass(obj, CONVERTER_BASES)
            and not inspect.isabstract(obj)
        ]
        if len(found) != 1:
            names = ", ".join(sorted(c.__name__ for c in found)) or "none"
            raise ConverterLoadError(
                f"{where} must define exactly one converter class, or name one as "
                f"'<file>.py:Class' (found: {names})"
            )
        return _check(found[0], where)
    obj: Any = getattr(module, class_name, None)
    if obj is None:
        classes = sorted(
            name
            for name, value in vars(module).items()
            if inspect.isclass(value) and issubclass(value, CONVERTER_BASES)
        )
        hint = f" (converter classes there: {', '.join(classes)})" if classes else ""
        raise ConverterLoadError(f"{where} has no class {class_name!r}{hint}")
    return _check(obj, f"{where}, {class_name!r}")


def _check(obj: Any, where: str) -> ConverterClass:
    if not inspect.isclass(obj) or not issubclass(obj, CONVERTER_BASES):
        raise ConverterLoadError(
            f"{where} is not a converter class (subclass FileConverter, FolderConverter or "
            "ScheduledConverter from pywats_station.converters)"
        )
    if inspect.isabstract(obj):
        missing = ", ".join(f"{m}()" for m in sorted(getattr(obj, "__abstractmethods__", ())))
        raise ConverterLoadError(f"{where} is abstract: it does not implement {missing}")
    arguments = getattr(obj, "Arguments", None)
    if not (inspect.isclass(arguments) and issubclass(arguments, msgspec.Struct)):
        raise ConverterLoadError(f"{where}: Arguments must be a msgspec.Struct class")
    return cast("ConverterClass", obj)  # checked above: a concrete subclass of a base


def _label(cls: type) -> str:
    return f"converter {cls.__module__}:{cls.__qualname__}"


def _syntax(exc: SyntaxError, where: str) -> str:
    line = f" line {exc.lineno}" if exc.lineno else ""
    source = f" in {exc.filename}" if exc.filename and exc.filename not in where else ""
    return f"syntax error in {where}{source},{line}: {exc.msg}"


def _last_line(exc: BaseException) -> str:
    return traceback.format_exception_only(exc)[-1].strip()


def _where_raised(exc: BaseException, path: Path) -> str:
    # The deepest frame in the user's file tells the line that raised.
    lineno = None
    for frame in traceback.extract_tb(exc.__traceback__):
        if Path(frame.filename) == path:
            lineno = frame.lineno
    at = f" (line {lineno})" if lineno else ""
    return f"{_last_line(exc)}{at}"
