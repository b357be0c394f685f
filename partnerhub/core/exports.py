"""Spreadsheet exports (CSV now, XLSX later): cells that are safe to open and responses that stream.

Every exported cell that came from a user passes through :func:`safe_cell`: a spreadsheet program
treats a text cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return as a
formula (OWASP "CSV injection"), so such text gets a leading apostrophe and is shown as typed.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from django.http import StreamingHttpResponse
from django.utils.http import content_disposition_header

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")

# Excel reads a UTF-8 file without a byte-order mark as the local code page (garbling ä, ß, ж…).
UTF8_BOM = "\ufeff"


def safe_cell(value: Any) -> Any:
    """Neutralise text a spreadsheet would run as a formula; numbers, dates and None pass unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def safe_row(values: Iterable[Any]) -> list[Any]:
    """:func:`safe_cell` applied to every cell of a row."""
    return [safe_cell(value) for value in values]


class _Echo:
    """A write-only file object that hands each written line back to the caller (no buffering)."""

    def write(self, value: str) -> str:
        return value


def csv_lines(header: Sequence[Any], rows: Iterable[Iterable[Any]]) -> Iterator[str]:
    """The CSV text of a header and rows, one line at a time, every cell through :func:`safe_cell`."""
    writer = csv.writer(_Echo())
    yield UTF8_BOM + writer.writerow([str(cell) for cell in header])
    for row in rows:
        yield writer.writerow(safe_row(row))


def streaming_csv_response(
    filename: str, header: Sequence[Any], rows: Iterable[Iterable[Any]]
) -> StreamingHttpResponse:
    """A CSV download that is written while `rows` is consumed, so memory stays flat for any size."""
    response = StreamingHttpResponse(csv_lines(header, rows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = content_disposition_header(True, filename)
    response["Cache-Control"] = "no-store"
    return response
