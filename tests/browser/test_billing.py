"""Billing in real Chromium against the seeded demo: the operator's catalog and program, a customer
ordering with the priced preview, invoices with PDF, the operator marking an invoice paid, the billing
event it emits, an XLSX export read back, and the same data through the API with the session."""

from __future__ import annotations

import io
import re

import pytest

from tests.browser.conftest import Server, log_in, shoot

pytestmark = pytest.mark.browser


def test_operator_catalog_and_program_pages(demo: Server, browser) -> None:
    context, page = log_in(browser, demo, "operator@demo.partnerhub.test")
    page.goto(f"{demo.url}/o/alpstream/catalog/")
    assert page.get_by_text("Web hosting Starter").first.is_visible()
    assert page.get_by_text("9.92").first.is_visible()
    shoot(page, "operator-catalog")
    page.goto(f"{demo.url}/o/alpstream/program/")
    assert page.locator("tr[data-tier='30']").is_visible()  # the seeded tier: 25 % from 30 units
    shoot(page, "operator-program")
    context.close()


def test_customer_orders_and_operator_marks_the_invoice_paid(demo: Server, browser) -> None:
    context, page = log_in(browser, demo, "admin@sonnenschein.demo.partnerhub.test")
    # Clara works in German: the portal follows her profile language after login.
    assert page.locator("html").get_attribute("lang") == "de"
    page.goto(f"{demo.url}/o/cafe-sonnenschein/orders/new/?currency=CHF")
    page.get_by_label("Domain .com").fill("2")
    page.click("main form[method=post] button[type=submit]")
    page.wait_for_load_state()
    # The preview prices every line before anything is ordered: 2 × 15.00 = 30.00.
    assert page.get_by_text("Es wird erst bestellt, wenn Sie bestätigen.", exact=False).is_visible()
    assert page.get_by_text("30.00").first.is_visible()
    shoot(page, "order-preview-de")
    page.click("main form button[name=confirm]")
    page.wait_for_url(re.compile(r".*/o/cafe-sonnenschein/orders/\d+/"))
    shoot(page, "order-detail-de")

    page.goto(f"{demo.url}/o/cafe-sonnenschein/invoices/")
    shoot(page, "invoices")
    page.locator("main table a").first.click()
    page.wait_for_url(re.compile(r".*/invoices/\d+/"))
    number = re.search(r"CHF-\d{6}", page.content())
    assert number is not None
    pdf = page.request.get(page.url + "pdf/")
    assert pdf.status == 200
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.body().startswith(b"%PDF")

    # The same invoices through the API with the browser's session.
    api = page.request.get(f"{demo.url}/api/v1/orgs/cafe-sonnenschein/invoices")
    assert api.status == 200
    assert number.group(0) in api.text()

    # An XLSX export of the invoices opens in a spreadsheet library.
    export = page.request.get(f"{demo.url}/o/cafe-sonnenschein/invoices/export/?format=xlsx")
    assert export.status == 200
    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(export.body()), read_only=True).active
    values = [str(cell) for row in sheet.iter_rows(values_only=True) for cell in row]
    assert number.group(0) in values
    context.close()

    # The operator marks it paid; the payment shows up as a billing event.
    context, page = log_in(browser, demo, "operator@demo.partnerhub.test")
    page.goto(f"{demo.url}/o/alpstream/billing/invoices/?status=open")
    row = page.locator("tr", has_text=number.group(0))
    row.locator("button:has-text('Mark paid')").click()
    page.wait_for_load_state()
    page.goto(f"{demo.url}/o/alpstream/billing/events/")
    assert page.get_by_text(f"invoice:{number.group(0)}:paid").first.is_visible()
    shoot(page, "operator-billing-events")
    context.close()
