"""Affiliate tracking in real Chromium against the seeded demo: a visitor follows the affiliate's link,
signs up and creates an organisation; the customer pays (a billing event, accrued); the commission
shows on the affiliate's page. Screenshot: affiliate.png."""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import Server, log_in, shoot
from tests.browser.test_onboarding import sign_up

pytestmark = pytest.mark.browser

AFFILIATE = "lena@affiliate.demo.partnerhub.test"
# Chromium in headless mode says so in its user agent; the link (rightly) does not count bots.
DESKTOP = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"

PAY = """
from django.utils import timezone
from partnerhub.access.policy import Actor
from partnerhub.accounts.models import User
from partnerhub.billing.events import EventIn, LineIn, ingest_batch
from partnerhub.billing.models import CustomerProduct, ProductStatus
from partnerhub.catalog.models import Product
from partnerhub.commissions.accrual import accrue_pending
from partnerhub.orgs.models import Organisation

org = Organisation.objects.get(slug="{slug}")
CustomerProduct.objects.create(org=org, product=Product.objects.get(sku="web-hosting"), status=ProductStatus.ACTIVE)
staff = User.objects.get(email="operator@demo.partnerhub.test")
event = EventIn(external_id="browser-{slug}-1", kind="payment", org=org.slug, currency="CHF",
                occurred_at=timezone.now(), lines=[LineIn(sku="web-hosting", base_amount="200.00")])
print(ingest_batch(Actor.system(staff), payloads=[event])[0].status)
accrue_pending()
"""


def test_link_signup_organisation_payment_commission(demo: Server, browser) -> None:
    # Lena reads her referral link on her affiliate page.
    lena, page = log_in(browser, demo, AFFILIATE, user_agent=DESKTOP)
    page.goto(f"{demo.url}/o/lena-berger-media/affiliate/")
    link = page.locator("[data-referral-link]").input_value()
    assert re.fullmatch(rf"{re.escape(demo.url)}/r/[a-z0-9-]+/", link)
    before = page.locator("[data-signups]").inner_text()

    # A visitor follows it to the pricing page, signs up and creates an organisation.
    visitor = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB", user_agent=DESKTOP)
    guest = visitor.new_page()
    guest.goto(f"{link}?to=/accounts/signup/")
    assert guest.url == f"{demo.url}/accounts/signup/"
    assert any(c["name"] == "partnerhub_ref" and c["httpOnly"] for c in visitor.cookies())
    sign_up(guest, demo, "nina@kaffeerad.example")
    guest.goto(f"{demo.url}/org/new/")
    guest.fill("input[name=name]", "Kaffeerad GmbH")
    guest.click("main form button[type=submit]")
    guest.wait_for_url(re.compile(r".*/o/kaffeerad-gmbh/"))
    visitor.close()

    # The customer pays; the commission is accrued.
    assert demo.manage("shell", "-c", PAY.format(slug="kaffeerad-gmbh")).strip().endswith("created")

    # Lena sees the new signup, the click and her commission.
    page.goto(f"{demo.url}/o/lena-berger-media/affiliate/")
    assert int(page.locator("[data-signups]").inner_text()) == int(before) + 1
    assert page.locator("tr[data-currency='CHF'] [data-total]").inner_text() == "20.00"
    page.locator("[data-copy]").click()
    shoot(page, "affiliate")

    # The operator's queue lists her account.
    operator, staff = log_in(browser, demo, "operator@demo.partnerhub.test", user_agent=DESKTOP)
    staff.goto(f"{demo.url}/o/alpstream/affiliates/?status=approved")
    assert staff.get_by_text("Lena Berger Media").first.is_visible()
    operator.close()
    lena.close()
