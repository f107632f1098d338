"""WSXF, the WATS Standard XML Format: the XML twin of WSJF, for test (UUT) reports.

A document is ``<Reports>`` (namespace :data:`NAMESPACE`) holding one or more ``<Report>``
elements. :func:`loads` reads a document with one report, :func:`loads_all` any number;
:func:`dumps` writes one report. Only UUT reports are supported: the repair (UUR) form of WSXF
is not in any data we have, so it is refused both ways; use :mod:`pywats.formats.wsjf` for it.

Mapping to the model (the real server export is the ground truth)::

    Report  type="UUT"→T  ID  Start  Start_utc  Result  SN  PN  Rev  origin  MachineName
            Location  Purpose  ProductName
    UUT     UserLoginName→user  BatchSN  TestSocketIndex  ExecutionTime→exec_time  FixtureId
            ErrorCode  ErrorMessage  BatchFailCount  StepIdCausedUUTFailure;  <Comment> text
    Process Code→process_code  Name→process_name
    MiscInfo  Description  Typedef  Numeric  (text)→text            [idx, order_no derived]
    ReportUnitHierarchy  PartType  PN  SN  Rev  Position           (one per sub-unit)
    Step    Id  Group  Name  StepType  Status  total_time→tot_time  StepErrorCode
            StepErrorMessage  StepCausedUUTFailure;  <ReportText> text; child <Step>s nest
            inside                                                 [StepIndex derived]
    Loop    index→idx | num  passed  failed  ending_index
    SequenceCall  Name  Version  Filepath→path                     [Filename, MeasIndex derived]
    NumericLimit  Name  NumericValue→value  Units→unit  CompOperator  LowLimit  HighLimit  Status
    PassFail      Name  Status
    StringValue   Name  StringValue→value  StringLimit→limit  CompOperator  Status
                                                        [MeasIndex, MeasOrderNumber derived]
    MessagePopup  Button  Response;  Callexe  ExitCode             [MeasIndex derived]
    Chart   ChartType  Label  XLabel  XUnit  YLabel  YUnit         [idx derived]
      Series  Name  DataType;  <xdata>/<ydata> text

Statuses and results are full words (``Passed``, ``Failed``, ``Done``, ``Skipped``, ``Error``,
``Terminated``, ``Unknown``), groups ``Main``/``Setup``/``Cleanup``; GUIDs are written upper-case;
floats are written in their shortest round-trip form (``repr``), NaN/infinity as ``NaN``/``INF``.
Derived attributes are ignored on read and recomputed on write.

Lossy by nature of the format:

* an empty attribute reads as absent (the server writes ``Units=""`` for a ``null`` unit), and
  an empty ``misc_infos``/``sub_units`` list cannot be told from a missing one (read as ``[]``);
* model members without a WSXF form in the real export are not written: the ``*Format``
  members, ``assets``, ``assetStats``, ``binaryData``, ``additionalData``, ``uut.batchLoopIndex``,
  ``uut.refUURs``, misc-info ``id``, sub-unit ``idx``/``parentIdx``/``replacedIdx``/``failures``,
  and the step members ``start``, ``tsGuid``, ``interactiveExeNum``, ``causedSeqFailure``,
  ``attachment`` and ``additionalResults``.

Documents with a DOCTYPE are refused (no DTDs, no entity declarations: no XML bombs), and so
are documents nesting more than :data:`MAX_NESTING` elements (``<Reports>`` included; the real
export nests 8): the parser stops at the first element too deep, before the reader recurses.
"""

from __future__ import annotations

from pywats._errors import ReportFormatError
from pywats.formats._nesting import MAX_XML_NESTING
from pywats.formats._wsxf_read import NAMESPACE, read_reports
from pywats.formats._wsxf_write import write_report
from pywats.models.report import UURReport, UUTReport

__all__ = ["MAX_NESTING", "NAMESPACE", "dumps", "loads", "loads_all"]

MAX_NESTING = MAX_XML_NESTING
"""The most XML elements a WSXF document may nest inside each other (128)."""


def loads(data: bytes | str) -> UUTReport | UURReport:
    """Decode a WSXF document holding exactly one report.

    Raises:
        ReportFormatError: the document is not well-formed XML (the message gives line and
            column), has a DOCTYPE, nests more than :data:`MAX_NESTING` elements, is not
            ``<Reports>``, holds no report or several (use
            :func:`loads_all`), holds a repair report, or an attribute has the wrong form (the
            message names the element and attribute).
    """
    reports = read_reports(data)
    if len(reports) != 1:
        if not reports:
            raise ReportFormatError("the WSXF document holds no <Report> element")
        raise ReportFormatError(
            f"the WSXF document holds {len(reports)} reports; use wsxf.loads_all() to read them all"
        )
    return reports[0]


def loads_all(data: bytes | str) -> list[UUTReport | UURReport]:
    """Decode every report of a WSXF document, in document order (an empty list if none).

    Raises:
        ReportFormatError: as for :func:`loads`, apart from the report count.
    """
    return list(read_reports(data))


def dumps(report: UUTReport | UURReport) -> bytes:
    """Encode a test report as a WSXF document (UTF-8 bytes with an XML declaration).

    Raises:
        ReportFormatError: ``report`` is a repair report, holds a status or group letter that
            has no WSXF word, holds a character XML cannot represent, or nests its steps too
            deeply to fit in :data:`MAX_NESTING` elements.
    """
    if isinstance(report, UURReport):
        raise ReportFormatError(
            "WSXF repair reports are not supported; use WSJF (pywats.formats.wsjf.dumps)"
        )
    return write_report(report)
