"""The partner dashboard and ledger pages: access, figures, chart, filters, paging, exports."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from django.utils import timezone
from openpyxl import load_workbook  # type: ignore[import-untyped]

from conftest import add_member, make_user
from partnerhub.access.perms import Perm, Role
from partnerhub.audit.models import AuditEntry
from partnerhub.commissions.accrual import accrue_pending
from partnerhub.commissions.tests.factories import customer_org, event, holding, link, partner_org, seed_program
from partnerhub.commissions.tiers import refresh_partner_stats
from partnerhub.orgs.models import Organisation

pytestmark = pytest.mark.django_db


@pytest.fixture
def program(operator_org):
    return seed_program(operator_org)


@pytest.fixture
def partner(program):
    return partner_org("bergwerk")


@pytest.fixture
def owner(partner):
    user = make_user("owner@bergwerk.test", "Petra Bergwerk")
    add_member(user, partner, Role.OWNER)
    return user


@pytest.fixture
def staff(partner):
    """A partner member without partner.portal.manage."""
    user = make_user("staff@bergwerk.test", "Stefan Staff")
    add_member(user, partner, Role.MEMBER, [str(Perm.PARTNER_CUSTOMERS_ADMINISTER)])
    return user


def earn(partner: Organisation, count: int = 4) -> list[Organisation]:
    now = timezone.now()
    customers = []
    for i in range(count):
        c = customer_org(f"kunde-{i}")
        link(partner, c, since=now - timedelta(days=120))
        holding(c)
        customers.append(c)
    refresh_partner_stats([partner.pk], now=now - timedelta(days=100))
    for i, c in enumerate(customers):
        event(c, "payment", [("web-hosting", "100.00")], at=now - timedelta(days=30 * (i % 3) + 1))
    accrue_pending()
    return customers


DASHBOARD = "/o/{}/dashboard/"
LEDGER = "/o/{}/commissions/"


def test_dashboard_shows_figures_tier_and_chart(client_for, partner, owner):
    earn(partner)
    response = client_for(owner).get(DASHBOARD.format(partner.slug))
    assert response.status_code == 200
    html = response.content.decode()
    for label in (
        "Your customers",
        "Open invitations",
        "Active customers",
        "Customers in trial",
        "Total commission",
        "Paid-out commission",
        "Open commission",
    ):
        assert label in html
    assert (
        'data-kpi="active_customers"><span class="kpi-label">Active customers</span><span class="kpi-value">4<' in html
    )
    assert "CHF 40.00" in html  # 4 × 100.00 at Bronze 10 %
    assert "Bronze" in html and "Silver" in html
    assert html.count('<rect class="bar') == 12
    assert "<title" in html and "<desc" in html and "Show as table" in html
    assert 'data-testid="tier-history"' in html


def test_dashboard_of_a_new_partner_shows_empty_states(client_for, partner, owner):
    response = client_for(owner).get(DASHBOARD.format(partner.slug))
    assert response.status_code == 200
    html = response.content.decode()
    assert "No commissions yet" in html
    assert "<svg" not in html
    assert "You are not in a tier yet" in html


def test_pages_refuse_a_member_without_the_permission(client_for, partner, staff):
    earn(partner)
    client = client_for(staff)
    for url in (DASHBOARD, LEDGER, LEDGER + "export/?format=csv"):
        assert client.get(url.format(partner.slug)).status_code == 403
    assert not AuditEntry.objects.filter(action="commissions.ledger_exported").exists()


def test_foreign_organisations_answer_404(client_for, partner, globex_owner):
    earn(partner)
    client = client_for(globex_owner)
    for url in (DASHBOARD, LEDGER, LEDGER + "export/?format=csv"):
        assert client.get(url.format(partner.slug)).status_code == 404
        assert client.get(url.format("no-such-org")).status_code == 404


def test_anonymous_visitors_are_sent_to_the_login(client, partner):
    response = client.get(DASHBOARD.format(partner.slug))
    assert response.status_code == 302 and "login" in response["Location"]


def test_ledger_lists_filters_and_pages(client_for, partner, owner, monkeypatch):
    customers = earn(partner, count=5)
    client = client_for(owner)
    html = client.get(LEDGER.format(partner.slug)).content.decode()
    assert html.count("data-entry=") == 5
    assert "<td>Partner</td>" in html and "<td>Web hosting</td>" in html and "<td>Bronze</td>" in html
    only = client.get(LEDGER.format(partner.slug), {"customer": customers[2].slug}).content.decode()
    assert only.count("data-entry=") == 1 and customers[2].name in only
    none = client.get(LEDGER.format(partner.slug), {"type": "affiliate"}).content.decode()
    assert "No commissions match these filters." in none
    bad = client.get(LEDGER.format(partner.slug), {"date_from": "2026-05-01", "date_to": "2026-04-01"})
    assert bad.status_code == 200 and "The start date must not be after the end date." in bad.content.decode()

    # Filters and pages refresh only the list part for htmx.
    part = client.get(LEDGER.format(partner.slug), {"currency": "CHF"}, HTTP_HX_REQUEST="true").content.decode()
    assert part.lstrip().startswith('<div id="ledger-rows">') and "<html" not in part

    from partnerhub.commissions.views import ledger

    monkeypatch.setattr(ledger, "PAGE_SIZE", 2)
    first = client.get(LEDGER.format(partner.slug)).content.decode()
    assert first.count("data-entry=") == 2 and "Older" in first


def test_ledger_of_a_new_partner_is_empty(client_for, partner, owner):
    html = client_for(owner).get(LEDGER.format(partner.slug)).content.decode()
    assert "No commissions yet." in html


def test_csv_and_xlsx_exports_hold_the_filtered_rows(client_for, partner, owner):
    customers = earn(partner, count=3)
    client = client_for(owner)
    response = client.get(LEDGER.format(partner.slug) + "export/", {"format": "csv", "customer": customers[0].slug})
    assert response.status_code == 200
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][:3] == ["Entry", "Event date", "Type"]
    assert len(rows) == 2 and rows[1][4] == customers[0].slug and rows[1][11] == "10.00"

    response = client.get(LEDGER.format(partner.slug) + "export/", {"format": "xlsx"})
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    values = list(sheet.values)
    assert len(values) == 4 and str(values[1][11]) == "10"
    assert AuditEntry.objects.filter(action="commissions.ledger_exported", org=partner).count() == 2


def test_affiliate_only_organisation_sees_its_pages(client_for, program):
    affiliate = Organisation.objects.create(name="Lena Media", slug="lena", is_affiliate=True)
    user = make_user("lena@media.test")
    add_member(user, affiliate, Role.OWNER)
    client = client_for(user)
    html = client.get(DASHBOARD.format("lena")).content.decode()
    assert "Your commission rates" in html and "Your customers" not in html
    assert client.get(LEDGER.format("lena")).status_code == 200


def test_navigation_links_the_pages(client_for, partner, owner, staff):
    html = client_for(owner).get(DASHBOARD.format(partner.slug)).content.decode()
    assert f'href="/o/{partner.slug}/commissions/"' in html and f'href="/o/{partner.slug}/payouts/"' in html
