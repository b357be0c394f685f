"""My customers as CSV or XLSX (DESIGN §6 "Exports: customers (with custom properties)").

The file holds the list's rows with its current filters and sort, the table's columns and one
column per custom property. Rows are read in chunks of the keyset order; each chunk gets its
columns with :func:`queries.columns_for` (a constant number of queries per chunk). Every text
cell passes through ``safe_cell`` (formula injection); numbers and dates stay typed in XLSX.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from datetime import date, datetime
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

from partnerhub.core.exports import safe_cell, streaming_csv_response
from partnerhub.customers import queries
from partnerhub.customers import values as v
from partnerhub.partnerships.models import CustomProperty, Origin, Partnership, PropertyKind

CHUNK = 500
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FORMATS = ("csv", "xlsx")


def header(props: list[CustomProperty]) -> list[str]:
    base = [
        _("Name"),
        _("Short name"),
        _("Billing email"),
        _("Origin"),
        _("Access"),
        _("Customer since"),
        _("Products"),
        _("Licences"),
        _("Last activity"),
        _("Open invoices"),
    ]
    return base + [prop.name for prop in props]


def chunks(rows: QuerySet[Partnership], sort: queries.Sort) -> Iterator[list[Partnership]]:
    """The rows in keyset order, `CHUNK` at a time (no OFFSET, no result cache)."""
    cursor: str | None = None
    while True:
        page = queries.page_of(rows, sort, cursor=cursor, size=CHUNK)
        if page.rows:
            yield page.rows
        if page.next_cursor is None:
            return
        cursor = page.next_cursor


def _local(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    return timezone.localtime(moment).replace(tzinfo=None)


def typed_rows(rows: QuerySet[Partnership], sort: queries.Sort, props: list[CustomProperty]) -> Iterator[list[Any]]:
    """One list of typed cells per customer (None: empty; open invoices not accessible: a text)."""
    origins = dict(Origin.choices)
    for chunk in chunks(rows, sort):
        for row in queries.columns_for(chunk, props):
            customer = row.customer
            yield [
                customer.name,
                customer.slug,
                customer.billing_email,
                str(origins.get(row.partnership.origin, row.partnership.origin)),
                str(row.partnership.grant.get_mode_display()),
                _local(row.partnership.activated_at),
                row.products,
                row.licences,
                _local(row.last_activity),
                row.open_invoices if row.open_invoices is not None else _("not accessible"),
                *(cell.value for cell in row.cells),
            ]


def _csv_cell(value: Any, prop: CustomProperty | None) -> Any:
    if value is None:
        return ""
    if prop is not None:
        return v.as_text(prop, value)
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    return value


def csv_rows(rows: QuerySet[Partnership], sort: queries.Sort, props: list[CustomProperty]) -> Iterator[list[Any]]:
    """The CSV cells; the body is written after the view returned, so the request's language is kept."""
    return _csv_rows(translation.get_language(), rows, sort, props)


def _csv_rows(
    language: str, rows: QuerySet[Partnership], sort: queries.Sort, props: list[CustomProperty]
) -> Iterator[list[Any]]:
    kinds: list[CustomProperty | None] = [None] * len(header([])) + list(props)
    with translation.override(language):
        for values in typed_rows(rows, sort, props):
            yield [_csv_cell(value, kinds[i]) for i, value in enumerate(values)]


def _xlsx_cell(sheet: Any, value: Any, prop: CustomProperty | None) -> Any:
    if value is None:
        return None
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if isinstance(value, datetime):
        cell = WriteOnlyCell(sheet, value=value)
        cell.number_format = "yyyy-mm-dd hh:mm:ss"
        return cell
    if isinstance(value, date):
        cell = WriteOnlyCell(sheet, value=value)
        cell.number_format = "yyyy-mm-dd"
        return cell
    if isinstance(value, (int, Decimal)):
        return (
            Decimal(v.number_text(Decimal(value))) if prop is not None and prop.kind == PropertyKind.NUMBER else value
        )
    return safe_cell(v.display(prop, value) if prop is not None else str(value))


def write_xlsx(target: IO[bytes], rows: QuerySet[Partnership], sort: queries.Sort, props: list[CustomProperty]) -> None:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=_("Customers")[:31])
    sheet.freeze_panes = "A2"
    bold = Font(bold=True)
    head = []
    for title in header(props):
        cell = WriteOnlyCell(sheet, value=safe_cell(str(title)))
        cell.font = bold
        head.append(cell)
    sheet.append(head)
    kinds: list[CustomProperty | None] = [None] * len(header([])) + list(props)
    for values in typed_rows(rows, sort, props):
        sheet.append([_xlsx_cell(sheet, value, kinds[i]) for i, value in enumerate(values)])
    workbook.save(target)


def filename(partner_slug: str, fmt: str) -> str:
    return f"customers-{partner_slug}-{timezone.localdate():%Y-%m-%d}.{fmt}"


def response(
    fmt: str, partner_slug: str, rows: QuerySet[Partnership], sort: queries.Sort, props: list[CustomProperty]
) -> HttpResponseBase:
    """The file at once: CSV streamed line by line, XLSX spooled to a temporary file first."""
    name = filename(partner_slug, fmt)
    if fmt == "csv":
        return streaming_csv_response(name, header(props), csv_rows(rows, sort, props))
    spool = tempfile.TemporaryFile()  # noqa: SIM115 (FileResponse closes it once sent)
    try:
        write_xlsx(spool, rows, sort, props)
        spool.seek(0)
    except BaseException:
        spool.close()
        raise
    answer = FileResponse(spool, as_attachment=True, filename=name, content_type=XLSX_CONTENT_TYPE)
    answer["Cache-Control"] = "no-store"
    return answer
