"""Direct exports: CSV and XLSX content, formula injection, filters, permissions, constant queries."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest
from django.core import mail
from django.utils import timezone

from conftest import add_member, make_user
from partnerhub.access.perms import Role
from partnerhub.audit.models import AuditEntry
from partnerhub.billing.exports.columns import DATASETS
from partnerhub.billing.exports.models import ExportJob
from partnerhub.billing.models import CustomerProduct, InvoiceStatus, ProductStatus
from partnerhub.billing.tests.exports_data import (
    ISSUED,
    body,
    csv_of,
    customer_product,
    event,
    invoice,
    order,
    product,
    sheet_of,
    snapshot,
)
from partnerhub.catalog.models import ProductKind

FORMULAS = ["=1+2", "+41 44 000 00 00", "-2+3", "@SUM(A1:A2)"]
# The first row of an invoice export, in CSV and in XLSX alike.
INVOICE_HEADER = [
    "Number",
    "Organisation",
    "Issued",
    "Due",
    "Status",
    "Currency",
    "Subtotal",
    "Discount",
    "Total",
    "Refunded",
    "Paid at",
]


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


# --- CSV ---------------------------------------------------------------------------------------------


def test_products_csv_has_a_row_per_product_with_translated_headers(client_for, acme, acme_member):
    web = product("web-hosting", "Web hosting")
    customer_product(acme, web, quantity=35)
    customer_product(acme, product("seats", "Seats", ProductKind.LICENCE), status=ProductStatus.TRIAL, quantity=5)

    response = client_for(acme_member).get("/o/acme/products/export/?format=csv")

    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert f"products-acme-{timezone.localdate().isoformat()}.csv" in response["Content-Disposition"]
    rows = csv_of(response)
    assert rows[0] == [
        "Organisation",
        "Product",
        "Article number",
        "Category",
        "Kind",
        "Quantity",
        "Status",
        "Start",
        "Renewal date",
        "Trial ends",
    ]
    assert rows[1:] == [
        [
            "Acme GmbH",
            "Seats",
            "seats",
            "Shared hosting",
            "Licence",
            "5",
            "Trial",
            "2026-01-01",
            "2027-01-01",
            "2026-01-31",
        ],
        [
            "Acme GmbH",
            "Web hosting",
            "web-hosting",
            "Shared hosting",
            "Service",
            "35",
            "Active",
            "2026-01-01",
            "2027-01-01",
            "",
        ],
    ]


def test_headers_follow_the_language_of_the_request(client_for, acme, acme_member):
    customer_product(acme, product())
    rows = csv_of(client_for(acme_member).get("/o/acme/products/export/?format=csv", HTTP_ACCEPT_LANGUAGE="de"))
    from django.utils import translation

    with translation.override("de"):
        from django.utils.translation import pgettext

        assert rows[0][:2] == [pgettext("export column", "Organisation"), pgettext("export column", "Product")]


def test_column_headers_have_their_own_message_context():
    """Django's own catalogue translates a bare "Order" as „Reihenfolge“ (sorting): headers carry a context."""
    from django.utils import translation
    from django.utils.translation import pgettext

    with translation.override("de"):
        headers = DATASETS["order_lines"].headers
        assert headers[0] == pgettext("export column", "Order") != "Reihenfolge"
        assert "Reihenfolge" not in {h for dataset in DATASETS.values() for h in dataset.headers}


def test_invoice_csv_amounts_are_plain_decimals_with_their_currency(client_for, acme, acme_owner):
    invoice(acme, 1, total="347.2", status=InvoiceStatus.PAID)
    invoice(acme, 1, total="201.25", currency="EUR")

    rows = csv_of(client_for(acme_owner).get("/o/acme/invoices/export/?format=csv"))

    assert rows[0] == INVOICE_HEADER
    local = timezone.localtime(ISSUED).strftime("%Y-%m-%d %H:%M:%S")
    assert rows[1] == [
        "EUR-000001",
        "Acme GmbH",
        local,
        "2026-04-13",
        "Open",
        "EUR",
        "201.25",
        "0.00",
        "201.25",
        "0.00",
        "",
    ]
    assert rows[2] == [
        "CHF-000001",
        "Acme GmbH",
        local,
        "2026-04-13",
        "Paid",
        "CHF",
        "347.20",
        "0.00",
        "347.20",
        "0.00",
        local,
    ]


