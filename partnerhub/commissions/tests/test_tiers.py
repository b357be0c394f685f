"""Tiers (seed 004): thresholds on customers with an active paid product, the rate table, the tier
history a commission uses, demotion grace, refresh on change and the set-based nightly reconcile;
and the ledger's append-only guard on the database."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from partnerhub.billing.models import CustomerProduct, ProductStatus
from partnerhub.commissions.accrual import accrue_pending
from partnerhub.commissions.ledger import approve_due
from partnerhub.commissions.models import EntryStatus, LedgerEntry, PartnerStats, Payout, TierChange
from partnerhub.commissions.terms import load_terms
from partnerhub.commissions.tests.factories import (
    customer_org,
    event,
    holding,
    link,
    partner_org,
    seed_program,
    set_tier,
)
from partnerhub.commissions.tiers import count_figures, refresh_partner_stats, tier_at
from partnerhub.orgs.models import Organisation
from partnerhub.partnerships.models import Partnership, PartnershipStatus

pytestmark = pytest.mark.django_db

_serial = iter(range(1, 10**6))


@pytest.fixture
def program(operator_org):
    return seed_program(operator_org)


def customers(
    partner: Organisation, n: int, *, status: str = ProductStatus.ACTIVE, ended: bool = False
) -> list[Organisation]:
    """`n` new customers of `partner`, each with one product in `status` (ended: the partnership ended)."""
    made = []
    since = timezone.now() - timedelta(days=30)
    for _ in range(n):
        customer = customer_org(f"c-{next(_serial)}")
        link(partner, customer, since=since, until=timezone.now() - timedelta(days=1) if ended else None)
        holding(customer, status=status)
        made.append(customer)
    return made


def stats(partner: Organisation) -> PartnerStats:
    return PartnerStats.objects.get(partner=partner)


def tier_of(partner: Organisation) -> str | None:
    tier = stats(partner).tier
    return tier.name if tier else None


def name_at(partner: Organisation, moment: datetime) -> str | None:
    change = tier_at(partner.pk, moment)
    return change.tier_name if change else None


# --- thresholds --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("active", "tier"),
    [(2, None), (3, "Bronze"), (5, "Bronze"), (6, "Silver"), (10, "Silver"), (11, "Gold"), (20, "Gold"),
     (21, "Platinum")],
)  # fmt: skip
def test_tier_boundaries(program, active, tier):
    partner = partner_org("bergwerk")
    counted = customers(partner, active)
    # Neither customers in trial nor those of ended partnerships count, nor a second active product.
    customers(partner, 2, status=ProductStatus.TRIAL)
    customers(partner, 2, ended=True)
    customers(partner, 1, status=ProductStatus.CANCELLED)
    holding(counted[0], "vps-s")

    refresh_partner_stats([partner.pk])

    row = stats(partner)
    assert (row.customers, row.active_customers, row.trial_customers) == (active + 3, active, 2)
    assert (row.tier.name if row.tier else None) == tier
    changes = list(TierChange.objects.filter(partner=partner).values_list("tier_name", "customers"))
    assert changes == ([(tier, active)] if tier else [])


def test_the_seed_rate_table(program):
    terms = load_terms()
    assert [(t.name, t.min_customers) for t in terms.tiers] == [
        ("Bronze", 3), ("Silver", 6), ("Gold", 11), ("Platinum", 21)
    ]  # fmt: skip
    expected = {
        "shared-hosting": ("10", "15", "20", "25"),
        "domains-ssl": ("10", "10", "10", "10"),
        "cloud-vps": ("5", "10", "15", "20"),
        "dedicated-servers": ("5", "7", "10", "12"),
    }
    for category, percents in expected.items():
        assert terms.partner_rate(category, None) == 0  # below Bronze: the base rate, 0 % in the seed
        for tier, percent in zip(terms.tiers, percents, strict=True):
            assert terms.partner_rate(category, tier.id) == Decimal(percent), (category, tier.name)
    assert terms.partner_rate("no-such-category", terms.tiers[0].id) == 0


def test_each_category_earns_its_tier_rate(program):
    partner, customer = partner_org("bergwerk"), customer_org("kunde")
    t0 = timezone.now() - timedelta(days=10)
    link(partner, customer, since=t0)
    set_tier(partner, "Platinum", t0, program)
    lines = [("web-hosting", "100.00"), ("domain-ch", "100.00"), ("vps-s", "100.00"), ("dedicated-m", "100.00")]
    event(customer, "payment", lines, at=t0 + timedelta(days=1))
    accrue_pending()
    got = list(LedgerEntry.objects.order_by("line_no").values_list("category_slug", "rate", "amount_minor"))
    assert got == [
        ("shared-hosting", Decimal("25.00"), 2500),
        ("domains-ssl", Decimal("10.00"), 1000),
        ("cloud-vps", Decimal("20.00"), 2000),
        ("dedicated-servers", Decimal("12.00"), 1200),
    ]


# --- history -------------------------------------------------------------------------------------------


def test_a_refund_of_an_old_event_uses_the_old_tier(program):
    partner, customer = partner_org("bergwerk"), customer_org("kunde")
    t0 = timezone.now() - timedelta(days=90)
    link(partner, customer, since=t0)
    set_tier(partner, "Gold", t0, program)
    paid = event(customer, "payment", [("web-hosting", "200.00")], at=t0 + timedelta(days=1))
    accrue_pending()
    set_tier(partner, "Bronze", t0 + timedelta(days=20), program)
    refund = event(customer, "refund", [("web-hosting", "50.00")], at=t0 + timedelta(days=30), refers_to=paid)
    later = event(customer, "payment", [("web-hosting", "200.00")], at=t0 + timedelta(days=31))
    accrue_pending()

    rows = {r[0]: r[1:] for r in LedgerEntry.objects.values_list("event_id", "tier_name", "rate", "amount_minor")}
    assert rows[paid.pk] == ("Gold", Decimal("20.00"), 4000)
    assert rows[refund.pk] == ("Gold", Decimal("20.00"), -1000)  # a quarter of the Gold commission
    assert rows[later.pk] == ("Bronze", Decimal("10.00"), 2000)
    assert name_at(partner, t0 + timedelta(days=25)) == "Bronze"
    assert name_at(partner, t0 + timedelta(days=5)) == "Gold"
    assert name_at(partner, t0 - timedelta(days=1)) is None


def test_tier_change_is_recorded_with_its_effective_date(program):
    partner = partner_org("bergwerk")
    made = customers(partner, 6)
    t1 = timezone.now() + timedelta(hours=1)
    assert refresh_partner_stats([partner.pk], now=t1) == 1
    assert refresh_partner_stats([partner.pk], now=t1 + timedelta(hours=1)) == 0  # unchanged: nothing recorded

    CustomerProduct.objects.filter(org__in=made[:2]).update(status=ProductStatus.CANCELLED)
    t2 = t1 + timedelta(days=3)
    assert refresh_partner_stats([partner.pk], now=t2) == 1

    history = list(
        TierChange.objects.filter(partner=partner)
        .order_by("effective_at")
        .values_list("previous_tier_name", "tier_name", "customers", "effective_at")
    )
    assert history == [("", "Silver", 6, t1), ("Silver", "Bronze", 4, t2)]
    assert (tier_of(partner), stats(partner).tier_since) == ("Bronze", t2)


def test_demotion_waits_out_the_grace_period(program):
    program.demotion_grace_days = 7
    program.save()
    partner = partner_org("bergwerk")
    made = customers(partner, 6)
    t0 = timezone.now()
    refresh_partner_stats([partner.pk], now=t0)
    assert tier_of(partner) == "Silver"

    CustomerProduct.objects.filter(org=made[0]).update(status=ProductStatus.SUSPENDED)
    refresh_partner_stats([partner.pk], now=t0 + timedelta(days=1))
    assert (tier_of(partner), stats(partner).below_since) == ("Silver", t0 + timedelta(days=1))

    # Back above the threshold within the grace period: the clock starts again.
    CustomerProduct.objects.filter(org=made[0]).update(status=ProductStatus.ACTIVE)
    refresh_partner_stats([partner.pk], now=t0 + timedelta(days=2))
    assert (tier_of(partner), stats(partner).below_since) == ("Silver", None)

    CustomerProduct.objects.filter(org=made[0]).update(status=ProductStatus.SUSPENDED)
    refresh_partner_stats([partner.pk], now=t0 + timedelta(days=3))
    refresh_partner_stats([partner.pk], now=t0 + timedelta(days=9))  # 6 days below: still Silver
    assert tier_of(partner) == "Silver"
    assert TierChange.objects.filter(partner=partner).count() == 1

    refresh_partner_stats([partner.pk], now=t0 + timedelta(days=10))  # 7 days below: Bronze
    assert (tier_of(partner), stats(partner).below_since) == ("Bronze", None)
    last = TierChange.objects.filter(partner=partner).order_by("-effective_at")[0]
    assert (last.tier_name, last.effective_at) == ("Bronze", t0 + timedelta(days=10))


def test_promotion_is_immediate_despite_the_grace_period(program):
    program.demotion_grace_days = 30
    program.save()
    partner = partner_org("bergwerk")
    customers(partner, 5)
    refresh_partner_stats([partner.pk])
    customers(partner, 1)
    refresh_partner_stats([partner.pk])
    assert tier_of(partner) == "Silver"


# --- keeping tiers current --------------------------------------------------------------------------


def test_tier_follows_customer_products_and_partnerships(program, django_capture_on_commit_callbacks):
    partner = partner_org("bergwerk")
    with django_capture_on_commit_callbacks(execute=True):
        made = customers(partner, 2)
    assert (stats(partner).active_customers, stats(partner).tier) == (2, None)

    third = customer_org("third")
    with django_capture_on_commit_callbacks(execute=True):
        link(partner, third)  # a new partnership: the partner is refreshed (one product short of Bronze)
    assert (stats(partner).customers, stats(partner).tier) == (3, None)

    with django_capture_on_commit_callbacks(execute=True):
        holding(third)  # the customer's product: Bronze
    assert (stats(partner).active_customers, tier_of(partner)) == (3, "Bronze")

    with django_capture_on_commit_callbacks(execute=True):
        product = CustomerProduct.objects.get(org=made[0])
        product.status = ProductStatus.CANCELLED
        product.save()
    assert (stats(partner).active_customers, stats(partner).tier) == (2, None)

    with django_capture_on_commit_callbacks(execute=True):
        holding(made[0])
    assert tier_of(partner) == "Bronze"
    with django_capture_on_commit_callbacks(execute=True):
        partnership = Partnership.objects.get(partner=partner, customer=third)
        partnership.status = PartnershipStatus.ENDED
        partnership.ended_at = timezone.now()
        partnership.save()
    assert (stats(partner).customers, stats(partner).tier) == (2, None)
    names = list(TierChange.objects.filter(partner=partner).order_by("id").values_list("tier_name", flat=True))
    assert names == ["Bronze", "", "Bronze", ""]


def test_many_changes_in_one_transaction_refresh_once(program, django_capture_on_commit_callbacks):
    partner = partner_org("bergwerk")
    with django_capture_on_commit_callbacks(execute=True):
        made = customers(partner, 2)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        for customer in made:
            holding(customer, "vps-s")
            holding(customer, "domain-ch")
    assert len(callbacks) == 1
    assert stats(partner).active_customers == 2


def _partners_with_customers(n: int) -> None:
    for i in range(n):
        partner = partner_org(f"p-{next(_serial)}")
        customers(partner, 2 if i % 2 else 1)
        customers(partner, 1, status=ProductStatus.TRIAL)


def _reconcile_after_trials_convert() -> tuple[int, int]:
    """Store every partner's figures, let the trials convert, then measure the nightly reconcile."""
    refresh_partner_stats()
    CustomerProduct.objects.filter(status=ProductStatus.TRIAL).update(status=ProductStatus.ACTIVE)
    with CaptureQueriesContext(connection) as queries:
        changed = refresh_partner_stats()
    return changed, len(queries.captured_queries)


