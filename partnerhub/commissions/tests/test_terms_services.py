"""The operator's tiers, rate table and commission settings: validation, audit, refusals change nothing."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404

from conftest import actor, add_member, make_user
from partnerhub.access.perms import Role
from partnerhub.audit.models import AuditEntry
from partnerhub.commissions import services
from partnerhub.commissions.models import Audience, PartnerStats, Rate, Tier, TierChange
from partnerhub.commissions.services import RateCell
from partnerhub.commissions.tests.factories import customer_org, holding, link, partner_org, seed_program
from partnerhub.commissions.tiers import refresh_partner_stats
from partnerhub.core.errors import ServiceError
from partnerhub.partners.models import Program

pytestmark = pytest.mark.django_db


@pytest.fixture
def program(operator_org):
    return seed_program(operator_org)


def snapshot() -> tuple[object, ...]:
    program = Program.objects.get()
    return (
        sorted(Tier.objects.values_list("name", "min_customers")),
        sorted(Rate.objects.values_list("audience", "category_id", "tier_id", "percent")),
        [getattr(program, name) for name in services.SETTINGS],
        sorted(TierChange.objects.values_list("partner_id", "tier_name")),
        AuditEntry.objects.count(),
    )


def tier_name(partner) -> str:
    tier = PartnerStats.objects.get(partner=partner).tier
    return tier.name if tier else ""


def audit(action: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The before and after of the one audit entry with `action` ({} where absent)."""
    entry = AuditEntry.objects.get(action=action)
    return entry.before or {}, entry.after or {}


def partner_with(count: int):
    partner = partner_org(f"p{count}")
    for i in range(count):
        c = customer_org(f"p{count}-c{i}")
        link(partner, c)
        holding(c)
    return partner


def test_add_tier_is_audited_and_moves_partners(program, operator_staff):
    partner = partner_with(2)
    refresh_partner_stats()
    assert PartnerStats.objects.get(partner=partner).tier_id is None

    tier = services.add_tier(actor(operator_staff), name="Starter", min_customers=1)

    assert PartnerStats.objects.get(partner=partner).tier_id == tier.pk
    assert TierChange.objects.filter(partner=partner).latest("id").tier_name == "Starter"
    assert audit("commissions.tier_added")[1] == {"name": "Starter", "min_customers": 1}


@pytest.mark.parametrize(
    ("name", "threshold", "message"),
    [
        ("", 4, "Enter a name"),
        ("Gold", 4, "already a tier named Gold"),
        ("gold", 4, "already a tier named gold"),
        ("Copper", 6, "already a tier from 6 customers"),
        ("Copper", 0, "between 1 and"),
    ],
)
def test_add_tier_refusals_change_nothing(program, operator_staff, name, threshold, message):
    before = snapshot()
    with pytest.raises(ServiceError, match=message):
        services.add_tier(actor(operator_staff), name=name, min_customers=threshold)
    assert snapshot() == before


def test_change_tier_threshold_recomputes_tiers(program, operator_staff):
    partner = partner_with(4)
    refresh_partner_stats()
    assert tier_name(partner) == "Bronze"
    silver = Tier.objects.get(name="Silver")

    services.change_tier(actor(operator_staff), tier=silver, name="Silver", min_customers=4)

    assert tier_name(partner) == "Silver"
    before, after = audit("commissions.tier_changed")
    assert before == {"name": "Silver", "min_customers": 6}
    assert after == {"name": "Silver", "min_customers": 4}


def test_change_tier_to_a_taken_threshold_changes_nothing(program, operator_staff):
    before = snapshot()
    with pytest.raises(ServiceError, match="already a tier from 11"):
        services.change_tier(
            actor(operator_staff), tier=Tier.objects.get(name="Silver"), name="Silver", min_customers=11
        )
    assert snapshot() == before


def test_remove_tier_never_held(program, operator_staff):
    platinum = Tier.objects.get(name="Platinum")
    services.remove_tier(actor(operator_staff), tier=platinum)
    assert not Tier.objects.filter(name="Platinum").exists()
    assert not Rate.objects.filter(tier_id=platinum.pk).exists()
    before, _ = audit("commissions.tier_removed")
    assert before["name"] == "Platinum" and before["rates"]["shared-hosting"] == "25.00"


