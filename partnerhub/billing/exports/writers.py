"""Writing a dataset's rows as CSV (streamed, via ``partnerhub.core.exports``) or XLSX (openpyxl).

Both formats hold the same cells: user text through :func:`partnerhub.core.exports.safe_cell`
(formula injection), amounts rounded to the row's currency. CSV writes amounts as plain decimal
strings (``347.20``) and times as local ``YYYY-MM-DD HH:MM:SS``; XLSX writes numeric cells with a
number format, and real date / date-time cells.

Rows are read with ``QuerySet.iterator(chunk_size=…)``: memory and query count stay flat whatever
the size. openpyxl's write-only workbook spools rows to a temporary file as they are appended.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from datetime import date, datetime
from decimal import Decimal
from typing import IO, Any

from django.db.models import QuerySet
from django.utils import timezone

# openpyxl ships no type hints (types-openpyxl is not a dependency).
from openpyxl import Workbook  # type: ignore[import-untyped]
from openpyxl.cell import WriteOnlyCell  # type: ignore[import-untyped]
from openpyxl.styles import Font  # type: ignore[import-untyped]
from openpyxl.utils import get_column_letter  # type: ignore[import-untyped]
from openpyxl.worksheet._write_only import WriteOnlyWorksheet  # type: ignore[import-untyped]

from partnerhub.billing.exports.columns import Column, Dataset
from partnerhub.core.exports import csv_lines, safe_cell
from partnerhub.core.money import MINOR_UNITS, round_money

CHUNK_SIZE = 500
# How often a background export reports its progress (rows).
PROGRESS_EVERY = 500
CSV_CONTENT_TYPE = "text/csv; charset=utf-8"
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DATE_FORMAT = "yyyy-mm-dd"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm:ss"
WIDTHS = {"text": 24, "int": 10, "amount": 14, "date": 12, "datetime": 20}
# XML 1.0 cannot carry these control characters; openpyxl refuses them (CSV keeps them).
_ILLEGAL_XML = re.compile(r"[\000-\010]|[\013-\014]|[\016-\037]")
_SHEET_TITLE_FORBIDDEN = re.compile(r"[\\/*?:\[\]]")

Progress = Callable[[int], None]


def rows_of(rows: QuerySet[Any]) -> Iterator[Any]:
    """The objects of `rows`, fetched in chunks (one query, no result cache)."""
    return rows.iterator(chunk_size=CHUNK_SIZE)


def _local(moment: datetime) -> datetime:
    """A naive local time: spreadsheets have no time zones (openpyxl refuses aware values)."""
    return timezone.localtime(moment).replace(tzinfo=None) if timezone.is_aware(moment) else moment


def _rounded(column: Column, obj: Any, value: Decimal) -> Decimal:
    assert column.currency is not None
    return round_money(value, column.currency(obj))


# --- CSV ---------------------------------------------------------------------------------------------


def csv_value(column: Column, obj: Any) -> Any:
    """The CSV text (or number) of one cell; `csv_lines` applies ``safe_cell`` to it."""
    value = column.get(obj)
    if value is None:
        return ""
    if column.kind == "amount":
        # A Decimal quantized to the minor unit prints as plain digits ("347.20", "-5.00"): numbers
        # are not text, so a negative amount is not mistaken for a formula and prefixed.
        return _rounded(column, obj, value)
    if column.kind == "datetime":
        return _local(value).strftime("%Y-%m-%d %H:%M:%S")
    if column.kind == "date":
        return value.isoformat()
    return value if column.kind == "int" else str(value)


def csv_rows(dataset: Dataset, objects: Iterable[Any], progress: Progress | None = None) -> Iterator[list[Any]]:
    for count, obj in enumerate(objects, start=1):
        yield [csv_value(column, obj) for column in dataset.columns]
        if progress is not None and count % PROGRESS_EVERY == 0:
            progress(count)


def csv_text(dataset: Dataset, objects: Iterable[Any], progress: Progress | None = None) -> Iterator[str]:
    """The CSV lines of a dataset (header first), one at a time."""
    return csv_lines(dataset.headers, csv_rows(dataset, objects, progress))


def write_csv(target: IO[bytes], dataset: Dataset, objects: Iterable[Any], progress: Progress | None = None) -> None:
    for line in csv_text(dataset, objects, progress):
        target.write(line.encode("utf-8"))


# --- XLSX --------------------------------------------------------------------------------------------


def _amount_format(currency: str) -> str:
    places = MINOR_UNITS.get(currency, 2)
    return "#,##0." + "0" * places if places else "#,##0"


def xlsx_cell(sheet: WriteOnlyWorksheet, column: Column, obj: Any) -> Any:
    """A typed cell: numbers stay numeric (Decimal, never float text), dates are date cells."""
    value = column.get(obj)
    if value is None:
        return None
    if column.kind == "amount":
        assert column.currency is not None
        currency = column.currency(obj)
        cell = WriteOnlyCell(sheet, value=round_money(value, currency))
        cell.number_format = _amount_format(currency)
        return cell
    if column.kind == "datetime":
        cell = WriteOnlyCell(sheet, value=_local(value))
        cell.number_format = DATETIME_FORMAT
        return cell
    if column.kind == "date":
        cell = WriteOnlyCell(sheet, value=value if isinstance(value, date) else date.fromisoformat(str(value)))
        cell.number_format = DATE_FORMAT
        return cell
    if column.kind == "int":
        return int(value)
    return safe_cell(_ILLEGAL_XML.sub("", str(value)))


def sheet_title(dataset: Dataset) -> str:
    """The dataset's name as a valid worksheet title (at most 31 characters, no []:*?/\\)."""
    return _SHEET_TITLE_FORBIDDEN.sub(" ", str(dataset.label))[:31] or dataset.key


def write_xlsx(target: IO[bytes], dataset: Dataset, objects: Iterable[Any], progress: Progress | None = None) -> None:
    """An XLSX workbook of one sheet: a bold header row, then one row per object."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=sheet_title(dataset))
    for index, column in enumerate(dataset.columns, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = WIDTHS[column.kind]
    sheet.freeze_panes = "A2"
    bold = Font(bold=True)
    header = []
    for title in dataset.headers:
        cell = WriteOnlyCell(sheet, value=safe_cell(title))
        cell.font = bold
        header.append(cell)
    sheet.append(header)
    for count, obj in enumerate(objects, start=1):
        sheet.append([xlsx_cell(sheet, column, obj) for column in dataset.columns])
        if progress is not None and count % PROGRESS_EVERY == 0:
            progress(count)
    workbook.save(target)


WRITERS: dict[str, Callable[[IO[bytes], Dataset, Iterable[Any], Progress | None], None]] = {
    "csv": write_csv,
    "xlsx": write_xlsx,
}
