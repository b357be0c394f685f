"""Payouts in real Chromium against the seeded demo: the partner enters payout details (IBAN), the
operator approves the monthly statement and marks it paid with a reference, the partner sees it paid
and downloads the statement (CSV, XLSX, PDF)."""

from __future__ import annotations

import io
import re

import pytest

from tests.browser.conftest import Server, log_in, shoot

pytestmark = pytest.mark.browser

PARTNER = "owner@bergwerk.demo.partnerhub.test"
OPERATOR = "operator@demo.partnerhub.test"

# Two approved commissions of the demo partner Bergwerk in a currency its last month has no statement
# in yet, then last month's statements: prints the id of Bergwerk's new open payout.
SETUP = """
from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from partnerhub.billing.models import BillingEvent
from partnerhub.commissions.accrual import add_monthly, add_totals
from partnerhub.commissions.ledger import approve_due
from partnerhub.commissions.models import LedgerEntry, Payout, PendingEvent
from partnerhub.commissions.payouts.statements import create_statements, month_start, previous_month
from partnerhub.commissions.terms import month_of
from partnerhub.orgs.models import Organisation

partner = Organisation.objects.get(slug="bergwerk")
customer = Organisation.objects.get(slug="cafe-sonnenschein")
period = previous_month(timezone.localdate())
taken = set(Payout.objects.filter(beneficiary=partner, period=period).values_list("currency", flat=True))
currency = next(c for c in ("GBP", "USD", "EUR", "CHF") if c not in taken)
occurred = month_start(period) - timedelta(days=40)
event = BillingEvent.objects.create(
    external_id=f"browser-payout-{currency}", kind="payment", org=customer, currency=currency,
    occurred_at=occurred, payload_hash="0" * 64, source="test",
)
PendingEvent.objects.filter(event=event).delete()  # accrued already: its entries follow
amounts = [12000, 4550]
for number, amount in enumerate(amounts, start=1):
    LedgerEntry.objects.create(
        beneficiary=partner, customer=customer, type="partner", currency=currency, amount_minor=amount,
        base_amount=Decimal(amount) / 20, rate=Decimal(20), tier_name="Gold", category_slug="shared-hosting",
        product_sku="web-hosting", event=event, line_no=number, occurred_at=occurred,
        hold_until=occurred + timedelta(days=30),
    )
add_totals({(partner.pk, currency): {"earned_minor": sum(amounts), "pending_minor": sum(amounts), "entries": 2}})
add_monthly({(partner.pk, currency, month_of(timezone.localtime(occurred))): sum(amounts)})
approve_due(now=month_start(period) + timedelta(days=1))
create_statements(period)
print(Payout.objects.get(beneficiary=partner, period=period, currency=currency, status="open").pk)
"""


def test_operator_pays_and_partner_downloads_the_statement(demo: Server, browser) -> None:
    payout_id = int(demo.manage("shell", "-c", SETUP).strip().splitlines()[-1])

    # The partner enters where payouts go (just logged in: no second password prompt).
    context, page = log_in(browser, demo, PARTNER, accept_downloads=True)
    page.goto(f"{demo.url}/o/bergwerk/payouts/details/")
    page.fill("input[name=account_holder]", "Bergwerk Digital GmbH")
    page.fill("input[name=iban]", "AT61 1904 3002 3457 3201")
    page.click("main form[method=post] button[type=submit]")
    page.wait_for_url(re.compile(r".*/o/bergwerk/payouts/$"))
    assert page.locator(f"tr[data-payout='{payout_id}'] [data-status='open']").is_visible()
    context.close()

    # The operator reviews, approves and marks it paid.
    context, page = log_in(browser, demo, OPERATOR, accept_downloads=True)
    page.goto(f"{demo.url}/o/alpstream/payouts/review/?status=open")
    page.locator(f"tr[data-payout='{payout_id}'] a").click()
    page.wait_for_url(re.compile(rf".*/payouts/review/{payout_id}/$"))
    assert page.locator("tr[data-entry]").count() == 2
    page.click("#approve form button[type=submit]")
    page.wait_for_url(re.compile(rf".*/payouts/review/{payout_id}/$"))
    assert page.locator("[data-status='approved']").first.is_visible()
    assert page.get_by_text("AT61 1904 3002 3457 3201").first.is_visible()
    page.fill("input[name=reference]", "RAIFFEISEN-2026-0042")
    page.click("#pay form button[type=submit]")
    page.wait_for_url(re.compile(rf".*/payouts/review/{payout_id}/$"))
    assert page.locator("[data-status='paid']").first.is_visible()
    assert page.locator("[data-reference]").inner_text() == "RAIFFEISEN-2026-0042"
    shoot(page, "payouts-operator")
    context.close()

    # The partner sees it paid and downloads the statement.
    context, page = log_in(browser, demo, PARTNER, accept_downloads=True)
    page.goto(f"{demo.url}/o/bergwerk/payouts/")
    row = page.locator(f"tr[data-payout='{payout_id}']")
    assert row.locator("[data-status='paid']").is_visible()
    assert "RAIFFEISEN-2026-0042" in row.inner_text()
    row.locator("a").click()
    page.wait_for_url(re.compile(rf".*/o/bergwerk/payouts/{payout_id}/$"))
    assert re.search(r"165[.,]50", page.locator("[data-amount]").inner_text())  # German: 165,50
    with page.expect_download() as download:
        page.locator("a[href$='format=csv']").click()
    with open(download.value.path(), encoding="utf-8-sig") as saved:
        text = saved.read()
    assert "120.00" in text and "45.50" in text
    xlsx = page.request.get(f"{demo.url}/o/bergwerk/payouts/{payout_id}/statement/?format=xlsx")
    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(xlsx.body()), read_only=True).active
    cells = [cell for row in sheet.iter_rows(values_only=True) for cell in row]
    assert 120 in cells and 45.5 in cells
    pdf = page.request.get(f"{demo.url}/o/bergwerk/payouts/{payout_id}/statement/?format=pdf")
    assert pdf.headers["content-type"] == "application/pdf" and pdf.body().startswith(b"%PDF")
    shoot(page, "payouts-partner")
    context.close()

    # The partner's owners were told in their language (Petra works in German).
    assert len(demo.emails_to(PARTNER)) >= 2
