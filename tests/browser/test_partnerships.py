"""The four ways a partnership begins, end to end in real Chromium against the seeded demo (DESIGN §4):

1. Bergwerk creates a customer; its contact registers from the emailed link and lands in the new
   organisation, which Bergwerk then lists under My customers.
2. Bergwerk asks an existing customer for access by email; the customer's admin confirms the password,
   grants different access than requested, and Bergwerk sees the partnership active.
3. A customer invites Bergwerk; Bergwerk's owner accepts from the emailed link.
4. A customer sets Bergwerk as its service provider: active at once, origin "self"; then changes the grant.

Bergwerk already has a partnership with every demo customer, so the flows use fresh customer
organisations (made here through the organisation service). Petra and the Tischlerei work in German:
the steps select by name and attribute, not by English text.
"""

from __future__ import annotations

import json
import re
import time
from typing import Any

import pytest

from tests.browser.conftest import DEMO_PASSWORD, Server, body_of, log_in, shoot

pytestmark = pytest.mark.browser

NEW_PASSWORD = "Quiet-river-Lantern-58"
PETRA = "owner@bergwerk.demo.partnerhub.test"
ANSWER_LINK = r"http://127\.0\.0\.1:\d+/partnerships/answer/[^\s/]+/"
INVITATION_LINK = r"http://127\.0\.0\.1:\d+/invitations/[^\s/]+/"

# A customer organisation that has never dealt with Bergwerk: its owner (who manages providers) and the org.
NEW_CUSTOMER = """
from allauth.account.models import EmailAddress
from partnerhub.access.policy import Actor
from partnerhub.accounts.models import User
from partnerhub.orgs.services import create_organisation
user = User.objects.create_user(email={email!r}, password={password!r}, name={name!r}, language={language!r})
EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
org = create_organisation(Actor.system(user), name={org!r}, slug={slug!r})
print(org.pk)
"""

# The password check for sensitive pages is skipped for 5 minutes after logging in. Make `email`'s
# logins older than that, as if they had logged in a while ago.
AGE_LOGINS = """
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from partnerhub.accounts.models import User
user = User.objects.get(email={email!r})
for row in Session.objects.all():
    store = SessionStore(session_key=row.session_key)
    records = store.get("account_authentication_methods")
    if store.get("_auth_user_id") == str(user.pk) and records:
        store["account_authentication_methods"] = [{{**r, "at": r["at"] - 900}} for r in records]
        store.save()
"""

PARTNERSHIP = """
import json
from partnerhub.partnerships.models import Partnership
p = Partnership.objects.select_related("grant").get(pk={pk})
g = p.grant
print(json.dumps([p.status, p.origin, p.flow, g.scopes, g.requested_scopes, g.validity_days, g.auto_extend]))
"""


# The program's eligibility rules of seed 001 (EUR 1800 a year, a website), unless the demo has them already.
ELIGIBILITY = """
from partnerhub.access.policy import Actor
from partnerhub.accounts.models import User
from partnerhub.partners.services import eligibility, get_program
staff = Actor.system(User.objects.get(email="operator@demo.partnerhub.test"))
if not eligibility.volumes_of(get_program()):
    eligibility.set_eligibility_volume(staff, currency="EUR", min_amount="1800")
"""


def link_in(server: Server, address: str, pattern: str, *, about: str) -> str:
    """The link matching `pattern` in the newest email to `address` that mentions `about` (waits briefly)."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        for message in reversed(server.emails_to(address)):
            body = body_of(message)
            match = re.search(pattern, body)
            if match and about in body:
                return match.group(0)
        time.sleep(0.2)
    raise AssertionError(f"no email to {address} about {about!r} with a link matching {pattern!r}")


def new_customer(server: Server, *, org: str, slug: str, email: str, name: str, language: str = "en") -> int:
    script = NEW_CUSTOMER.format(email=email, password=DEMO_PASSWORD, name=name, language=language, org=org, slug=slug)
    return int(server.manage("shell", "-c", script).strip().splitlines()[-1])


def age_logins(server: Server, email: str) -> None:
    server.manage("shell", "-c", AGE_LOGINS.format(email=email))


def partnership_state(server: Server, pk: int) -> dict[str, Any]:
    """The partnership and its grant as stored (what the pages showed must be what was saved)."""
    output = server.manage("shell", "-c", PARTNERSHIP.format(pk=pk)).strip().splitlines()[-1]
    status, origin, flow, scopes, requested, days, auto_extend = json.loads(output)
    return {
        "status": status,
        "origin": origin,
        "flow": flow,
        "scopes": set(scopes),
        "requested": set(requested),
        "validity_days": days,
        "auto_extend": auto_extend,
    }


def tick_scopes(page: Any, scopes: set[str]) -> None:
    """Tick exactly `scopes` among the grant form's permission boxes."""
    boxes = page.locator("input[name=scopes]")
    for index in range(boxes.count()):
        box = boxes.nth(index)
        box.set_checked(box.get_attribute("value") in scopes)


