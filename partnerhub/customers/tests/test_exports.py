"""My customers as CSV and XLSX: the filtered rows, custom properties as columns, no formula injection."""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse
from openpyxl import load_workbook  # type: ignore[import-untyped]

from partnerhub.audit.models import AuditEntry
from partnerhub.customers.tests import factories as f


@pytest.fixture
def data(reseller):
    region = f.prop(reseller, "Region", "choice", choices=["EU", "US"], position=1)
    seats = f.prop(reseller, "Seats", "number", position=2)
    renewal = f.prop(reseller, "Renewal", "date", position=3)
    key = f.prop(reseller, "Key account", "boolean", position=4)
    contract = f.prop(reseller, "Contract", "text", position=5)
    evil = f.customer('=HYPERLINK("http://x")', "evil")
    plain = f.customer("Plain", "plain")
    hidden = f.customer("Filtered out", "filtered")
    for org in (evil, plain, hidden):
        f.manage(reseller, org, scopes=f.BILLING if org is plain else [])
    f.value(region, evil, text="EU")
    f.value(region, plain, text="EU")
    f.value(region, hidden, text="US")
    f.value(seats, plain, number=Decimal("12.500000"))
    f.value(renewal, plain, date=date(2026, 3, 31))
    f.value(key, plain, boolean=True)
    f.value(contract, evil, text="@SUM(A1:A9)")
    return {"evil": evil, "plain": plain}


def export(client, partner, fmt: str, **query):
    url = reverse("customer_export", args=[partner.slug])
    return client.get(url, {"format": fmt, **query})


def test_csv_holds_the_filtered_rows_with_property_columns(reseller, reseller_staff, client_for, data):
    response = export(client_for(reseller_staff), reseller, "csv", p_region="EU", sort="name")
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith('attachment; filename="customers-reseller-')
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    header = rows[0]
    assert header[-5:] == ["Region", "Seats", "Renewal", "Key account", "Contract"]
    by_slug = {row[1]: dict(zip(header, row, strict=True)) for row in rows[1:]}
    assert set(by_slug) == {"evil", "plain"}
    assert by_slug["evil"]["Name"] == '\'=HYPERLINK("http://x")'
    assert by_slug["evil"]["Contract"] == "'@SUM(A1:A9)"
    assert by_slug["evil"]["Open invoices"] == "not accessible"
    plain = by_slug["plain"]
    assert (plain["Seats"], plain["Renewal"], plain["Key account"], plain["Open invoices"]) == (
        "12.5",
        "2026-03-31",
        "yes",
        "0",
    )
    entry = AuditEntry.objects.get(org=reseller, action="customers.exported")
    assert entry.after == {"format": "csv", "rows": 2}


def test_xlsx_has_typed_cells_and_safe_text(reseller, reseller_staff, client_for, data):
    response = export(client_for(reseller_staff), reseller, "xlsx", p_region="EU")
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    sheet = book.active
    rows = list(sheet.iter_rows(values_only=True))
    header = list(rows[0])
    by_slug = {row[1]: dict(zip(header, row, strict=True)) for row in rows[1:]}
    assert by_slug["evil"]["Name"] == '\'=HYPERLINK("http://x")'
    assert by_slug["evil"]["Contract"] == "'@SUM(A1:A9)"
    plain = by_slug["plain"]
    assert plain["Seats"] == 12.5
    assert plain["Renewal"].date() == date(2026, 3, 31)
    assert plain["Key account"] == "Yes"
    assert plain["Open invoices"] == 0


def test_too_many_rows_get_a_clear_message_and_no_file(reseller, reseller_staff, client_for, data, settings):
    settings.EXPORT_SYNC_MAX_ROWS = 1
    response = export(client_for(reseller_staff), reseller, "csv")
    assert response.status_code == 400
    assert "at most 1" in response.content.decode()
    assert not AuditEntry.objects.filter(action="customers.exported").exists()


def test_the_export_contains_only_managed_customers(reseller, reseller_staff, other_partner, client_for):
    f.manage(other_partner, f.customer("Theirs"))
    f.manage(reseller, f.customer("Ours"))
    text = b"".join(export(client_for(reseller_staff), reseller, "csv").streaming_content).decode("utf-8-sig")
    assert "Ours" in text and "Theirs" not in text
