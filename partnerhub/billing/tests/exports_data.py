"""Rows for the export tests, written directly (plain functions; amounts as strings, never floats)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.http import HttpResponseBase
from django.utils import timezone
from openpyxl import load_workbook  # type: ignore[import-untyped]

from partnerhub.accounts.models import User
from partnerhub.audit.models import AuditEntry
from partnerhub.billing.exports.models import ExportJob
from partnerhub.billing.models import (
    BillingEvent,
    BillingEventLine,
    CustomerProduct,
    Invoice,
    InvoiceStatus,
    Order,
    OrderLine,
    ProductStatus,
)
from partnerhub.catalog.models import Product, ProductKind
from partnerhub.catalog.tests.factories import make_category, make_product
from partnerhub.orgs.models import Organisation

BOM = "\ufeff"
ISSUED = datetime(2026, 3, 14, 9, 30, tzinfo=timezone.get_fixed_timezone(60))


def product(sku: str = "web-hosting", name: str = "", kind: str = ProductKind.SERVICE) -> Product:
    return make_product(make_category("shared-hosting", "Shared hosting"), sku, name=name, kind=kind)


def customer_product(
    org: Organisation, item: Product, *, status: str = ProductStatus.ACTIVE, quantity: int = 1
) -> CustomerProduct:
    return CustomerProduct.objects.create(
        org=org,
        product=item,
        quantity=quantity,
        status=status,
        started_on=date(2026, 1, 1),
        renews_on=date(2027, 1, 1),
        trial_ends_on=date(2026, 1, 31) if status == ProductStatus.TRIAL else None,
    )


def order(
    org: Organisation, user: User, *, currency: str = "CHF", lines: Iterable[tuple[Product, int, str]] = ()
) -> Order:
    """An order whose lines are (product, quantity, total); no discount, no cashback."""
    rows = list(lines)
    total = sum((Decimal(amount) for _p, _q, amount in rows), Decimal(0))
    placed = Order.objects.create(
        org=org,
        placed_by=user,
        placed_by_org=org,
        payer=org,
        currency=currency,
        subtotal=total,
        discount_total=Decimal(0),
        total=total,
    )
    for number, (item, quantity, amount) in enumerate(rows, start=1):
        OrderLine.objects.create(
            order=placed,
            line_no=number,
            product=item,
            kind=item.kind,
            description=item.name,
            quantity=quantity,
            unit_price=Decimal(amount) / quantity,
            list_total=Decimal(amount),
            total=Decimal(amount),
        )
    return placed


def invoice(
    org: Organisation,
    number: int,
    *,
    total: str = "347.20",
    currency: str = "CHF",
    status: str = InvoiceStatus.OPEN,
    issued_at: datetime = ISSUED,
) -> Invoice:
    return Invoice.objects.create(
        number=number,
        currency=currency,
        org=org,
        status=status,
        issued_at=issued_at,
        due_on=date(2026, 4, 13),
        paid_at=issued_at if status == InvoiceStatus.PAID else None,
        subtotal=Decimal(total),
        total=Decimal(total),
    )


def event(
    org: Organisation, external_id: str, lines: Iterable[tuple[str, str]], *, currency: str = "CHF"
) -> BillingEvent:
    """A payment with lines (sku, base amount)."""
    created = BillingEvent.objects.create(
        external_id=external_id,
        kind="payment",
        org=org,
        currency=currency,
        occurred_at=ISSUED,
        payload_hash="0" * 64,
    )
    BillingEventLine.objects.bulk_create(
        BillingEventLine(
            event=created, line_no=n, product_sku=sku, category_slug="shared-hosting", base_amount=Decimal(amount)
        )
        for n, (sku, amount) in enumerate(lines, start=1)
    )
    return created


def body(response: HttpResponseBase) -> bytes:
    """All bytes of a (streamed or file) response."""
    return b"".join(response.streaming_content) if response.streaming else response.content  # type: ignore[attr-defined]


def csv_of(response: HttpResponseBase) -> list[list[str]]:
    text = body(response).decode("utf-8")
    assert text.startswith(BOM)
    return list(csv.reader(io.StringIO(text[len(BOM) :])))


def sheet_of(content: bytes) -> Any:
    """The first worksheet of an XLSX file, read back with openpyxl as a spreadsheet program would."""
    return load_workbook(io.BytesIO(content)).worksheets[0]


def snapshot() -> dict[str, Any]:
    """What a refused export must leave untouched."""
    return {"jobs": ExportJob.objects.count(), "audit": AuditEntry.objects.count()}
