"""The sandbox: user converters in a child process, and checked in-process conversions."""

from __future__ import annotations

import logging
import textwrap
from pathlib import Path
from typing import ClassVar

import msgspec
import pytest

from pywats.report_builder import ReportBuilder
from pywats_station.converters import (
    ConversionError,
    ConversionResult,
    Converted,
    ConverterContext,
    Failed,
    FileConverter,
    ScheduledConverter,
    Skipped,
    Suspended,
)
from pywats_station.converters.builtin.wsjf import WsjfConverter
from pywats_station.converters.sandbox import (
    ContextData,
    convert_in_child,
    run_conversion,
    validate_in_child,
)
from tests.fixtures import real_file
from tests.station.converters.helpers import PROCESSES, STATION, make_ctx

# A user converter file; BODY is the body of convert().
TEMPLATE = """
import os, signal, sys, time
from pathlib import Path
from typing import ClassVar

import msgspec

from pywats.report_builder import ReportBuilder
from pywats_station.converters import (
    ConversionError, Converted, ConverterContext, FileConverter, Skipped, Validation,
)


class Args(msgspec.Struct, forbid_unknown_fields=True):
    process: str = "PCBA test"


class UserConverter(FileConverter):
    name: ClassVar[str] = "user"
    Arguments: ClassVar[type[msgspec.Struct]] = Args

    def validate(self, path: Path, ctx: ConverterContext) -> Validation:
        return Validation(confidence=0.75)

    def convert(self, path: Path, ctx: ConverterContext):
{body}
"""

NORMAL = """
        sn = path.read_text().strip()
        print("reading", sn)
        ctx.log.warning("converting %s", sn)
        b = ReportBuilder.uut(pn="PN-1", sn=sn, rev="A",
                              process_code=ctx.process_code(ctx.arguments.process),
                              station=ctx.station.name, location=ctx.station.location,
                              purpose=ctx.station.purpose)
        b.root.numeric("V", 3.3, "GELE", low=3.2, high=3.4, unit="V")
        return Converted(reports=[b.build()])
"""


def child(tmp_path: Path, body: str, **kwargs: object) -> ConversionResult:
    (tmp_path / "conv.py").write_text(
        TEMPLATE.format(body=textwrap.indent(textwrap.dedent(body), " " * 8))
    )
    target = tmp_path / "input.txt"
    target.write_text("SN-42\n")
    data = ContextData(station=STATION, processes=PROCESSES, arguments={})
    options: dict[str, object] = {"timeout": 20.0, "memory_mb": 512, **kwargs}
    return convert_in_child("conv.py", tmp_path, target, data, **options)  # type: ignore[arg-type]


