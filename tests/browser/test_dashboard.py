"""The partner dashboard and commission ledger in real Chromium against the seeded demo: figures, tier
progress, the server-rendered chart, the ledger with a filter; the operator's tiers and rates."""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import Server, log_in, shoot

pytestmark = pytest.mark.browser


def test_partner_dashboard_and_ledger(demo: Server, browser) -> None:
    context, page = log_in(browser, demo, "owner@bergwerk.demo.partnerhub.test")
    # The sidebar leads to the dashboard.
    page.locator(".sidebar a[href='/o/bergwerk/dashboard/']").click()
    page.wait_for_url(re.compile(r".*/o/bergwerk/dashboard/$"))

    active = page.locator("[data-kpi='active_customers'] .kpi-value")
    assert int(active.inner_text()) >= 11  # Gold from 11 customers with an active paid product
    for kpi in ("customers", "open_invitations", "trial_customers"):
        assert page.locator(f"[data-kpi='{kpi}'] .kpi-value").is_visible()
    for kpi in ("earned", "paid", "open"):
        assert page.locator(f"[data-kpi='{kpi}'][data-currency='CHF']").is_visible()
    assert "CHF" in page.locator("[data-kpi='earned'][data-currency='CHF'] .kpi-value").inner_text()
    assert page.locator("[data-testid='tier'] strong").inner_text() == "Gold"
    assert page.locator("progress#tier-progress").is_visible()
    assert page.locator("[data-testid='tier'] tr[data-category='shared-hosting']").is_visible()

    chart = page.locator("figure[data-currency='CHF'] svg.chart")
    assert chart.is_visible()
    bars = chart.locator("rect.bar")
    assert bars.count() == 12
    heights = [float(bars.nth(i).get_attribute("height") or 0) for i in range(12)]
    assert sum(1 for h in heights if h > 0) >= 6  # eight months of history
    assert chart.locator("title").first.text_content()
    shoot(page, "dashboard")

    page.locator(".sidebar a[href='/o/bergwerk/commissions/']").click()
    page.wait_for_url(re.compile(r".*/o/bergwerk/commissions/"))
    rows = page.locator("tr[data-entry]")
    assert rows.count() > 0
    page.select_option("#id_currency", "EUR")
    page.locator("form.filters button[type=submit]").click()
    page.wait_for_url(re.compile(r".*currency=EUR.*"))
    page.wait_for_load_state("networkidle")
    cells = page.locator("tr[data-entry] td.num").all_inner_texts()
    assert cells and all("EUR" in c for c in cells if "%" not in c)
    page.goto(f"{demo.url}/o/bergwerk/commissions/")
    shoot(page, "commissions")
    context.close()


def test_operator_edits_the_rate_table(demo: Server, browser) -> None:
    context, page = log_in(browser, demo, "operator@demo.partnerhub.test")
    page.goto(f"{demo.url}/o/alpstream/program/")
    page.locator("a[href='/o/alpstream/program/commissions/']").click()
    page.wait_for_url(re.compile(r".*/program/commissions/$"))
    assert page.locator("tr[data-tier='Platinum']").is_visible()
    row = page.locator("table.rate-table tr[data-category='cloud-vps']")
    cell = row.locator("input").nth(4)  # no tier, Bronze, Silver, Gold, Platinum
    assert cell.input_value() == "20.00"
    cell.fill("101")
    page.locator("form[action$='/rates/'] button[type=submit]").click()
    page.wait_for_load_state()
    assert page.locator("table.rate-table [role=alert]").first.is_visible()
    row = page.locator("table.rate-table tr[data-category='cloud-vps']")
    row.locator("input").nth(4).fill("21")
    page.locator("form[action$='/rates/'] button[type=submit]").click()
    page.wait_for_url(re.compile(r".*/program/commissions/$"))
    assert page.locator("table.rate-table tr[data-category='cloud-vps'] input").nth(4).input_value() in ("21.00", "21")
    shoot(page, "operator-commission-rates")
    context.close()