def test_the_list_filters_narrow_the_export(client_for, acme, acme_owner):
    invoice(acme, 1, status=InvoiceStatus.PAID)
    invoice(acme, 2, status=InvoiceStatus.OPEN)
    invoice(acme, 3, status=InvoiceStatus.PAID, issued_at=datetime(2025, 1, 1, tzinfo=timezone.get_fixed_timezone(0)))
    client = client_for(acme_owner)

    paid = csv_of(client.get("/o/acme/invoices/export/?format=csv&status=paid"))
    recent_paid = csv_of(client.get("/o/acme/invoices/export/?format=csv&status=paid&date_from=2026-01-01"))

    assert [row[0] for row in paid[1:]] == ["CHF-000003", "CHF-000001"]
    assert [row[0] for row in recent_paid[1:]] == ["CHF-000001"]


def test_invalid_filters_are_refused_not_ignored(client_for, acme, acme_owner):
    invoice(acme, 1)
    before = snapshot()

    response = client_for(acme_owner).get("/o/acme/invoices/export/?format=csv&status=nonsense")

    assert response.status_code == 400
    assert b"The filters are not valid" in response.content
    assert snapshot() == before


def test_orders_export_one_row_per_order_and_lines_one_row_per_line(client_for, acme, acme_owner):
    web, name = product("web-hosting", "Web hosting"), product("domain-ch", "Domain .ch", ProductKind.DOMAIN)
    first = order(acme, acme_owner, lines=[(web, 35, "347.20"), (name, 1, "15.00")])
    second = order(acme, acme_owner, currency="EUR", lines=[(web, 1, "5.75")])
    client = client_for(acme_owner)

    orders = csv_of(client.get("/o/acme/orders/export/?format=csv"))
    lines = csv_of(client.get("/o/acme/orders/lines/export/?format=csv"))
    domains = csv_of(client.get("/o/acme/orders/export/?format=csv&kind=domain"))

    assert [(row[0], row[6], row[9]) for row in orders[1:]] == [
        (str(second), "EUR", "5.75"),
        (str(first), "CHF", "362.20"),
    ]
    assert orders[1][3] == "owner@acme.test"
    assert [(row[0], row[7], row[8], row[18]) for row in lines[1:]] == [
        (str(second), "1", "web-hosting", "5.75"),
        (str(first), "1", "web-hosting", "347.20"),
        (str(first), "2", "domain-ch", "15.00"),
    ]
    assert [row[0] for row in domains[1:]] == [str(first)]


def test_operator_exports_every_billing_event_one_row_per_line(client_for, operator_staff, acme, globex):
    event(acme, "pay-1", [("web-hosting", "100.00"), ("domain-ch", "15.5")])
    event(globex, "pay-2", [("web-hosting", "7")], currency="EUR")
    client = client_for(operator_staff)

    rows = csv_of(client.get("/o/operator/billing/events/export/?format=csv"))
    acme_only = csv_of(client.get("/o/operator/billing/events/export/?format=csv&org=acme"))

    assert rows[0] == [
        "External id",
        "Kind",
        "Organisation",
        "Currency",
        "Occurred at",
        "Refers to",
        "Line",
        "Article number",
        "Category",
        "Base amount",
    ]
    assert [(r[0], r[2], r[3], r[6], r[7], r[9]) for r in rows[1:]] == [
        ("pay-2", "Globex Ltd", "EUR", "1", "web-hosting", "7.00"),
        ("pay-1", "Acme GmbH", "CHF", "1", "web-hosting", "100.00"),
        ("pay-1", "Acme GmbH", "CHF", "2", "domain-ch", "15.50"),
    ]
    assert [r[0] for r in acme_only[1:]] == ["pay-1", "pay-1"]


def test_a_customer_exports_only_its_own_billing_events(client_for, acme, acme_owner, globex):
    event(acme, "pay-1", [("web-hosting", "100.00")])
    event(globex, "pay-2", [("web-hosting", "7.00")])

    rows = csv_of(client_for(acme_owner).get("/o/acme/billing-events/export/?format=csv"))

    assert [row[0] for row in rows[1:]] == ["pay-1"]


def test_operator_exports_every_invoice(client_for, operator_staff, acme, globex):
    invoice(acme, 1)
    invoice(globex, 2, status=InvoiceStatus.PAID)

    rows = csv_of(client_for(operator_staff).get("/o/operator/billing/invoices/export/?format=csv&status=paid"))

    assert [(row[0], row[1]) for row in rows[1:]] == [("CHF-000002", "Globex Ltd")]


# --- formula injection -------------------------------------------------------------------------------


