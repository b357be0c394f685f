"""Commissions through the API: dashboard figures, ledger pages, tiers and rates, settings."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from conftest import add_member, make_user
from partnerhub.access.perms import Perm, Role
from partnerhub.api.tests.helpers import assert_problem, send
from partnerhub.commissions.accrual import accrue_pending
from partnerhub.commissions.models import Rate, Tier
from partnerhub.commissions.tests.factories import customer_org, event, holding, link, partner_org, seed_program
from partnerhub.commissions.tiers import refresh_partner_stats

pytestmark = pytest.mark.django_db


@pytest.fixture
def program(operator_org):
    return seed_program(operator_org)


@pytest.fixture
def partner(program):
    partner = partner_org("bergwerk")
    now = timezone.now()
    customers = []
    for i in range(4):
        c = customer_org(f"kunde-{i}")
        link(partner, c, since=now - timedelta(days=90))
        holding(c)
        customers.append(c)
    refresh_partner_stats([partner.pk], now=now - timedelta(days=80))
    for i, c in enumerate(customers):
        event(c, "payment", [("web-hosting", "50.00")], at=now - timedelta(days=i + 1))
    accrue_pending()
    return partner


@pytest.fixture
def owner(partner):
    user = make_user("owner@bergwerk.test")
    add_member(user, partner, Role.OWNER)
    return user


def test_dashboard_figures(client_for, partner, owner):
    body = client_for(owner).get("/api/v1/orgs/bergwerk/dashboard").json()
    assert body["customers"] == 4 and body["active_customers"] == 4
    assert body["tier"]["name"] == "Bronze" and body["next_tier"]["name"] == "Silver"
    assert body["customers_to_next_tier"] == 2
    assert body["totals"] == [
        {
            "currency": "CHF",
            "earned": "20.00",
            "paid": "0.00",
            "pending": "20.00",
            "approved": "0.00",
            "open": "20.00",
            "entries": 4,
        }
    ]
    assert len(body["monthly"][0]["months"]) == 12
    hosting = next(r for r in body["rates"] if r["category"] == "shared-hosting")
    assert (hosting["current"], hosting["next"]) == ("10.00", "15.00")


def test_ledger_is_cursor_paginated_and_filtered(client_for, partner, owner):
    client = client_for(owner)
    first = client.get("/api/v1/orgs/bergwerk/commissions", {"limit": 3}).json()
    assert len(first["items"]) == 3 and first["next_cursor"]
    rest = client.get("/api/v1/orgs/bergwerk/commissions", {"limit": 3, "cursor": first["next_cursor"]}).json()
    assert len(rest["items"]) == 1 and rest["next_cursor"] is None
    ids = [i["id"] for i in first["items"] + rest["items"]]
    assert ids == sorted(ids, reverse=True)
    assert first["items"][0]["amount"] == "5.00" and first["items"][0]["type"] == "partner"
    assert client.get("/api/v1/orgs/bergwerk/commissions", {"status": "paid"}).json()["items"] == []
    assert_problem(client.get("/api/v1/orgs/bergwerk/commissions", {"status": "nonsense"}), 422)


def test_access_rules(client_for, partner, globex_owner):
    staff = make_user("staff@bergwerk.test")
    add_member(staff, partner, Role.MEMBER, [str(Perm.PARTNER_CUSTOMERS_ADMINISTER)])
    assert_problem(client_for(staff).get("/api/v1/orgs/bergwerk/dashboard"), 403)
    assert_problem(client_for(globex_owner).get("/api/v1/orgs/bergwerk/commissions"), 404)


def test_partners_read_terms_and_operator_writes_them(client_for, partner, owner, operator_staff):
    terms = client_for(owner).get("/api/v1/orgs/bergwerk/commission-terms").json()
    assert [t["name"] for t in terms["tiers"]] == ["Bronze", "Silver", "Gold", "Platinum"]
    assert {"category": "shared-hosting", "tier": "Platinum", "audience": "partner", "percent": "25.00"} in terms[
        "rates"
    ]
    # A partner cannot write.
    assert_problem(
        send(client_for(owner), "POST", "/api/v1/orgs/bergwerk/program/tiers", {"name": "X", "min_customers": 2}), 403
    )

    operator = client_for(operator_staff)
    created = send(operator, "POST", "/api/v1/orgs/operator/program/tiers", {"name": "Diamond", "min_customers": 50})
    assert created.status_code == 201 and created.json()["name"] == "Diamond"
    assert_problem(
        send(operator, "POST", "/api/v1/orgs/operator/program/tiers", {"name": "Diamond", "min_customers": 60}), 422
    )

    before = sorted(Rate.objects.values_list("id", "percent"))
    bad = send(
        operator,
        "PATCH",
        "/api/v1/orgs/operator/program/commission-rates",
        {
            "rates": [
                {"category": "shared-hosting", "tier": "Gold", "percent": "21"},
                {"category": "cloud-vps", "percent": "100.5"},
            ]
        },
    )
    assert_problem(bad, 422)
    assert sorted(Rate.objects.values_list("id", "percent")) == before
    ok = send(
        operator,
        "PATCH",
        "/api/v1/orgs/operator/program/commission-rates",
        {"rates": [{"category": "shared-hosting", "tier": "Gold", "percent": "21"}]},
    )
    assert ok.status_code == 200
    assert Rate.objects.get(category__slug="shared-hosting", tier__name="Gold").percent == Decimal(21)

    diamond = Tier.objects.get(name="Diamond")
    assert send(operator, "DELETE", f"/api/v1/orgs/operator/program/tiers/{diamond.pk}").status_code == 204
    held = Tier.objects.get(name="Bronze")
    assert_problem(send(operator, "DELETE", f"/api/v1/orgs/operator/program/tiers/{held.pk}"), 422)


def test_commission_settings(client_for, program, operator_staff):
    operator = client_for(operator_staff)
    url = "/api/v1/orgs/operator/program/commission-settings"
    assert operator.get(url).json()["hold_days"] == 30
    changed = send(operator, "PATCH", url, {"hold_days": 10, "payout_minimum": "75.50", "affiliate_months": 12})
    assert changed.status_code == 200
    assert changed.json()["payout_minimum"] == "75.50" and changed.json()["affiliate_months"] == 12
    assert_problem(send(operator, "PATCH", url, {"hold_days": 1000}), 422)
    assert operator.get(url).json()["hold_days"] == 10