def partnership_id(url: str) -> int:
    match = re.search(r"/(?:providers|partnerships)/(\d+)/", url)
    assert match is not None, url
    return int(match.group(1))


# --- 1. the partner creates the customer -------------------------------------------------------------------


def test_partner_creates_a_customer_whose_contact_registers(demo: Server, browser: Any) -> None:
    contact = "georg@adler.browser.test"
    context, page = log_in(browser, demo, PETRA)
    page.goto(f"{demo.url}/o/bergwerk/customers/new/")
    page.fill("input[name=name]", "Gasthof Adler")
    page.fill("input[name=contact_name]", "Georg Adler")
    page.fill("input[name=contact_email]", contact)
    page.fill("input[name=website]", "https://gasthof-adler.example")
    page.select_option("select[name=language]", "de")
    page.fill("input[name=street]", "Hauptplatz 3")
    page.fill("input[name=postcode]", "6900")
    page.fill("input[name=city]", "Bregenz")
    page.fill("input[name=country]", "AT")
    shoot(page, "customer-new")
    page.click("main form[method=post] button[type=submit]")
    page.wait_for_url(re.compile(r".*/o/bergwerk/customers/\d+/$"))
    customer_id = int(page.url.rstrip("/").rsplit("/", 1)[1])
    assert page.get_by_role("heading", name="Gasthof Adler").first.is_visible()

    # The contact gets the registration link (in German, as chosen), signs up with it and joins as owner.
    invitation = link_in(demo, contact, INVITATION_LINK, about="Gasthof Adler")
    georg_context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="de-DE")
    georg = georg_context.new_page()
    georg.goto(invitation)
    georg.click("main a[href^='/accounts/signup/']")
    georg.wait_for_url(re.compile(r".*/accounts/signup/.*"))
    georg.fill("input[name=email]", contact)
    georg.fill("input[name=password1]", NEW_PASSWORD)
    georg.fill("input[name=password2]", NEW_PASSWORD)
    georg.click("main form button[type=submit]")
    georg.wait_for_load_state()
    confirm = link_in(demo, contact, r"http://127\.0\.0\.1:\d+/accounts/confirm-email/[^\s]+", about="confirm-email")
    georg.goto(confirm)
    georg.click("main form button[type=submit]")
    georg.wait_for_load_state()
    georg.goto(invitation)
    georg.click("main form button[type=submit]")
    georg.wait_for_url(re.compile(rf"{re.escape(demo.url)}/o/[\w-]+/$"))
    slug = georg.url.rstrip("/").rsplit("/", 1)[1]
    assert georg.get_by_role("heading", name="Gasthof Adler").first.is_visible()
    georg.goto(f"{demo.url}/o/{slug}/members/")
    assert georg.get_by_text(contact).first.is_visible()
    assert georg.get_by_text(PETRA).first.is_visible()  # the creator is the customer's admin
    georg_context.close()

    # Bergwerk lists the new customer under My customers.
    page.goto(f"{demo.url}/o/bergwerk/customers/")
    row = page.locator(f"tr[data-customer='{customer_id}']")
    assert row.is_visible()
    assert "Gasthof Adler" in row.inner_text()
    assert row.locator("a[target=_blank][href$='/session/']").count() >= 1  # opens a management session
    shoot(page, "my-customers")
    context.close()


# --- 2. the partner requests management; the customer grants different access ------------------------------


