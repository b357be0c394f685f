"""Management sessions in real Chromium against the seeded demo (DESIGN §5, seeds 000 and 004).

The café asks to be emailed about sessions. Stefan (Bergwerk staff with partner.customers.administer)
opens Café Sonnenschein from My customers in a new tab, gives a reason (the café is emailed), works under the permanent banner with only what the café granted (everything
but ordering), changes the website, and ends the session. A second session times out after 30 idle
minutes: the next click ends it with a message and leaves him without access. The café's admin then
sees the sessions and the partner's entries in its audit log and exports them as CSV. Finally the
café lets operator support in, and support finds it on the support desk and opens a session there.

Stefan, Clara and Samuel work in German: the steps select by attribute, not by English text.
"""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import Server, log_in, shoot
from tests.browser.test_partnerships import link_in

pytestmark = pytest.mark.browser

STEFAN = "staff@bergwerk.demo.partnerhub.test"
CLARA = "admin@sonnenschein.demo.partnerhub.test"
SAMUEL = "support@demo.partnerhub.test"
PARTNER = "Bergwerk Digital GmbH"
OPERATOR = "Alpstream Hosting AG"
CUSTOMER = "Café Sonnenschein"
CAFE = "/o/cafe-sonnenschein"
FIRST_REASON = "Ticket 2001: update the website address"
SECOND_REASON = "Ticket 2002: check the mailboxes"
WEBSITE = "https://cafe-sonnenschein-bern.example"

# The demo's grant: Bergwerk manages the café in full, everything but placing orders, in force.
CAFE_GRANT = """
import json
from partnerhub.partnerships.models import Partnership
p = Partnership.objects.select_related("grant", "customer").get(
    partner__slug="bergwerk", customer__slug="cafe-sonnenschein", status="active"
)
print(json.dumps([p.customer_id, p.grant.scopes, p.grant.is_in_force]))
"""

# The server's clock cannot be moved: move the open sessions 31 minutes into the past instead.
GO_IDLE = """
from datetime import timedelta
from django.db.models import F
from partnerhub.delegation.models import ManagementSession
back = timedelta(minutes=31)
ManagementSession.objects.filter(ended_at=None).update(started_at=F("started_at") - back, last_seen_at=F("last_seen_at") - back)
"""


def cafe_grant(server: Server) -> tuple[int, set[str]]:
    customer_id, scopes, in_force = json.loads(server.manage("shell", "-c", CAFE_GRANT).strip().splitlines()[-1])
    assert in_force
    return int(customer_id), set(scopes)


def start_session(page: Any, reason: str) -> int:
    """On the session start page: give the reason, start, land in the café under the banner."""
    page.fill("textarea[name=reason]", reason)
    page.click("main form[method=post] button[type=submit]")
    page.wait_for_url(re.compile(rf".*{CAFE}/$"))
    row = page.locator(".session-banner .session-banner-row")
    assert row.count() == 1
    return int(row.get_attribute("data-session") or 0)


def status_of(page: Any, url: str) -> int:
    response = page.goto(url)
    assert response is not None
    return int(response.status)