def test_a_tier_in_the_history_stays(program, operator_staff):
    partner_with(3)
    refresh_partner_stats()
    before = snapshot()
    with pytest.raises(ServiceError, match="history keeps it"):
        services.remove_tier(actor(operator_staff), tier=Tier.objects.get(name="Bronze"))
    assert snapshot() == before


def test_set_rates_all_or_nothing(program, operator_staff):
    hosting = Rate.objects.get(category__slug="shared-hosting", tier__name="Gold").category_id
    gold = Tier.objects.get(name="Gold").pk
    before = snapshot()
    with pytest.raises(ServiceError, match="between 0 and 100"):
        services.set_rates(
            actor(operator_staff),
            rates={RateCell(hosting, gold): "22.5", RateCell(hosting, None): "101"},
        )
    with pytest.raises(ServiceError, match="two decimal places"):
        services.set_rates(actor(operator_staff), rates={RateCell(hosting, gold): "22.555"})
    with pytest.raises(ServiceError, match="without tiers"):
        services.set_rates(actor(operator_staff), rates={RateCell(hosting, gold, Audience.AFFILIATE): "1"})
    assert snapshot() == before

    changed = services.set_rates(
        actor(operator_staff),
        rates={
            RateCell(hosting, gold): "22.5",
            RateCell(hosting, None): "2",
            RateCell(hosting, None, Audience.AFFILIATE): None,
        },
    )
    assert changed == 3
    assert Rate.objects.get(category_id=hosting, tier_id=gold).percent == Decimal("22.50")
    assert Rate.objects.get(category_id=hosting, tier=None, audience="partner").percent == Decimal("2.00")
    assert not Rate.objects.filter(category_id=hosting, audience="affiliate").exists()
    old, new = audit("commissions.rates_changed")
    assert old["shared-hosting/Gold"] == "20.00" and new["shared-hosting/Gold"] == "22.50"
    assert "shared-hosting/base" not in old and new["shared-hosting/base"] == "2.00"
    assert "shared-hosting/affiliate" in old and "shared-hosting/affiliate" not in new
    # The same values again change nothing and write no audit entry.
    assert services.set_rates(actor(operator_staff), rates={RateCell(hosting, gold): "22.50"}) == 0
    assert AuditEntry.objects.filter(action="commissions.rates_changed").count() == 1


def test_settings_validation_and_audit(program, operator_staff):
    before = snapshot()
    for bad in (
        {"hold_days": 400},
        {"attribution_model": "random"},
        {"payout_minimum": "10.005"},
        {"payout_minimum": "abc"},
        {"payout_minimum": "-1"},
    ):
        with pytest.raises(ServiceError):
            services.update_commission_settings(actor(operator_staff), **bad)
    assert snapshot() == before

    services.update_commission_settings(
        actor(operator_staff), hold_days=14, payout_minimum="25.50", affiliate_months=None, attribution_model="first"
    )
    program.refresh_from_db()
    assert (program.hold_days, program.payout_minimum, program.attribution_model) == (14, Decimal("25.50"), "first")
    old, new = audit("commissions.settings_changed")
    assert old["hold_days"] == 30 and new["hold_days"] == 14
    assert new["payout_minimum"] == "25.50"


def test_only_operator_staff_with_the_permission(program, operator_org, acme_owner):
    member = make_user("member@operator.test")
    add_member(member, operator_org, Role.MEMBER)
    before = snapshot()
    for user, refusal in ((acme_owner, Http404), (member, PermissionDenied)):
        with pytest.raises(refusal):
            services.add_tier(actor(user), name="Copper", min_customers=2)
        with pytest.raises(refusal):
            services.update_commission_settings(actor(user), hold_days=1)
        with pytest.raises(refusal):
            services.remove_tier(actor(user), tier=Tier.objects.get(name="Gold"))
    assert snapshot() == before
