"""The operator's commission page: tiers, the rate table as one form, the settings."""

from __future__ import annotations

from decimal import Decimal

import pytest

from conftest import add_member, make_user
from partnerhub.access.perms import Role
from partnerhub.audit.models import AuditEntry
from partnerhub.commissions.models import Rate, Tier
from partnerhub.commissions.tests.factories import seed_program

pytestmark = pytest.mark.django_db

PAGE = "/o/operator/program/commissions/"


@pytest.fixture
def program(operator_org):
    return seed_program(operator_org)


def rate_post(program, **overrides: str) -> dict[str, str]:
    """The rate form as the page would send it, with some cells changed."""
    data = {}
    for rate in Rate.objects.filter(program=program):
        column = "affiliate" if rate.audience == "affiliate" else (rate.tier_id or "base")
        data[f"rate-{rate.category_id}-{column}"] = str(rate.percent)
    data.update(overrides)
    return data


def test_the_page_shows_tiers_rates_and_settings(client_for, program, operator_staff):
    response = client_for(operator_staff).get(PAGE)
    assert response.status_code == 200
    html = response.content.decode()
    for name in ("Bronze", "Silver", "Gold", "Platinum", "No tier", "Affiliates", "Hold period (days)"):
        assert name in html
    assert 'value="25.00"' in html
    assert "/o/operator/program/commissions/" in client_for(operator_staff).get("/o/operator/program/").content.decode()


def test_a_tier_is_added_and_a_bad_one_explained(client_for, program, operator_staff):
    client = client_for(operator_staff)
    response = client.post(PAGE + "tiers/", {"name": "Diamond", "min_customers": "50"})
    assert response.status_code == 302
    assert Tier.objects.filter(name="Diamond", min_customers=50).exists()

    response = client.post(PAGE + "tiers/", {"name": "Copper", "min_customers": "6"})
    assert response.status_code == 400
    assert "There is already a tier from 6 customers" in response.content.decode()
    assert not Tier.objects.filter(name="Copper").exists()


def test_the_rate_table_is_one_form(client_for, program, operator_staff):
    client = client_for(operator_staff)
    hosting = Rate.objects.filter(category__slug="shared-hosting")[0].category_id
    gold = Tier.objects.get(name="Gold").pk
    response = client.post(PAGE + "rates/", rate_post(program, **{f"rate-{hosting}-{gold}": "21.5"}))
    assert response.status_code == 302
    assert Rate.objects.get(category_id=hosting, tier_id=gold).percent == Decimal("21.50")

    audits = AuditEntry.objects.count()
    response = client.post(
        PAGE + "rates/",
        rate_post(program, **{f"rate-{hosting}-{gold}": "120", f"rate-{hosting}-base": "1.234"}),
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "less than or equal to 100" in html and "2 decimal places" in html
    assert Rate.objects.get(category_id=hosting, tier_id=gold).percent == Decimal("21.50")
    assert AuditEntry.objects.count() == audits


def test_rate_errors_in_the_users_language(client_for, program, operator_staff):
    operator_staff.language = "de"
    operator_staff.save(update_fields=["language"])
    client = client_for(operator_staff)
    hosting = Rate.objects.filter(category__slug="shared-hosting")[0].category_id
    response = client.post(
        PAGE + "rates/", rate_post(program, **{f"rate-{hosting}-base": "-1"}), HTTP_ACCEPT_LANGUAGE="de"
    )
    assert response.status_code == 400
    assert "größer oder gleich 0" in response.content.decode()


def test_settings_form(client_for, program, operator_staff):
    client = client_for(operator_staff)
    data = {
        "hold_days": "14",
        "payout_minimum": "25",
        "demotion_grace_days": "30",
        "affiliate_months": "",
        "attribution_window_days": "60",
        "attribution_model": "first",
        "click_dedupe_minutes": "30",
    }
    assert client.post(PAGE + "settings/", data).status_code == 302
    program.refresh_from_db()
    assert (program.hold_days, program.demotion_grace_days, program.attribution_model) == (14, 30, "first")
    response = client.post(PAGE + "settings/", {**data, "hold_days": "999"})
    assert response.status_code == 400
    program.refresh_from_db()
    assert program.hold_days == 14


def test_only_operator_staff_with_the_permission(client_for, program, operator_org, acme_owner):
    member = make_user("member@operator.test")
    add_member(member, operator_org, Role.MEMBER)
    assert client_for(acme_owner).get(PAGE).status_code == 404
    assert client_for(member).get(PAGE).status_code == 403
    before = list(Tier.objects.values_list("name", "min_customers"))
    assert client_for(member).post(PAGE + "tiers/", {"name": "X", "min_customers": "2"}).status_code == 403
    gold = Tier.objects.get(name="Gold")
    assert client_for(member).post(PAGE + f"tiers/{gold.pk}/remove/").status_code == 403
    assert list(Tier.objects.values_list("name", "min_customers")) == before


def test_a_tier_edited_in_its_row_says_how_it_went(client_for, program, operator_staff):
    """Saved, refused by the service, or invalid: a flash message each, and a refusal changes nothing."""
    client = client_for(operator_staff)
    gold = Tier.objects.get(program=program, name="Gold")
    url = f"{PAGE}tiers/{gold.pk}/"
    field = f"tier-{gold.pk}"

    def messages_after(data: dict[str, str]) -> list[str]:
        response = client.post(url, data, follow=True)
        assert response.status_code == 200
        return [str(m) for m in response.context["messages"]]

    assert messages_after({f"{field}-name": "Gold", f"{field}-min_customers": "12"}) == ["Tier saved."]
    assert Tier.objects.get(pk=gold.pk).min_customers == 12
    refused = messages_after({f"{field}-name": "Gold", f"{field}-min_customers": "6"})
    assert len(refused) == 1 and "There is already a tier from 6 customers" in refused[0]
    invalid = messages_after({f"{field}-name": "Gold", f"{field}-min_customers": "0"})
    assert len(invalid) == 1 and invalid[0].startswith("From customers: ")
    assert Tier.objects.get(pk=gold.pk).min_customers == 12
