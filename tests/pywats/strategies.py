"""Hypothesis strategies for random but valid WSJF reports, made with the report builder.

* :func:`uut_reports`: test reports with nested sequences, every step kind, numeric and sequence
  loops, odd (XML-valid) unicode in names and texts, and extreme finite floats;
* :func:`uur_reports`: repair reports, standalone or repairing a generated test report;
* :data:`reports`: either.

Every generated report has passed ``build()``, so it validates with zero problems (server rules
included). Sibling steps get distinct names: the server pairs loop iterations with their summary
by name, so two siblings sharing a name would be read as one loop.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from hypothesis import strategies as st

from pywats import CompOp, Measure, ReportBuilder, StringMeasure, UURReport, UUTReport
from pywats.models.report import (
    NUMERIC_OPS,
    STRING_OPS,
    ChartSeries,
    ChartType,
    StepGroup,
    StepStatus,
)
from pywats.report_builder import NumericLoop, SequenceBuilder, StepHandle, StepOptions

__all__ = [
    "extreme_floats",
    "names",
    "numeric_args",
    "reports",
    "string_args",
    "texts",
    "uur_reports",
    "uut_reports",
]

MAX_DEPTH = 3

# XML 1.0 carries every character except controls other than tab/LF/CR, surrogates and
# U+FFFE/U+FFFF; JSON carries them too.
_xml_chars = st.characters(
    codec="utf-8",
    exclude_categories=("Cs", "Cc"),
    include_characters="\t\n\r",
    exclude_characters="\ufffe\uffff",
)
_odd = st.sampled_from(
    [
        "Ω≈ç√∫",
        "名前テスト",
        "🔥 step 😀",
        "e\u0301te\u0301",  # combining accents
        "<tag> & \"quote\" 'apos'",
        "tab\there",
        "line\nbreak\r\n",
        "\u200b zero width \u200d",
        "\u202eright-to-left",
        "\U0001d54f\U0001d550",  # astral plane letters
        "back\\slash /",
        "ÅÄÖ åäö",
    ]
)


def texts(max_size: int = 30) -> st.SearchStrategy[str]:
    """Non-blank XML-valid text of at most ``max_size`` characters, often odd unicode."""
    plain = st.text(_xml_chars, min_size=1, max_size=max_size)
    return st.one_of(_odd.filter(lambda s: len(s) <= max_size), plain).filter(
        lambda s: bool(s.strip())
    )


names = texts(40)
"""Step and measurement names."""

_ident = st.text(
    st.characters(categories=("L", "Nd"), include_characters="-_.", codec="utf-8"),
    min_size=1,
    max_size=50,
).filter(lambda s: bool(s.strip()))

extreme_floats = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from(
        [
            0.0,
            -0.0,
            5e-324,
            -5e-324,
            2.2250738585072014e-308,
            1.7976931348623157e308,
            -1.7976931348623157e308,
            1e-300,
            0.1,
            1e16 + 1,
        ]
    ),
)
"""Finite doubles, with the extremes (subnormals, ±max, negative zero) drawn often."""


@st.composite
def numeric_args(draw: st.DrawFn) -> tuple[CompOp, float, float | None, float | None]:
    """(operator, value, low, high) valid for a numeric measurement; limits often on the value."""
    op = draw(st.sampled_from(sorted(NUMERIC_OPS)))
    value = draw(extreme_floats)
    limit = st.one_of(st.just(value), extreme_floats)
    if op.limit_count == 0:
        return op, value, None, None
    if op.limit_count == 1:
        return op, value, draw(limit), None
    low, high = sorted([draw(limit), draw(limit)])
    return op, value, low, high


@st.composite
def string_args(draw: st.DrawFn) -> tuple[CompOp, str, str | None]:
    """(operator, value, limit) valid for a string measurement."""
    op = draw(st.sampled_from(sorted(STRING_OPS)))
    value = draw(st.one_of(texts(20), st.just("")))
    if op is CompOp.LOG:
        return op, value, None
    limit = draw(st.one_of(st.just(value), st.just(value.upper()), texts(20)))
    return op, value, limit


@st.composite
def _options(draw: st.DrawFn) -> StepOptions:
    options: StepOptions = {}
    if draw(st.booleans()):
        options["group"] = draw(st.sampled_from(list(StepGroup)))
    if draw(st.booleans()):
        options["report_text"] = draw(texts(60))
    if draw(st.booleans()):
        options["tot_time"] = draw(st.floats(min_value=0, max_value=1e6))
    if draw(st.integers(0, 5)) == 0:
        options["fail_parent"] = False
    if draw(st.integers(0, 5)) == 0:
        options["error_code"] = draw(st.integers(-(2**31), 2**31 - 1))
        options["error_message"] = draw(texts(60))
    return options


def _series(draw: st.DrawFn) -> list[ChartSeries]:
    count = draw(st.integers(1, 3))
    out = []
    for name in draw(st.lists(names, min_size=count, max_size=count, unique=True)):
        size = draw(st.integers(0, 8))
        ys = draw(st.lists(extreme_floats, min_size=size, max_size=size))
        xs = draw(st.none() | st.lists(extreme_floats, min_size=size, max_size=size))
        out.append(ChartSeries.from_points(name, xs, ys))
    return out


def _measures(draw: st.DrawFn, min_size: int = 1) -> list[Measure]:
    out = []
    for name in draw(st.lists(names, min_size=min_size, max_size=4, unique=True)):
        op, value, low, high = draw(numeric_args())
        unit = draw(st.none() | texts(8))
        out.append(Measure(name, value, op, low=low, high=high, unit=unit))
    return out


_LEAF_KINDS = (
    "numeric",
    "multi_numeric",
    "pass_fail",
    "multi_pass_fail",
    "string",
    "multi_string",
    "chart",
    "call_exe",
    "message_popup",
    "action",
    "numeric_loop",
)
_KINDS = (*_LEAF_KINDS, "sequence", "sequence", "sequence_loop")


def _add_leaf(draw: st.DrawFn, seq: SequenceBuilder, name: str, kind: str) -> None:
    opts = draw(_options())
    handle: StepHandle | NumericLoop | None = None
    if kind == "numeric":
        op, value, low, high = draw(numeric_args())
        skip = draw(st.sampled_from([None, None, None, StepStatus.SKIPPED]))
        handle = seq.numeric(name, value, op, low=low, high=high, unit="V", status=skip, **opts)
    elif kind == "multi_numeric":
        handle = seq.multi_numeric(name, _measures(draw), **opts)
    elif kind == "pass_fail":
        handle = seq.pass_fail(name, draw(st.booleans()), **opts)
    elif kind == "multi_pass_fail":
        keys = draw(st.lists(names, min_size=1, max_size=4, unique=True))
        handle = seq.multi_pass_fail(name, {k: draw(st.booleans()) for k in keys}, **opts)
    elif kind == "string":
        sop, text_value, limit = draw(string_args())
        handle = seq.string(name, text_value, sop, limit=limit, **opts)
    elif kind == "multi_string":
        keys = draw(st.lists(names, min_size=1, max_size=3, unique=True))
        measures = []
        for key in keys:
            sop, text_value, limit = draw(string_args())
            measures.append(StringMeasure(key, text_value, sop, limit=limit))
        handle = seq.multi_string(name, measures, **opts)
    elif kind == "chart":
        # No handle kept: a chart step takes no attachment.
        seq.chart(
            name,
            _series(draw),
            chart_type=draw(st.sampled_from(list(ChartType))),
            label=draw(st.none() | texts(20)),
            x_label="x",
            y_unit=draw(st.none() | texts(5)),
            measures=_measures(draw, 0) if draw(st.booleans()) else [],
            **opts,
        )
    elif kind == "call_exe":
        handle = seq.call_exe(name, draw(st.integers(-255, 255)), **opts)
    elif kind == "message_popup":
        response = draw(st.none() | texts(20))
        handle = seq.message_popup(name, response=response, button=draw(st.integers(0, 5)), **opts)
    elif kind == "action":
        status = draw(st.sampled_from([None, None, "P", "F", "E", "T", "S", "U"]))
        opts["step_type"] = draw(st.sampled_from(["Action", "NI_Wait", "Label", "ET_A"]))
        handle = seq.action(name, status=status, **opts)
    else:
        op, value, low, high = draw(numeric_args())
        values = draw(st.lists(extreme_floats, min_size=1, max_size=4))
        handle = seq.numeric_loop(name, [value, *values], op, low=low, high=high, unit="A", **opts)
    if handle is not None and draw(st.integers(0, 6)) == 0:
        handle.attach(draw(texts(20)), draw(st.binary(max_size=64)), "application/octet-stream")


def _fill(draw: st.DrawFn, seq: SequenceBuilder, depth: int) -> None:
    kinds = _KINDS if depth < MAX_DEPTH else _LEAF_KINDS
    for name in draw(st.lists(names, max_size=5 if depth < MAX_DEPTH else 3, unique=True)):
        kind = draw(st.sampled_from(kinds))
        if kind == "sequence":
            status = draw(st.sampled_from([None, None, None, "E", "T", "D"]))
            child = seq.sequence(
                name,
                path=draw(st.none() | texts(40)),
                version=draw(st.none() | st.just("1.0.0")),
                status=status,
                **draw(_options()),
            )
            _fill(draw, child, depth + 1)
        elif kind == "sequence_loop":
            _sequence_loop(draw, seq, name)
        else:
            _add_leaf(draw, seq, name, kind)


def _sequence_loop(draw: st.DrawFn, seq: SequenceBuilder, name: str) -> None:
    # Every iteration holds the same children with the same limits; only outcomes differ.
    loop = seq.sequence_loop(name, **draw(_options()))
    plan = [
        (child, draw(st.sampled_from(["numeric", "pass_fail", "string"])))
        for child in draw(st.lists(names, min_size=1, max_size=3, unique=True))
    ]
    limits = {child: (draw(numeric_args()), draw(string_args())) for child, _ in plan}
    for _ in range(draw(st.integers(1, 3))):
        iteration = loop.iteration()
        for child, kind in plan:
            (op, _, low, high), (sop, _, limit) = limits[child]
            if kind == "numeric":
                value = draw(extreme_floats)
                iteration.numeric(child, value, op, low=low, high=high)
            elif kind == "pass_fail":
                iteration.pass_fail(child, draw(st.booleans()))
            else:
                value_text = draw(st.one_of(st.just(limit or "x"), texts(10)))
                iteration.string(child, value_text, sop, limit=limit)


_offsets = st.integers(-12 * 4, 14 * 4).map(lambda q: timezone(timedelta(minutes=15 * q)))
_starts = st.datetimes(
    min_value=datetime(1971, 1, 1), max_value=datetime(2100, 1, 1), timezones=_offsets
)


@st.composite
def uut_reports(draw: st.DrawFn) -> UUTReport:
    """A built, valid test report."""
    b = ReportBuilder.uut(
        pn=draw(_ident),
        sn=draw(_ident),
        rev=draw(_ident.map(lambda s: s[:10])),
        process_code=draw(st.integers(1, 10_000)),
        station=draw(texts(50)),
        location=draw(texts(100)),
        purpose=draw(st.sampled_from(["Production", "Development", "Débogage ✓"])),
        operator=draw(st.none() | texts(128)),
        start=draw(_starts),
    )
    if draw(st.booleans()):
        b.sequence_info(path=draw(texts(100)), name=draw(texts(100)), version="1.2.3")
    _fill(draw, b.root, 0)
    for description in draw(st.lists(texts(50), max_size=3, unique=True)):
        numeric = draw(st.none() | st.integers(-(2**31), 2**31 - 1))
        b.misc_info(description, draw(st.none() | texts(255)), numeric=numeric)
    for _ in range(draw(st.integers(0, 2))):
        b.sub_unit(draw(texts(50)), pn=draw(_ident), sn=draw(_ident), rev="A")
    for serial in draw(st.lists(_ident, max_size=2, unique=True)):
        b.asset(serial, draw(st.integers(0, 1000)))
    if draw(st.booleans()):
        b.details(comment=draw(texts(200)), exec_time=draw(st.floats(0, 1e6)), fixture_id="F-1")
    if draw(st.integers(0, 5)) == 0:
        b.result(draw(st.sampled_from(["E", "T"])))
    return b.build()


@st.composite
def uur_reports(draw: st.DrawFn) -> UURReport:
    """A built, valid repair report, standalone or repairing a generated test report."""
    process_code = draw(st.integers(500, 599))
    station = draw(texts(50))
    location = draw(texts(100))
    operator = draw(st.none() | texts(128))
    start = draw(_starts)
    uut = draw(st.none() | uut_reports())
    if uut is not None:
        b = ReportBuilder.uur(
            repairing=uut,
            process_code=process_code,
            station=station,
            location=location,
            operator=operator,
            start=start,
        )
        step_ids = [s.id for s in uut.steps() if s.id is not None]
    else:
        b = ReportBuilder.uur(
            pn=draw(_ident),
            sn=draw(_ident),
            rev="B",
            test_process_code=draw(st.integers(1, 499)),
            process_code=process_code,
            station=station,
            location=location,
            operator=operator,
            start=start,
        )
        step_ids = [0]
    idxs = [0]
    for _ in range(draw(st.integers(0, 2))):
        parent = draw(st.sampled_from(idxs))
        idxs.append(
            b.sub_unit(
                draw(texts(50)), pn=draw(_ident), sn=draw(_ident), rev="1", parent_idx=parent
            )
        )
    for _ in range(draw(st.integers(0, 3))):
        failure = b.failure(
            draw(texts(30)),
            draw(texts(30)),
            com_ref=draw(st.none() | st.sampled_from(["U1", "R12", "C3"])),
            ref_step=draw(st.none() | st.sampled_from(step_ids)),
            comment=draw(st.none() | texts(100)),
            unit_idx=draw(st.sampled_from(idxs)),
        )
        if draw(st.booleans()):
            failure.attach(draw(texts(20)), draw(st.binary(max_size=64)), "image/png")
    if draw(st.booleans()):
        b.attach(draw(texts(20)), draw(st.binary(max_size=128)), "text/plain")
    if draw(st.booleans()):
        b.details(
            comment=draw(texts(300)),
            exec_time=draw(st.floats(0, 1e5)),
            confirm_date=datetime(2026, 3, 2, tzinfo=UTC),
        )
    return b.build()


reports: st.SearchStrategy[UUTReport | UURReport] = st.one_of(uut_reports(), uur_reports())
"""Any valid report."""