def test_management_session_with_banner_grant_limits_timeout_and_audit(demo: Server, browser: Any) -> None:
    cafe_id, scopes = cafe_grant(demo)
    assert "org.settings.manage" in scopes and "billing.order" not in scopes  # the demo's grant

    # The café wants to be emailed whenever a partner or support opens a session.
    context, clara = log_in(browser, demo, CLARA)
    clara.goto(f"{demo.url}{CAFE}/support-access/")
    clara.check("input[name=notify]")
    clara.click(f"form[action='{CAFE}/support-access/notifications/'] button[type=submit]")
    clara.wait_for_url(f"{demo.url}{CAFE}/support-access/")
    assert clara.is_checked("input[name=notify]")
    context.close()

    # From My customers, "Manage" opens the session page in a new tab.
    context, stefan = log_in(browser, demo, STEFAN)
    stefan.goto(f"{demo.url}/o/bergwerk/customers/")
    row = stefan.locator(f"tr[data-customer='{cafe_id}']")
    with context.expect_page() as opened:
        row.locator("a[target=_blank][href$='/session/']").first.click()
    page = opened.value
    page.wait_for_load_state()
    assert page.url == f"{demo.url}/o/bergwerk/customers/{cafe_id}/session/"
    assert page.locator("textarea[name=reason]").is_visible()  # a reason is required
    page.click("main form[method=post] button[type=submit]")  # … so starting without one does not
    assert page.url.endswith(f"/customers/{cafe_id}/session/")
    page.fill("textarea[name=reason]", FIRST_REASON)
    shoot(page, "management-session-start")
    first = start_session(page, FIRST_REASON)

    # The permanent banner names the customer, the partner and the reason, with an end button.
    banner = page.locator(".session-banner")
    assert banner.is_visible()
    text = banner.inner_text()
    assert CUSTOMER in text and PARTNER in text and FIRST_REASON in text
    assert banner.locator(f"form[action='/sessions/{first}/end/'] button[type=submit]").is_visible()
    shoot(page, "management-session-banner")
    assert link_in(demo, CLARA, rf"{re.escape(demo.url)}{CAFE}/sessions/", about=FIRST_REASON)  # the café is told

    # Only what the grant allows: no ordering button, and the pages outside the grant are refused.
    page.goto(f"{demo.url}{CAFE}/products/")
    assert page.locator(".session-banner").is_visible()
    assert page.locator(f"a[href='{CAFE}/orders/new/']").count() == 0
    assert page.locator(f"a[href='{CAFE}/providers/']").count() == 0  # who else serves the café is not his business
    assert status_of(page, f"{demo.url}{CAFE}/orders/new/") == 403
    assert status_of(page, f"{demo.url}{CAFE}/providers/") == 403
    assert status_of(page, f"{demo.url}{CAFE}/api-keys/") in (403, 404)

    # One change inside the grant: the café's website.
    page.goto(f"{demo.url}{CAFE}/settings/")
    page.fill("input[name=website]", WEBSITE)
    page.click("main form[method=post] button[type=submit]")
    page.wait_for_url(f"{demo.url}{CAFE}/settings/")
    assert page.locator(".msg-success").is_visible()
    assert page.input_value("input[name=website]") == WEBSITE

    # He ends the session: back to My customers, no banner, no access to the café any more.
    page.click(f".session-banner form[action='/sessions/{first}/end/'] button[type=submit]")
    page.wait_for_url(f"{demo.url}/o/bergwerk/customers/")
    assert page.locator(".session-banner").count() == 0
    assert status_of(page, f"{demo.url}{CAFE}/") == 404

    # A second session, then 30 minutes without a request: the next click ends it with a message.
    page.goto(f"{demo.url}/o/bergwerk/customers/{cafe_id}/session/")
    second = start_session(page, SECOND_REASON)
    assert second != first
    demo.manage("shell", "-c", GO_IDLE)
    page.locator(f"a[href='{CAFE}/products/']").first.click()
    page.wait_for_url(f"{demo.url}/o/bergwerk/")
    assert page.locator(".session-banner").count() == 0
    assert page.locator(".msg-warning", has_text=CUSTOMER).is_visible()
    shoot(page, "management-session-timeout")
    assert status_of(page, f"{demo.url}{CAFE}/products/") == 404
    context.close()

    # The café sees both sessions with their reasons …
    context, clara = log_in(browser, demo, CLARA)
    clara.goto(f"{demo.url}{CAFE}/sessions/")
    assert clara.get_by_text(FIRST_REASON).first.is_visible()
    assert clara.get_by_text(SECOND_REASON).first.is_visible()
    shoot(clara, "management-sessions-customer")

    # … and the partner's activity in its audit log: who, for which partner, in which session.
    clara.goto(f"{demo.url}{CAFE}/audit/")
    clara.select_option("select[name=partner]", "any")
    clara.wait_for_url(re.compile(r".*partner=any.*"))
    rows = clara.locator("#audit-rows tbody tr")
    rows.first.wait_for()
    change = rows.filter(has_text="org.updated").filter(has_text=STEFAN).first
    assert change.is_visible()
    assert PARTNER in change.inner_text()
    assert change.locator(f"a:text-is('#{first}')").is_visible()
    assert rows.filter(has_text="management_session.started").count() >= 2
    for index in range(rows.count()):  # the filter shows partner (and support) activity only
        assert PARTNER in rows.nth(index).inner_text() or OPERATOR in rows.nth(index).inner_text()
    # The log is wider than the page: show its right-hand side, with the partner and session columns.
    clara.locator("#audit-rows .table-wrap").evaluate("wrap => { wrap.scrollLeft = wrap.scrollWidth; }")
    shoot(clara, "customer-audit-partner-activity")

    # The export carries the same entries with partner and session.
    with clara.expect_download() as download:
        clara.click("#audit-rows a[href*='/audit/export.csv']")
    path = download.value.path()
    assert path is not None
    exported = list(csv.reader(io.StringIO(Path(path).read_text(encoding="utf-8-sig"))))
    header, entries = exported[0], exported[1:]
    assert len(header) == 15
    mine = [e for e in entries if e[3] == "org.updated" and e[2] == STEFAN]
    assert mine, entries
    assert mine[0][13] == PARTNER and mine[0][14] == str(first)
    assert WEBSITE in " ".join(mine[0])
    assert {e[14] for e in entries if e[3] == "management_session.started"} >= {str(first), str(second)}
    assert all(e[13] for e in entries)  # partner activity only, as filtered on the page

    # The session number leads to everything done in that session.
    clara.locator(f"#audit-rows a:text-is('#{first}')").first.click()
    clara.wait_for_url(re.compile(rf".*session={first}\b.*"))
    in_session = clara.locator("#audit-rows tbody tr")
    assert in_session.filter(has_text="org.updated").count() == 1
    assert in_session.count() == 3  # started, the change, ended
    context.close()