def test_partner_requests_access_and_the_customer_grants_different_access(demo: Server, browser: Any) -> None:
    admin = "anna@korn.browser.test"
    new_customer(demo, org="Bäckerei Korn", slug="baeckerei-korn", email=admin, name="Anna Korn")

    context, page = log_in(browser, demo, PETRA)
    page.goto(f"{demo.url}/o/bergwerk/partnerships/request/")
    page.fill("input[name=email]", admin)
    tick_scopes(page, {"products.manage", "billing.view", "tickets.use"})
    page.fill("textarea[name=message]", "We would like to look after your web shop.")
    page.click("main form[method=post] button[type=submit]")
    page.wait_for_url(f"{demo.url}/o/bergwerk/partnerships/")
    request_row = page.locator("tr[data-partnership]", has_text="Bäckerei Korn")
    assert request_row.is_visible()
    pk = int(request_row.get_attribute("data-partnership") or 0)
    assert partnership_state(demo, pk)["status"] == "pending"

    # Anna opens the emailed link: she logs in and lands on the request.
    review = f"{demo.url}/o/baeckerei-korn/providers/{pk}/review/"
    anna_context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")
    anna = anna_context.new_page()
    anna.goto(link_in(demo, admin, ANSWER_LINK, about="Bergwerk"))
    anna.wait_for_url(re.compile(r".*/accounts/login/\?next=.*"))
    anna.fill("input[name=login]", admin)
    anna.fill("input[name=password]", DEMO_PASSWORD)
    anna.click("main form button[type=submit]")
    anna.wait_for_url(review)
    # Having logged in a while ago, she confirms her password before she can answer.
    age_logins(demo, admin)
    anna.reload()
    anna.wait_for_url(re.compile(r".*/accounts/reauthenticate/.*"))
    anna.fill("input[name=password]", DEMO_PASSWORD)
    anna.click("main form button[type=submit]")
    anna.wait_for_url(review)
    assert anna.get_by_text("We would like to look after your web shop.").is_visible()

    # She grants less and other access than requested: no invoices, but settings; 90 days.
    tick_scopes(anna, {"products.manage", "tickets.use", "org.settings.manage"})
    anna.fill("input[name=validity_days]", "90")
    shoot(anna, "partnership-request-review")
    anna.click("main form[method=post]:has(input[name=validity_days]) button[type=submit]")
    anna.wait_for_url(f"{demo.url}/o/baeckerei-korn/providers/{pk}/")
    assert anna.locator(".badge-ok").first.is_visible()
    assert anna.get_by_text("Requested", exact=True).is_visible()  # the summary shows what differs
    anna_context.close()

    state = partnership_state(demo, pk)
    assert state["status"] == "active" and state["origin"] == "partner" and state["flow"] == "requested"
    assert state["scopes"] == {"products.manage", "tickets.use", "org.settings.manage"}
    assert state["requested"] == {"products.manage", "billing.view", "tickets.use"}
    assert state["validity_days"] == 90

    # Bergwerk sees the partnership active with the access granted, and the customer in My customers.
    assert link_in(demo, PETRA, r"baeckerei-korn|Bäckerei Korn", about="Bäckerei Korn")
    page.goto(f"{demo.url}/o/bergwerk/partnerships/{pk}/")
    assert page.locator(".badge-ok").first.is_visible()
    assert page.locator(f"a[href$='/partnerships/{pk}/end/']").is_visible()
    page.goto(f"{demo.url}/o/bergwerk/customers/")
    assert page.locator("tr[data-customer]", has_text="Bäckerei Korn").is_visible()
    context.close()


# --- 3. the customer invites the partner; the partner accepts ----------------------------------------------


def test_customer_invites_the_partner_who_accepts(demo: Server, browser: Any) -> None:
    admin = "tom@holz.browser.test"
    new_customer(demo, org="Tischlerei Holz", slug="tischlerei-holz", email=admin, name="Tom Holz", language="de")

    tom_context, tom = log_in(browser, demo, admin)
    tom.goto(f"{demo.url}/o/tischlerei-holz/providers/invite/")
    tom.fill("input[name=q]", "Bergwerk")
    tom.click("main form.filters button[type=submit]")
    tom.locator("main table a[href^='?partner=']").first.click()
    tom.wait_for_url(re.compile(r".*\?partner=\d+$"))
    tick_scopes(tom, {"org.settings.manage", "products.manage", "tickets.use"})
    tom.fill("textarea[name=message]", "Bitte übernehmt unsere Domains.")
    tom.click("main form[method=post] button[type=submit]")
    tom.wait_for_url(re.compile(r".*/o/tischlerei-holz/providers/\d+/$"))
    pk = partnership_id(tom.url)
    assert tom.locator(".badge-ok").count() == 0  # nothing granted until the partner accepts
    assert partnership_state(demo, pk)["status"] == "pending"

    # Petra follows the emailed link to the invitation and accepts it.
    context, page = log_in(browser, demo, PETRA)
    page.goto(link_in(demo, PETRA, ANSWER_LINK, about="Tischlerei Holz"))
    page.wait_for_url(f"{demo.url}/o/bergwerk/partnerships/{pk}/")
    assert page.get_by_text("Bitte übernehmt unsere Domains.").is_visible()
    page.click(f"form[action$='/partnerships/{pk}/accept/'] button[type=submit]")
    page.wait_for_url(f"{demo.url}/o/bergwerk/partnerships/{pk}/")
    assert page.locator(".badge-ok").first.is_visible()
    context.close()

    state = partnership_state(demo, pk)
    assert state["status"] == "active" and state["origin"] == "self" and state["flow"] == "invited"
    assert state["scopes"] == {"org.settings.manage", "products.manage", "tickets.use"}

    # The customer sees Bergwerk active among its service providers.
    tom.goto(f"{demo.url}/o/tischlerei-holz/providers/")
    assert tom.locator(f"section[data-partnership='{pk}'] .badge-ok").first.is_visible()
    tom_context.close()


