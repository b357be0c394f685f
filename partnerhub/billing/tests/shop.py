"""Builders and snapshots for the order, invoice and customer product tests (plain functions)."""

from __future__ import annotations

import html
import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

from django.core import mail

from conftest import actor as actor  # re-exported: the one definition is in conftest.py
from partnerhub.audit.models import AuditEntry
from partnerhub.billing.models import (
    BillingEvent,
    CustomerProduct,
    Invoice,
    InvoiceSequence,
    Order,
    OrderLine,
    WalletEntry,
)
from partnerhub.catalog.models import BillingPeriod, LicenceKind, Product, ProductKind
from partnerhub.catalog.tests.factories import make_category, make_product


def hosting(sku: str = "web-hosting", **kwargs: Any) -> Product:
    """Monthly shared hosting at CHF 9.92 / EUR 5.75 (seed 001's 35 × 9.92 = 347.20)."""
    kwargs.setdefault("prices", {"CHF": "9.92", "EUR": "5.75"})
    return make_product(make_category("shared-hosting"), sku, **kwargs)


def domain(sku: str = "domain-ch") -> Product:
    return make_product(
        make_category("domains-ssl"),
        sku,
        kind=ProductKind.DOMAIN,
        billing_period=BillingPeriod.YEARLY,
        prices={"CHF": "15.00", "EUR": "13.50"},
    )


def licence(sku: str = "seats", *, relative: bool = False, trial_days: int = 0) -> Product:
    return make_product(
        make_category("software-modules"),
        sku,
        kind=ProductKind.LICENCE,
        licence_kind=LicenceKind.RELATIVE if relative else LicenceKind.ABSOLUTE,
        unit_label="users",
        trial_days=trial_days,
        prices={"CHF": "4.00", "EUR": "3.60"},
    )


def snapshot() -> dict[str, Any]:
    """Everything a refused billing write must leave untouched."""
    return {
        "orders": Order.objects.count(),
        "lines": OrderLine.objects.count(),
        "invoices": list(Invoice.objects.order_by("pk").values()),
        "sequences": list(InvoiceSequence.objects.order_by("pk").values()),
        "products": list(CustomerProduct.objects.order_by("pk").values()),
        "wallet": WalletEntry.objects.count(),
        "events": BillingEvent.objects.count(),
        "audit": AuditEntry.objects.count(),
        "mails": len(mail.outbox),
    }


def export_links(page: str) -> dict[str, list[dict[str, list[str]]]]:
    """The export links of a page: path → the query of each link (CSV, XLSX, options)."""
    found: dict[str, list[dict[str, list[str]]]] = {}
    for href in re.findall(r'href="([^"]*/export/[^"]*)"', page):
        url = urlsplit(html.unescape(href))
        found.setdefault(url.path, []).append(parse_qs(url.query))
    return found