def test_support_access_and_the_support_desk(demo: Server, browser: Any) -> None:
    cafe_id, _scopes = cafe_grant(demo)

    # Clara lets operator support in for 3 days.
    context, clara = log_in(browser, demo, CLARA)
    clara.goto(f"{demo.url}{CAFE}/support-access/")
    clara.fill("input[name=days]", "3")
    clara.fill("textarea[name=note]", "The invoice address looks wrong.")
    clara.click(f"form[action='{CAFE}/support-access/grant/'] button[type=submit]")
    clara.wait_for_url(f"{demo.url}{CAFE}/support-access/")
    assert clara.locator("tr[data-support] .badge-ok").first.is_visible()
    context.close()

    # Samuel finds the café on the support desk and opens it in a support session.
    context, samuel = log_in(browser, demo, SAMUEL)
    samuel.goto(f"{demo.url}/o/alpstream/support/")
    samuel.fill("input[name=q]", "Sonnenschein")
    samuel.click("main form[role=search] button[type=submit]")
    row = samuel.locator(f"tr[data-org='{cafe_id}']")
    assert "The invoice address looks wrong." in row.inner_text()
    shoot(samuel, "support-desk")
    with context.expect_page() as opened:
        row.locator("a[target=_blank][href$='/session/']").click()
    page = opened.value
    page.wait_for_load_state()
    session = start_session(page, "Call 3001: invoice address")
    assert CUSTOMER in page.locator(".session-banner").inner_text()
    page.click(f".session-banner form[action='/sessions/{session}/end/'] button[type=submit]")
    page.wait_for_url(f"{demo.url}/o/alpstream/support/")
    assert page.locator(".session-banner").count() == 0
    context.close()