# --- 4. the customer chooses the partner: active at once, origin self ---------------------------------------


def test_customer_chooses_the_partner_and_changes_its_access(demo: Server, browser: Any) -> None:
    admin = "rosa@rebe.browser.test"
    new_customer(demo, org="Weingut Rebe", slug="weingut-rebe", email=admin, name="Rosa Rebe")

    context, page = log_in(browser, demo, admin)
    page.goto(f"{demo.url}/o/weingut-rebe/providers/")
    page.click("main a[href$='/providers/choose/']")
    page.fill("input[name=q]", PETRA)  # found by the exact address of someone at the partner
    page.click("main form.filters button[type=submit]")
    page.locator("main table a[href^='?partner=']").first.click()
    page.wait_for_url(re.compile(r".*\?partner=\d+$"))
    tick_scopes(page, {"org.settings.manage", "products.manage", "billing.view", "tickets.use"})
    page.fill("input[name=validity_days]", "180")
    page.check("input[name=auto_extend]")
    page.click("main form[method=post] button[type=submit]")
    page.wait_for_url(re.compile(r".*/o/weingut-rebe/providers/\d+/$"))
    pk = partnership_id(page.url)
    assert page.locator(".badge-ok").first.is_visible()  # in force at once

    state = partnership_state(demo, pk)
    assert state["status"] == "active" and state["origin"] == "self" and state["flow"] == "chosen"
    assert state["validity_days"] == 180 and state["auto_extend"] is True
    assert link_in(demo, PETRA, r"Weingut Rebe", about="Weingut Rebe")  # Bergwerk is told

    page.goto(f"{demo.url}/o/weingut-rebe/providers/")
    section = page.locator(f"section[data-partnership='{pk}']")
    assert section.locator(".badge-ok").first.is_visible()
    assert "Customer chose the partner" in section.inner_text()
    shoot(page, "providers")

    # The customer takes the tickets away again: a new version of the grant, kept in the history.
    section.locator(f"a[href$='/providers/{pk}/grant/']").click()
    page.wait_for_url(f"{demo.url}/o/weingut-rebe/providers/{pk}/grant/")
    tick_scopes(page, {"org.settings.manage", "products.manage", "billing.view"})
    shoot(page, "grant-edit")
    page.click("main form[method=post] button[type=submit]")
    page.wait_for_url(f"{demo.url}/o/weingut-rebe/providers/{pk}/")
    assert partnership_state(demo, pk)["scopes"] == {"org.settings.manage", "products.manage", "billing.view"}
    assert page.locator("table tbody tr").count() >= 2  # chosen, then changed
    context.close()

    # Bergwerk sees the partnership in force too.
    context, page = log_in(browser, demo, PETRA)
    page.goto(f"{demo.url}/o/bergwerk/partnerships/{pk}/")
    assert page.locator(".badge-ok").first.is_visible()
    context.close()


# --- requesting partner status -----------------------------------------------------------------------------


def test_partner_application_shows_the_rules_live(demo: Server, browser: Any) -> None:
    demo.manage("shell", "-c", ELIGIBILITY)
    context, page = log_in(browser, demo, "lena@affiliate.demo.partnerhub.test")
    page.goto(f"{demo.url}/o/lena-berger-media/partner-status/")
    page.fill("input[name=company_name]", "Lena Berger Media")
    page.fill("input[name=country]", "DE")
    page.fill("input[name=website]", "https://lena-berger.example")
    page.fill("input[name=expected_volume]", "900")
    page.select_option("select[name=currency]", "EUR")
    page.fill("input[name=contact_name]", "Lena Berger")
    page.fill("input[name=contact_email]", "lena@affiliate.demo.partnerhub.test")
    # The eligibility panel follows the input: EUR 900 a year is below the program's minimum …
    page.locator("#eligibility li[data-rule=min_volume][data-met=no]").wait_for()
    shoot(page, "partner-application")
    # … EUR 2500 meets it, before anything is sent.
    page.fill("input[name=expected_volume]", "2500")
    page.locator("#eligibility li[data-rule=min_volume][data-met=yes]").wait_for()
    assert "/partner-status/" in page.url
    context.close()
