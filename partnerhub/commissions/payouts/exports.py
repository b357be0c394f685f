"""A payout statement as CSV (streamed), XLSX (openpyxl) and PDF (fpdf2 with DejaVu).

Every format has the same columns: one row per entry the payout holds, amounts in the payout's
currency as decimal numbers; reversals are negative rows that name the entry they reverse.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.http import HttpResponse, StreamingHttpResponse
from django.utils import formats, timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from fpdf import FPDF  # type: ignore[import-untyped]
from fpdf.enums import XPos, YPos  # type: ignore[import-untyped]
from openpyxl import Workbook  # type: ignore[import-untyped]
from openpyxl.cell import WriteOnlyCell  # type: ignore[import-untyped]
from openpyxl.styles import Font  # type: ignore[import-untyped]

from partnerhub.billing.pdf import FAMILY, font_files
from partnerhub.commissions.models import LedgerEntry, Payout
from partnerhub.commissions.payouts.banking import format_iban
from partnerhub.commissions.payouts.queries import entries_of
from partnerhub.core.exports import safe_row, streaming_csv_response
from partnerhub.core.money import round_money

FORMATS = ("csv", "xlsx", "pdf")
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def header() -> list[str]:
    return [
        _("Entry"),
        _("Date"),
        _("Customer"),
        _("Type"),
        _("Product"),
        _("Category"),
        _("Tier"),
        _("Base amount"),
        _("Rate (%)"),
        _("Commission"),
        _("Reverses entry"),
    ]


def _local(moment: datetime) -> datetime:
    return timezone.localtime(moment).replace(tzinfo=None)


def entry_row(entry: LedgerEntry) -> list[Any]:
    """One entry as cells: text, a naive local date, Decimals (never floats)."""
    return [
        entry.pk,
        _local(entry.occurred_at).date(),
        entry.customer.name,
        entry.get_type_display(),
        entry.product_sku,
        entry.category_slug,
        entry.tier_name,
        round_money(Decimal(entry.base_amount), entry.currency),
        Decimal(entry.rate),
        entry.amount,
        entry.reverses_id or "",
    ]


def filename(payout: Payout, extension: str) -> str:
    return f"payout-{payout.beneficiary.slug}-{payout.period:%Y-%m}-{payout.currency}-{payout.pk}.{extension}"


def _rows(payout: Payout) -> Iterator[list[Any]]:
    for entry in entries_of(payout).iterator(chunk_size=2000):
        yield entry_row(entry)


def csv_response(payout: Payout) -> StreamingHttpResponse:
    return streaming_csv_response(filename(payout, "csv"), header(), _rows(payout))


def xlsx_bytes(payout: Payout) -> bytes:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=f"{payout.period:%Y-%m} {payout.currency}")
    bold = Font(bold=True)
    title = WriteOnlyCell(sheet, value=_("Payout statement %(payout)s") % {"payout": payout})
    title.font = bold
    sheet.append([title])
    sheet.append([payout.beneficiary.name, formats.date_format(payout.period, "YEAR_MONTH_FORMAT")])
    sheet.append([_("Total"), payout.amount, payout.currency, payout.get_status_display()])
    sheet.append([])
    cells = []
    for text in header():
        cell = WriteOnlyCell(sheet, value=text)
        cell.font = bold
        cells.append(cell)
    sheet.append(cells)
    amount_format = "0.00" if payout.amount == payout.amount.quantize(Decimal("0.01")) else "0.0000"
    for row in _rows(payout):
        values = safe_row(row)
        out: list[Any] = []
        for index, value in enumerate(values):
            cell = WriteOnlyCell(sheet, value=value)
            if index in (7, 9):
                cell.number_format = amount_format
            elif index == 1:
                cell.number_format = "yyyy-mm-dd"
            out.append(cell)
        sheet.append(out)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def xlsx_response(payout: Payout) -> HttpResponse:
    response = HttpResponse(xlsx_bytes(payout), content_type=XLSX_TYPE)
    response["Content-Disposition"] = content_disposition_header(True, filename(payout, "xlsx"))
    response["Cache-Control"] = "no-store"
    return response


def pdf_bytes(payout: Payout, *, compress: bool = True) -> bytes:
    """The statement as PDF (A4). Raises billing.pdf.FontMissing without the DejaVu font."""
    regular, bold = font_files()
    pdf = FPDF(format="A4")
    pdf.set_compression(compress)
    title = _("Payout statement %(payout)s") % {"payout": payout}
    pdf.set_title(title)
    pdf.add_font(FAMILY, "", str(regular))
    pdf.add_font(FAMILY, "B", str(bold))
    pdf.set_auto_page_break(auto=True, margin=18)
    pdf.add_page()

    def line(text: str, *, size: int = 10, style: str = "", height: float = 6) -> None:
        pdf.set_font(FAMILY, style, size)
        pdf.multi_cell(0, height, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    line(title, size=16, style="B", height=9)
    line(payout.beneficiary.name, size=12)
    line(
        _("Month %(month)s · %(status)s")
        % {"month": formats.date_format(payout.period, "YEAR_MONTH_FORMAT"), "status": payout.get_status_display()}
    )
    if payout.iban:
        line(
            _("Paid to %(holder)s, IBAN %(iban)s") % {"holder": payout.account_holder, "iban": format_iban(payout.iban)}
        )
    if payout.paid_at:
        line(
            _("Paid on %(date)s, reference %(reference)s")
            % {
                "date": formats.date_format(timezone.localtime(payout.paid_at), "DATE_FORMAT"),
                "reference": payout.reference,
            }
        )
    pdf.ln(4)
    pdf.set_font(FAMILY, "", 8)
    widths = (14, 20, 44, 18, 24, 22, 24, 24)
    with pdf.table(col_widths=widths, text_align=("LEFT",) * 6 + ("RIGHT", "RIGHT")) as table:
        head = table.row()
        for text in (
            _("Entry"),
            _("Date"),
            _("Customer"),
            _("Type"),
            _("Product"),
            _("Tier"),
            _("Base amount"),
            _("Commission"),
        ):
            head.cell(text)
        for entry in entries_of(payout).iterator(chunk_size=2000):
            row = table.row()
            row.cell(str(entry.pk) + (f" ↩{entry.reverses_id}" if entry.reverses_id else ""))
            row.cell(formats.date_format(timezone.localtime(entry.occurred_at), "SHORT_DATE_FORMAT"))
            row.cell(entry.customer.name)
            row.cell(str(entry.get_type_display()))
            row.cell(entry.product_sku)
            row.cell(entry.tier_name or "—")
            row.cell(f"{round_money(Decimal(entry.base_amount), entry.currency):f}")
            row.cell(f"{entry.amount:f}")
    pdf.ln(4)
    pdf.set_font(FAMILY, "B", 11)
    pdf.cell(150, 8, _("Total"), align="R")
    pdf.cell(40, 8, f"{payout.currency} {payout.amount:f}", align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    return bytes(pdf.output())


def pdf_response(payout: Payout) -> HttpResponse:
    response = HttpResponse(pdf_bytes(payout), content_type="application/pdf")
    response["Content-Disposition"] = content_disposition_header(True, filename(payout, "pdf"))
    response["Cache-Control"] = "no-store"
    return response