def test_nightly_reconcile_is_set_based(program):
    _partners_with_customers(5)
    changed_few, few = _reconcile_after_trials_convert()
    _partners_with_customers(45)
    changed_many, many = _reconcile_after_trials_convert()
    assert (changed_few, changed_many) == (2, 22)  # the partners that reached 3 active customers
    assert many == few
    assert PartnerStats.objects.count() == 50
    figures = count_figures()
    assert {pk: f.active_customers for pk, f in figures.items()} == dict(
        PartnerStats.objects.values_list("partner_id", "active_customers")
    )


# --- the ledger is append-only on the database -----------------------------------------------------


def _refused(statement: str) -> None:
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(statement)


def _snapshot() -> list[tuple[object, ...]]:
    return list(LedgerEntry.objects.order_by("id").values_list())


def test_the_ledger_is_append_only(program, operator_org):
    partner, customer = partner_org("bergwerk"), customer_org("kunde")
    t0 = timezone.now() - timedelta(days=60)
    link(partner, customer, since=t0)
    set_tier(partner, "Gold", t0, program)
    paid = event(customer, "payment", [("web-hosting", "10.00")], at=t0 + timedelta(days=1))
    event(customer, "refund", [("web-hosting", "5.00")], at=t0 + timedelta(days=2), refers_to=paid)
    accrue_pending()
    before = _snapshot()
    assert len(before) == 2

    for statement in (
        "UPDATE commissions_ledgerentry SET amount_minor = amount_minor + 1",
        "UPDATE commissions_ledgerentry SET beneficiary_id = customer_id",
        "UPDATE commissions_ledgerentry SET rate = 99",
        "UPDATE commissions_ledgerentry SET hold_until = created_at",
        "UPDATE commissions_ledgerentry SET status = 'paid'",  # pending → paid skips approval
        "UPDATE commissions_ledgerentry SET status = 'bogus'",
        "DELETE FROM commissions_ledgerentry",
    ):
        _refused(statement)
        assert _snapshot() == before, statement
    with pytest.raises(IntegrityError), transaction.atomic():
        LedgerEntry.objects.all().delete()
    assert _snapshot() == before

    assert approve_due() == 2
    approved = _snapshot()
    _refused("UPDATE commissions_ledgerentry SET status = 'pending'")
    _refused("UPDATE commissions_ledgerentry SET amount_minor = 0")
    assert _snapshot() == approved

    payout = Payout.objects.create(
        beneficiary=partner, currency="CHF", period=t0.date().replace(day=1), amount_minor=100
    )
    with connection.cursor() as cursor:  # allowed: the payout takes the approved entries, then pays them
        cursor.execute("UPDATE commissions_ledgerentry SET payout_id = %s", [payout.pk])
        cursor.execute("UPDATE commissions_ledgerentry SET status = 'paid', paid_at = %s", [timezone.now()])
    assert set(LedgerEntry.objects.values_list("status", flat=True)) == {EntryStatus.PAID}
    paid_rows = _snapshot()
    _refused("UPDATE commissions_ledgerentry SET status = 'approved'")
    _refused("UPDATE commissions_ledgerentry SET payout_id = NULL")
    _refused("DELETE FROM commissions_ledgerentry")
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # no deferred checks pending: TRUNCATE may start
        _refused("TRUNCATE commissions_ledgerentry CASCADE")
    assert _snapshot() == paid_rows
    assert LedgerEntry.objects.count() == 2
