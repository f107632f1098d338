"""Byte-level mutations shared by the fuzz tests: how a file or a frame gets broken in transit.

A mutation is plain data (so hypothesis prints it, and an ``@example`` can pin it): a list of
edits applied in order, each at a position given as a fraction of the input in 10,000ths, so one
edit reads the same on inputs of any length.
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

__all__ = ["EDITS", "Edit", "apply"]

Edit = tuple[Any, ...]

_AT = st.integers(0, 10_000)
# Bytes that matter to the formats here: structure (JSON, XML, CSV, TOML), escapes, encodings.
_TOKENS = st.sampled_from(
    [
        b"{",
        b"}",
        b"[",
        b"]",
        b'"',
        b"\\",
        b"\\u",
        b"\\ud800",
        b",",
        b":",
        b"<",
        b">",
        b"</",
        b"/>",
        b"&",
        b"&#0;",
        b"&#x110000;",
        b"<![CDATA[",
        b"]]>",
        b"<!DOCTYPE x [<!ENTITY e 'e'>]>",
        b"<?xml version='1.0' encoding='utf-16'?>",
        b"\x00",
        b"\xff\xfe",
        b"\xef\xbb\xbf",
        b"\xc3",
        b"\r",
        b"\n",
        b"\t",
        b";",
        b"=",
        b"1e999",
        b"-0",
        b"NaN",
        b"null",
        b"true",
        b"9" * 400,
        b"18446744073709551616",
    ]
)
EDITS = st.lists(
    st.one_of(
        st.tuples(st.just("cut"), _AT),
        st.tuples(st.just("flip"), _AT, st.integers(1, 255)),
        st.tuples(st.just("insert"), _AT, _TOKENS | st.binary(min_size=1, max_size=8)),
        st.tuples(st.just("delete"), _AT, st.integers(1, 64)),
        st.tuples(st.just("repeat"), _AT, st.integers(1, 64), st.integers(2, 50)),
        st.tuples(st.just("swap"), _AT, _AT, st.integers(1, 64)),
    ),
    min_size=1,
    max_size=5,
)


def _at(fraction: int, length: int) -> int:
    return min(length, length * fraction // 10_000)


def apply(data: bytes, edits: list[Edit]) -> bytes:
    """``data`` with ``edits`` applied in order."""
    out = bytearray(data)
    for edit in edits:
        what, where = edit[0], _at(edit[1], len(out))
        if what == "cut":
            del out[where:]
        elif what == "flip" and out:
            out[min(where, len(out) - 1)] ^= edit[2]
        elif what == "insert":
            out[where:where] = edit[2]
        elif what == "delete":
            del out[where : where + edit[2]]
        elif what == "repeat":
            piece = bytes(out[where : where + edit[2]])
            out[where:where] = piece * (edit[3] - 1)
        elif what == "swap":
            other = _at(edit[2], len(out))
            a, b = sorted((where, other))
            size = min(edit[3], b - a)
            if size > 0:
                first, second = bytes(out[a : a + size]), bytes(out[b : b + size])
                out[b : b + size], out[a : a + size] = first, second
    return bytes(out)
