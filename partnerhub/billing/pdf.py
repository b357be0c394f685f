"""Invoice PDFs with fpdf2 and the DejaVu TrueType font (umlauts and Cyrillic print as they are)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from django.utils import formats
from django.utils.translation import gettext as _
from fpdf import FPDF  # type: ignore[import-untyped]
from fpdf.enums import XPos, YPos  # type: ignore[import-untyped]

from partnerhub.billing.models import Invoice
from partnerhub.core.money import round_money
from partnerhub.orgs.models import Organisation

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
FONT_REGULAR = FONT_DIR / "DejaVuSans.ttf"
FONT_BOLD = FONT_DIR / "DejaVuSans-Bold.ttf"
FAMILY = "DejaVu"


class FontMissing(RuntimeError):
    """The TrueType font the PDF needs is not installed (Debian: fonts-dejavu-core)."""


def font_files() -> tuple[Path, Path]:
    """The regular and bold font files, or FontMissing naming the first one that is absent."""
    for path in (FONT_REGULAR, FONT_BOLD):
        if not path.is_file():
            raise FontMissing(str(path))
    return FONT_REGULAR, FONT_BOLD


def _amount(value: Decimal, currency: str) -> str:
    return f"{round_money(value, currency):f}"


def render_invoice(invoice: Invoice, *, seller: Organisation | None, compress: bool = True) -> bytes:
    """The invoice as PDF bytes (A4, one table of lines, totals). Raises FontMissing without the font."""
    regular, bold = font_files()
    pdf = FPDF(format="A4")
    pdf.set_compression(compress)
    pdf.set_title(_("Invoice %(number)s") % {"number": invoice.display_number})
    pdf.add_font(FAMILY, "", str(regular))
    pdf.add_font(FAMILY, "B", str(bold))
    pdf.set_auto_page_break(auto=True, margin=18)
    pdf.add_page()
    currency = invoice.currency

    def line(text: str, *, size: int = 10, style: str = "", height: float = 6) -> None:
        pdf.set_font(FAMILY, style, size)
        pdf.multi_cell(0, height, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    if seller is not None:
        line(seller.name, size=12, style="B")
        details = " · ".join(v for v in (seller.website, seller.billing_email) if v)
        if details:
            line(details, size=9)
    pdf.ln(6)
    line(_("Invoice %(number)s") % {"number": invoice.display_number}, size=18, style="B", height=10)
    line(
        _("Issued %(issued)s · due %(due)s · %(status)s")
        % {
            "issued": formats.date_format(invoice.issued_at, "DATE_FORMAT"),
            "due": formats.date_format(invoice.due_on, "DATE_FORMAT"),
            "status": invoice.get_status_display(),
        }
    )
    pdf.ln(4)
    line(_("Bill to"), size=9, style="B")
    line(invoice.org.name, size=11)
    for value in (invoice.org.country, invoice.org.billing_email):
        if value:
            line(value, size=10)
    if invoice.order_id:
        line(_("Order %(order)s") % {"order": invoice.order}, size=9)
    pdf.ln(6)
    pdf.set_font(FAMILY, "", 9)
    with pdf.table(col_widths=(86, 16, 28, 28, 32), text_align=("LEFT", "RIGHT", "RIGHT", "RIGHT", "RIGHT")) as table:
        header = table.row()
        for title in (_("Description"), _("Qty"), _("Unit price"), _("Discount"), _("Total")):
            header.cell(title)
        for item in invoice.lines.order_by("line_no"):
            row = table.row()
            row.cell(item.description)
            row.cell(str(item.quantity))
            row.cell(_amount(item.unit_price, currency))
            row.cell(_amount(item.discount, currency))
            row.cell(_amount(item.total, currency))
    pdf.ln(4)
    totals: list[tuple[str, Decimal]] = [(_("Subtotal"), invoice.subtotal), (_("Discount"), invoice.discount_total)]
    totals.append((_("Total"), invoice.total))
    if invoice.refunded_amount:
        totals.append((_("Refunded"), invoice.refunded_amount))
    for label, amount in totals:
        pdf.set_font(FAMILY, "B" if label == _("Total") else "", 10)
        pdf.cell(150, 7, label, align="R")
        pdf.cell(40, 7, f"{currency} {_amount(amount, currency)}", align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    return bytes(pdf.output())
