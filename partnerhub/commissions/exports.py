"""The commission ledger as CSV or XLSX: the list's rows with its current filters, newest first.

Rows are read in chunks (``QuerySet.iterator``): memory and query count stay flat for any size. Text
cells pass through ``safe_cell`` (formula injection); amounts stay numbers in both formats (a
negative reversal is a number, not text), dates are real dates in XLSX.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal
from typing import IO, Any

from django.db.models import QuerySet
from django.http import FileResponse, HttpResponseBase
from django.utils import timezone, translation
from django.utils.translation import gettext as _

# openpyxl ships no type hints (types-openpyxl is not a dependency).
from openpyxl import Workbook  # type: ignore[import-untyped]
from openpyxl.cell import WriteOnlyCell  # type: ignore[import-untyped]
from openpyxl.styles import Font  # type: ignore[import-untyped]

from partnerhub.commissions.models import EntryStatus, EntryType, LedgerEntry
from partnerhub.core.exports import safe_cell, streaming_csv_response
from partnerhub.core.money import MINOR_UNITS, round_money

FORMATS = ("csv", "xlsx")
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CHUNK = 1000


def header() -> list[str]:
    return [
        _("Entry"),
        _("Event date"),
        _("Type"),
        _("Customer"),
        _("Customer short name"),
        _("Product"),
        _("Category"),
        _("Currency"),
        _("Base amount"),
        _("Rate (%)"),
        _("Tier"),
        _("Commission"),
        _("Status"),
        _("Reverses entry"),
    ]


def _local(moment: datetime) -> datetime:
    return timezone.localtime(moment).replace(tzinfo=None)


def typed_rows(rows: QuerySet[LedgerEntry]) -> Iterator[list[Any]]:
    types, statuses = dict(EntryType.choices), dict(EntryStatus.choices)
    for entry in rows.select_related("customer").iterator(chunk_size=CHUNK):
        yield [
            entry.pk,
            _local(entry.occurred_at),
            str(types.get(entry.type, entry.type)),
            entry.customer.name,
            entry.customer.slug,
            entry.product_sku,
            entry.category_slug,
            entry.currency,
            round_money(entry.base_amount, entry.currency),
            entry.rate,
            entry.tier_name,
            entry.amount,
            str(statuses.get(entry.status, entry.status)),
            entry.reverses_id,
        ]


def _csv_rows(language: str, rows: QuerySet[LedgerEntry]) -> Iterator[list[Any]]:
    with translation.override(language):
        for values in typed_rows(rows):
            yield [
                "" if v is None else v.strftime("%Y-%m-%d %H:%M:%S") if isinstance(v, datetime) else v for v in values
            ]


def write_xlsx(target: IO[bytes], rows: QuerySet[LedgerEntry]) -> None:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=_("Commissions")[:31])
    sheet.freeze_panes = "A2"
    bold = Font(bold=True)
    head = []
    for title in header():
        cell = WriteOnlyCell(sheet, value=safe_cell(title))
        cell.font = bold
        head.append(cell)
    sheet.append(head)
    for values in typed_rows(rows):
        currency = values[7]
        places = MINOR_UNITS.get(currency, 2)
        money_format = "#,##0." + "0" * places if places else "#,##0"
        cells: list[Any] = []
        for index, value in enumerate(values):
            if isinstance(value, datetime):
                cell = WriteOnlyCell(sheet, value=value)
                cell.number_format = "yyyy-mm-dd hh:mm:ss"
                cells.append(cell)
            elif index in (8, 11) and isinstance(value, Decimal):
                cell = WriteOnlyCell(sheet, value=value)
                cell.number_format = money_format
                cells.append(cell)
            elif isinstance(value, str):
                cells.append(safe_cell(value))
            else:
                cells.append(value)
        sheet.append(cells)
    workbook.save(target)


def filename(slug: str, fmt: str) -> str:
    return f"commissions-{slug}-{timezone.localdate():%Y-%m-%d}.{fmt}"


def response(fmt: str, slug: str, rows: QuerySet[LedgerEntry]) -> HttpResponseBase:
    """CSV streamed line by line; XLSX spooled to a temporary file first."""
    name = filename(slug, fmt)
    if fmt == "csv":
        return streaming_csv_response(name, header(), _csv_rows(translation.get_language(), rows))
    spool = tempfile.TemporaryFile()  # noqa: SIM115 (FileResponse closes it once sent)
    try:
        write_xlsx(spool, rows)
        spool.seek(0)
    except BaseException:
        spool.close()
        raise
    answer = FileResponse(spool, as_attachment=True, filename=name, content_type=XLSX_CONTENT_TYPE)
    answer["Cache-Control"] = "no-store"
    return answer