@pytest.mark.parametrize("text", FORMULAS)
def test_formula_injection_is_neutralised_in_csv(client_for, acme, acme_member, text):
    acme.name = text
    acme.save(update_fields=["name"])
    customer_product(acme, product(name=text))

    rows = csv_of(client_for(acme_member).get("/o/acme/products/export/?format=csv"))

    assert rows[1][0] == "'" + text
    assert rows[1][1] == "'" + text


@pytest.mark.parametrize("text", FORMULAS)
def test_formula_injection_is_neutralised_in_xlsx(client_for, acme, acme_member, text):
    acme.name = text
    acme.save(update_fields=["name"])
    customer_product(acme, product(name=text))

    sheet = sheet_of(body(client_for(acme_member).get("/o/acme/products/export/?format=xlsx")))

    for cell in (sheet["A2"], sheet["B2"]):
        assert cell.value == "'" + text
        assert cell.data_type == "s"  # text, not a formula


# --- XLSX --------------------------------------------------------------------------------------------


def test_invoice_xlsx_reads_back_cell_by_cell(client_for, acme, acme_owner):
    invoice(acme, 7, total="347.2", status=InvoiceStatus.PAID)

    response = client_for(acme_owner).get("/o/acme/invoices/export/?format=xlsx")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert f"invoices-acme-{timezone.localdate().isoformat()}.xlsx" in response["Content-Disposition"]
    sheet = sheet_of(body(response))
    assert [cell.value for cell in sheet[1]] == INVOICE_HEADER
    number, org, issued, due, status, currency, subtotal, discount, total, refunded, paid_at = sheet[2]
    assert (number.value, org.value, status.value, currency.value) == ("CHF-000007", "Acme GmbH", "Paid", "CHF")
    assert issued.is_date and issued.value == timezone.localtime(ISSUED).replace(tzinfo=None)
    assert paid_at.is_date and paid_at.value == issued.value
    assert due.is_date and due.value.date() == date(2026, 4, 13)
    for cell, expected in ((subtotal, "347.20"), (discount, "0"), (total, "347.20"), (refunded, "0")):
        assert cell.data_type == "n"
        assert isinstance(cell.value, int | float)
        assert Decimal(str(cell.value)) == Decimal(expected)
        assert cell.number_format == "#,##0.00"
    assert sheet.max_row == 2


def test_products_xlsx_quantities_are_numbers_and_dates_are_dates(client_for, acme, acme_member):
    customer_product(acme, product(), quantity=35)

    sheet = sheet_of(body(client_for(acme_member).get("/o/acme/products/export/?format=xlsx")))

    quantity, start, renewal, trial = sheet["F2"], sheet["H2"], sheet["I2"], sheet["J2"]
    assert quantity.value == 35 and quantity.data_type == "n"
    assert start.is_date and start.value.date() == date(2026, 1, 1)
    assert renewal.is_date and renewal.value.date() == date(2027, 1, 1)
    assert trial.value is None


# --- large exports -----------------------------------------------------------------------------------


def test_too_many_rows_for_a_direct_download_offer_the_background(client_for, acme, acme_member, settings):
    settings.EXPORT_SYNC_MAX_ROWS = 2
    item = product()
    for _n in range(3):
        customer_product(acme, item)
    before = snapshot()

    response = client_for(acme_member).get("/o/acme/products/export/?format=csv")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    assert b"This export has 3 rows" in response.content
    assert b'value="background"' in response.content
    assert b'value="now"' not in response.content
    assert snapshot() == before


def test_without_a_format_the_options_page_shows_the_list_filters(client_for, acme, acme_owner):
    response = client_for(acme_owner).get("/o/acme/invoices/export/?status=paid")

    assert response.status_code == 200
    content = response.content.decode()
    assert 'name="status"' in content and 'value="paid" selected' in content
    assert 'name="date_from"' in content
    assert 'name="before"' not in content


def test_the_options_form_downloads_now_by_post(client_for, acme, acme_owner):
    invoice(acme, 1, status=InvoiceStatus.PAID)
    invoice(acme, 2)

    response = client_for(acme_owner).post(
        "/o/acme/invoices/export/", {"format": "csv", "mode": "now", "status": "paid"}
    )

    assert [row[0] for row in csv_of(response)[1:]] == ["CHF-000001"]


# --- audit -------------------------------------------------------------------------------------------