def test_a_user_converter_works_through_the_child(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    result = child(tmp_path, NORMAL)
    assert isinstance(result, Converted), result
    (report,) = result.reports
    assert (report.sn, report.process_code, report.machine_name) == ("SN-42", 50, "FCT-1")
    assert len(report.steps()) == 2
    # print() and the converter's log reach the station log, not the reply.
    assert "reading SN-42" in caplog.text
    assert any(
        r.levelno == logging.WARNING and "converting SN-42" in r.message for r in caplog.records
    )


def test_an_exception_names_its_type_and_message(tmp_path: Path) -> None:
    result = child(tmp_path, "raise ValueError('column 3 is empty')")
    assert result == Failed(reason="converter raised ValueError: column 3 is empty")


def test_conversion_error_is_the_reason(tmp_path: Path) -> None:
    result = child(tmp_path, "raise ConversionError('line 7: no serial number')")
    assert result == Failed(reason="line 7: no serial number")


def test_a_hanging_converter_times_out(tmp_path: Path) -> None:
    result = child(tmp_path, "time.sleep(60)", timeout=1.5)
    assert result == Failed(reason="converter timed out after 1.5 s")


def test_a_converter_that_exits_the_interpreter(tmp_path: Path) -> None:
    assert child(tmp_path, "os._exit(3)") == Failed(reason="converter process exited with code 3")
    assert child(tmp_path, "sys.exit(5)") == Failed(reason="converter called sys.exit(5)")


def test_a_converter_that_eats_memory(tmp_path: Path) -> None:
    result = child(
        tmp_path,
        "blob = bytearray(8 * 1024**3)\nreturn Skipped(reason=str(len(blob)))",
        memory_mb=256,
    )
    assert result == Failed(reason="converter ran out of memory (limit 256 MB)")


def test_a_converter_killed_by_a_signal(tmp_path: Path) -> None:
    result = child(tmp_path, "os.kill(os.getpid(), signal.SIGKILL)", memory_mb=300)
    assert result == Failed(reason="converter was killed by signal 9 (memory limit 300 MB?)")


def test_a_converter_that_writes_garbage_to_stdout(tmp_path: Path) -> None:
    result = child(tmp_path, "os.write(1, b'garbage!')\nreturn Skipped(reason='x')")
    assert isinstance(result, Failed)
    assert result.reason.startswith("converter process wrote unreadable output to stdout (")
    assert "it began b'garbage!" in result.reason


def test_a_converter_that_exits_without_a_reply(tmp_path: Path) -> None:
    result = child(tmp_path, "sys.stdout.flush()\nos._exit(0)")
    assert result == Failed(reason="converter process exited without a result")


def test_load_and_argument_errors_come_back_as_failed(tmp_path: Path) -> None:
    result = child(tmp_path, "return Skipped(reason='x')\n  bad indent")
    assert isinstance(result, Failed)
    assert "syntax error in converter file" in result.reason
    (tmp_path / "ok.py").write_text(TEMPLATE.format(body="        return Skipped(reason='x')"))
    data = ContextData(station=STATION, arguments={"colour": "red"})
    bad_args = convert_in_child("ok.py", tmp_path, tmp_path / "ok.py", data, timeout=20)
    assert isinstance(bad_args, Failed)
    assert bad_args.reason.startswith("arguments.colour: unknown argument")


def test_validate_in_child(tmp_path: Path) -> None:
    child(tmp_path, "return Skipped(reason='x')")  # writes conv.py and input.txt
    data = ContextData(station=STATION)
    v = validate_in_child("conv.py", tmp_path, tmp_path / "input.txt", data, timeout=20)
    assert v.confidence == 0.75
    broken = validate_in_child("nope.py", tmp_path, tmp_path / "input.txt", data, timeout=20)
    assert broken.confidence == 0.0
    assert broken.message is not None
    assert "nope.py not found" in broken.message


# --- in process -----------------------------------------------------------------------------


class Scripted(FileConverter):
    """Returns (or raises) whatever the test put in ``outcome``."""

    outcome: ClassVar[object] = None

    def convert(self, path: Path, ctx: ConverterContext) -> ConversionResult:
        if isinstance(self.outcome, BaseException):
            raise self.outcome
        return self.outcome  # type: ignore[return-value]


def scripted(outcome: object, **kwargs: object) -> ConversionResult:
    Scripted.outcome = outcome
    return run_conversion(Scripted(), Path("input.txt"), make_ctx(Scripted), **kwargs)  # type: ignore[arg-type]


def valid_report() -> object:
    b = ReportBuilder.uut(pn="P", sn="S", rev="A", process_code=10, station="ST", location="L",
                          purpose="Production")  # fmt: skip
    b.root.numeric("V", 1.0, "GE", low=0.5)
    return b.build()


def test_run_conversion_passes_results_through() -> None:
    report = valid_report()
    assert scripted(Converted(reports=[report])) == Converted(reports=[report])  # type: ignore[list-item]
    assert scripted(Skipped(reason="log")) == Skipped(reason="log")
    assert scripted(Suspended(reason="wait", retry_after=3)) == Suspended(
        reason="wait", retry_after=3
    )


def test_run_conversion_turns_exceptions_into_failed() -> None:
    assert scripted(KeyError("sn")) == Failed(reason="converter raised KeyError: 'sn'")
    assert scripted(ConversionError("line 2: bad")) == Failed(reason="line 2: bad")
    assert scripted(MemoryError()) == Failed(reason="converter ran out of memory")
    assert scripted(SystemExit(2)) == Failed(reason="converter called sys.exit(2)")


def test_run_conversion_refuses_other_return_values() -> None:
    assert scripted(None) == Failed(
        reason="converter returned NoneType, not Converted, Skipped, Suspended or Failed"
    )
    assert scripted(Converted(reports=[])) == Failed(
        reason="converter returned Converted without any report"
    )


def test_run_conversion_validates_every_report() -> None:
    good = valid_report()
    bad = msgspec.structs.replace(good, sn="", result="X")  # type: ignore[type-var]
    result = scripted(Converted(reports=[good, bad]))  # type: ignore[list-item]
    assert isinstance(result, Failed)
    assert result.reason.startswith("invalid report: report 2 of 2 (sn '')")
    assert "sn" in result.reason
    assert "result" in result.reason


def test_strict_applies_the_server_rules() -> None:
    path = real_file("wsjf", "uut-wsjf-export.json")
    lenient = run_conversion(WsjfConverter(), path, make_ctx(WsjfConverter))
    assert isinstance(lenient, Converted)
    strict = run_conversion(WsjfConverter(), path, make_ctx(WsjfConverter, {"strict": True}))
    assert isinstance(strict, Failed)
    assert "and 40 more" in strict.reason  # 50 problems, 10 named
    forced = run_conversion(WsjfConverter(), path, make_ctx(WsjfConverter), strict=True)
    assert isinstance(forced, Failed)


def test_a_scheduled_converter_may_convert_nothing() -> None:
    class Poll(ScheduledConverter):
        def run(self, ctx: ConverterContext) -> ConversionResult:
            return Converted(reports=[])

    assert run_conversion(Poll(), None, make_ctx(Poll)) == Converted(reports=[])
    assert run_conversion(Scripted(), None, make_ctx(Scripted)) == Failed(
        reason="Scripted: no file or folder to convert"
    )


def test_an_oversized_reply_is_cut_off() -> None:
    import subprocess
    import sys

    from pywats_station.converters.sandbox import _exchange

    code = "import sys; sys.stdin.read(); sys.stdout.write('x' * 300000); sys.stdout.flush()"
    with subprocess.Popen(
        [sys.executable, "-c", code],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    ) as proc:
        out, _, outcome = _exchange(proc, b"{}", timeout=20, max_reply=100_000)
    assert (out, outcome) == (b"", "too big")
    assert proc.returncode is not None