def test_a_direct_download_is_audited(client_for, acme, acme_owner):
    invoice(acme, 1, status=InvoiceStatus.PAID)

    body(client_for(acme_owner).get("/o/acme/invoices/export/?format=xlsx&status=paid"))

    entry = AuditEntry.objects.get(action="export.downloaded")
    assert entry.org == acme and entry.actor == acme_owner
    assert entry.after == {"dataset": "invoices", "format": "xlsx", "filters": {"status": "paid"}, "rows": 1}


# --- permissions -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "/o/acme/products/export/?format=csv",
        "/o/acme/orders/export/?format=csv",
        "/o/acme/orders/lines/export/?format=xlsx",
        "/o/acme/invoices/export/?format=csv",
        "/o/acme/billing-events/export/?format=csv",
    ],
)
def test_another_organisation_gets_404_and_nothing_happens(client_for, acme, globex_owner, outsider, url):
    customer_product(acme, product())
    before = snapshot()

    for user in (globex_owner, outsider):
        assert client_for(user).get(url).status_code == 404
        assert client_for(user).post(url, {"format": "csv", "mode": "background"}).status_code == 404

    assert snapshot() == before
    assert mail.outbox == []


@pytest.mark.parametrize(
    "url",
    [
        "/o/acme/orders/export/?format=csv",
        "/o/acme/orders/lines/export/?format=csv",
        "/o/acme/invoices/export/?format=xlsx",
        "/o/acme/billing-events/export/?format=csv",
    ],
)
def test_a_member_without_billing_view_gets_403_and_nothing_happens(client_for, acme, acme_member, url):
    invoice(acme, 1)
    before = snapshot()

    assert client_for(acme_member).get(url).status_code == 403
    assert client_for(acme_member).post(url, {"format": "csv", "mode": "background"}).status_code == 403

    assert snapshot() == before
    assert ExportJob.objects.count() == 0


@pytest.mark.parametrize(
    "url", ["/o/acme/billing/invoices/export/?format=csv", "/o/acme/billing/events/export/?format=csv"]
)
def test_operator_exports_are_refused_on_a_customer_organisation(client_for, acme, acme_owner, operator_staff, url):
    before = snapshot()

    assert client_for(acme_owner).get(url).status_code == 403
    assert client_for(operator_staff).get(url).status_code == 404

    assert snapshot() == before


def test_a_customer_owner_cannot_export_everything_through_the_operator_url(client_for, operator_org, acme_owner):
    assert client_for(acme_owner).get("/o/operator/billing/events/export/?format=csv").status_code == 404


def test_billing_view_as_an_extra_permission_is_enough(client_for, acme):
    clerk = make_user("clerk@acme.test")
    add_member(clerk, acme, Role.MEMBER, ["billing.view"])
    invoice(acme, 1)

    assert len(csv_of(client_for(clerk).get("/o/acme/invoices/export/?format=csv"))) == 2


# --- constant memory and queries ---------------------------------------------------------------------


def test_a_2000_row_csv_export_runs_a_constant_number_of_queries(
    client_for, acme, acme_member, django_assert_max_num_queries
):
    items = [product(f"sku-{n}") for n in range(5)]
    client = client_for(acme_member)

    def export(rows: int) -> tuple[int, list[list[str]]]:
        CustomerProduct.objects.all().delete()
        CustomerProduct.objects.bulk_create(
            CustomerProduct(org=acme, product=items[n % 5], quantity=n + 1, started_on=date(2026, 1, 1))
            for n in range(rows)
        )
        with django_assert_max_num_queries(11) as captured:
            exported = csv_of(client.get("/o/acme/products/export/?format=csv"))
        return len(captured), exported

    few, _small = export(10)
    many, rows = export(2000)

    assert many == few
    assert len(rows) == 2001
    assert {row[2] for row in rows[1:]} == {f"sku-{n}" for n in range(5)}


def test_a_2000_row_order_lines_csv_export_runs_a_constant_number_of_queries(
    client_for, acme, acme_owner, django_assert_max_num_queries
):
    web = product()
    for _n in range(400):
        order(acme, acme_owner, lines=[(web, 1, "1.00")] * 5)
    client = client_for(acme_owner)

    with django_assert_max_num_queries(11):
        rows = csv_of(client.get("/o/acme/orders/lines/export/?format=csv"))

    assert len(rows) == 2001


def test_every_dataset_filters_like_its_list_page():
    for dataset in DATASETS.values():
        assert set(dataset.filters) <= set(dataset.form.base_fields), dataset.key
        assert not {"before", "after"} & set(dataset.filters), dataset.key
