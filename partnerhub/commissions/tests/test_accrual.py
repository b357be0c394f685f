"""Accrual: who earns, how much, exactly once, reversals (DESIGN §8)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from partnerhub.commissions.accrual import accrue_events, accrue_pending
from partnerhub.commissions.ledger import (
    approve_due,
    recompute_monthly,
    recompute_totals,
    stored_monthly,
    stored_totals,
)
from partnerhub.commissions.models import EntryStatus, LedgerEntry
from partnerhub.commissions.tests.factories import customer_org, event, link, partner_org, seed_program, set_tier

pytestmark = pytest.mark.django_db


@pytest.fixture
def program(operator_org):
    return seed_program(operator_org)


@pytest.fixture
def owned():
    """A partner, and a customer with the owner who decides its grants (as an actor)."""
    from conftest import actor, add_member, make_user
    from partnerhub.access.perms import Role

    partner, customer = partner_org("bergwerk"), customer_org("kunde")
    owner = make_user("owner@kunde.test")
    add_member(owner, customer, Role.OWNER)
    return partner, customer, actor(owner)


def test_managing_partner_earns_at_the_tier_in_force(program):
    partner, customer = partner_org("bergwerk"), customer_org("kunde")
    t0 = timezone.now() - timedelta(days=100)
    link(partner, customer, since=t0)
    set_tier(partner, "Silver", t0 + timedelta(days=10), program)
    before = event(customer, "payment", [("web-hosting", "100.00")], at=t0 + timedelta(days=5))
    after = event(customer, "payment", [("web-hosting", "100.00"), ("vps-s", "33.33")], at=t0 + timedelta(days=20))
    result = accrue_pending()
    assert result.entries == 2  # no tier before day 10: base rate 0 %, nothing written
    rows = list(LedgerEntry.objects.order_by("line_no").values_list("event_id", "amount_minor", "tier_name", "type"))
    assert rows == [(after.pk, 1500, "Silver", "partner"), (after.pk, 333, "Silver", "partner")]
    assert before.pk not in {r[0] for r in rows}
    assert recompute_totals() == stored_totals()


def test_replay_adds_nothing(program):
    partner, customer = partner_org("bergwerk"), customer_org("kunde")
    t0 = timezone.now() - timedelta(days=10)
    link(partner, customer, since=t0)
    set_tier(partner, "Gold", t0, program)
    e = event(customer, "payment", [("web-hosting", "10.05")], at=t0 + timedelta(days=1))
    assert accrue_events([e.pk]).entries == 1
    assert accrue_events([e.pk]).entries == 0
    assert accrue_pending().entries == 0
    assert LedgerEntry.objects.get().amount_minor == 201  # 10.05 × 20 % = 2.01
    assert stored_totals() == recompute_totals()


def test_partial_refunds_never_exceed_the_original(program):
    partner, customer = partner_org("bergwerk"), customer_org("kunde")
    t0 = timezone.now() - timedelta(days=10)
    link(partner, customer, since=t0)
    set_tier(partner, "Bronze", t0, program)
    e = event(customer, "payment", [("web-hosting", "10.00")], at=t0 + timedelta(days=1))
    for _ in range(3):
        event(customer, "refund", [("web-hosting", "3.33")], at=t0 + timedelta(days=2), refers_to=e)
    event(customer, "refund", [("web-hosting", "0.01")], at=t0 + timedelta(days=2), refers_to=e)
    accrue_pending()
    amounts = list(LedgerEntry.objects.order_by("id").values_list("amount_minor", flat=True))
    assert amounts[0] == 100
    assert sum(amounts) == 0
    assert all(a < 0 for a in amounts[1:])
    assert stored_monthly() == recompute_monthly()


def test_ended_partnership_stops_commissions(program):
    partner, customer = partner_org("bergwerk"), customer_org("kunde")
    t0 = timezone.now() - timedelta(days=10)
    link(partner, customer, since=t0, until=t0 + timedelta(days=2))
    set_tier(partner, "Gold", t0, program)
    event(customer, "payment", [("web-hosting", "10.00")], at=t0 + timedelta(days=1))
    event(customer, "payment", [("web-hosting", "10.00")], at=t0 + timedelta(days=3))
    assert accrue_pending().entries == 1


def test_ledger_refuses_edits_and_deletes(program):
    partner, customer = partner_org("bergwerk"), customer_org("kunde")
    t0 = timezone.now() - timedelta(days=40)
    link(partner, customer, since=t0)
    set_tier(partner, "Gold", t0, program)
    event(customer, "payment", [("web-hosting", "10.00")], at=t0 + timedelta(days=1))
    accrue_pending()
    entry = LedgerEntry.objects.get()
    for statement in (
        "UPDATE commissions_ledgerentry SET amount_minor = 1",
        "UPDATE commissions_ledgerentry SET status = 'paid'",
        "DELETE FROM commissions_ledgerentry",
    ):
        with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement)
    assert approve_due() == 1
    entry.refresh_from_db()
    assert entry.status == EntryStatus.APPROVED
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE commissions_ledgerentry SET status = 'pending'")
    assert stored_totals() == recompute_totals()


def test_a_late_event_pays_the_restricted_partner_of_its_time_after_the_partnership_ended(program, owned):
    from partnerhub.commissions.tests.factories import holding
    from partnerhub.partnerships.services import end_partnership

    partner, customer, owner = owned
    t0 = timezone.now() - timedelta(days=10)
    vps = holding(customer, "vps-s")
    partnership = link(partner, customer, since=t0, mode="restricted", products=[vps])
    set_tier(partner, "Gold", t0, program)
    end_partnership(owner, partnership, side="customer")
    assert partnership.grant.products.count() == 0
    # Posted by the operator's billing system after the end, for a time before it.
    event(customer, "payment", [("vps-s", "100.00"), ("web-hosting", "100.00")], at=t0 + timedelta(days=1))
    event(customer, "payment", [("vps-s", "100.00")], at=timezone.now())
    accrue_pending()
    assert list(LedgerEntry.objects.values_list("beneficiary_id", "product_sku", "amount_minor")) == [
        (partner.pk, "vps-s", 1500)
    ]


def test_a_refund_of_one_product_reverses_that_products_partner_only(program):
    from partnerhub.commissions.tests.factories import holding

    hosting_partner, vps_partner, customer = partner_org("hostpro"), partner_org("vpspro"), customer_org("kunde")
    t0 = timezone.now() - timedelta(days=10)
    link(hosting_partner, customer, since=t0, mode="restricted", products=[holding(customer, "web-hosting")])
    link(vps_partner, customer, since=t0, mode="restricted", products=[holding(customer, "vps-s")])
    for partner in (hosting_partner, vps_partner):
        set_tier(partner, "Bronze", t0, program)
    paid = event(customer, "payment", [("web-hosting", "100.00"), ("vps-s", "100.00")], at=t0 + timedelta(days=1))
    event(customer, "refund", [("vps-s", "100.00")], at=t0 + timedelta(days=2), refers_to=paid)
    accrue_pending()
    balances = {
        who: sum(LedgerEntry.objects.filter(beneficiary=who).values_list("amount_minor", flat=True))
        for who in (hosting_partner, vps_partner)
    }
    assert balances == {hosting_partner: 1000, vps_partner: 0}
    assert stored_totals() == recompute_totals()


def test_a_grant_change_applies_from_its_time_on(program, owned):
    """Full → restricted while the partnership stays active: an event from before the change (posted
    after it) pays every line as the full grant did; a later one only the products still granted."""
    from partnerhub.commissions.tests.factories import holding
    from partnerhub.partnerships.services import GrantInput, change_grant

    partner, customer, owner = owned
    t0 = timezone.now() - timedelta(days=10)
    vps = holding(customer, "vps-s")
    holding(customer, "web-hosting")
    partnership = link(partner, customer, since=t0)
    set_tier(partner, "Gold", t0, program)
    change_grant(owner, partnership, GrantInput(mode="restricted", product_ids=frozenset({vps.pk})))
    before = event(customer, "payment", [("vps-s", "100.00"), ("web-hosting", "100.00")], at=t0 + timedelta(days=1))
    after = event(customer, "payment", [("vps-s", "100.00"), ("web-hosting", "100.00")], at=timezone.now())
    accrue_pending()
    assert sorted(LedgerEntry.objects.values_list("event_id", "product_sku", "amount_minor")) == [
        (before.pk, "vps-s", 1500),
        (before.pk, "web-hosting", 2000),
        (after.pk, "vps-s", 1500),
    ]


def test_a_restricted_grant_made_full_earns_on_every_product_from_then_on(program, owned):
    from partnerhub.commissions.tests.factories import holding
    from partnerhub.partnerships.services import GrantInput, change_grant

    partner, customer, owner = owned
    t0 = timezone.now() - timedelta(days=10)
    vps = holding(customer, "vps-s")
    partnership = link(partner, customer, since=t0, mode="restricted", products=[vps])
    set_tier(partner, "Silver", t0, program)
    change_grant(owner, partnership, GrantInput())
    event(customer, "payment", [("web-hosting", "100.00")], at=t0 + timedelta(days=1))  # before: a partner of vps only
    after = event(customer, "payment", [("web-hosting", "100.00")], at=timezone.now())
    accrue_pending()
    assert list(LedgerEntry.objects.values_list("event_id", "amount_minor")) == [(after.pk, 1500)]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL plans from table statistics")
def test_a_long_run_analyses_the_ledger_it_grew(program, monkeypatch):
    """A catch-up run refreshes the ledger's planner statistics as it grows (PostgreSQL only)."""
    from partnerhub.commissions.accrual import run

    def estimate() -> float:
        with connection.cursor() as cursor:
            cursor.execute("SELECT reltuples FROM pg_class WHERE relname = 'commissions_ledgerentry'")
            return float(cursor.fetchone()[0])

    partner, customer = partner_org("bergwerk"), customer_org("kunde")
    t0 = timezone.now() - timedelta(days=10)
    link(partner, customer, since=t0)
    set_tier(partner, "Gold", t0, program)
    for day in range(6):
        event(customer, "payment", [("web-hosting", "10.00"), ("vps-s", "5.00")], at=t0 + timedelta(hours=day))
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE commissions_ledgerentry")
    assert estimate() <= 0  # empty (PostgreSQL 14+ says -1 for "never analysed")
    monkeypatch.setattr(run, "ANALYZE_FLOOR", 4)
    assert accrue_pending(batch_events=2).entries == 12
    assert estimate() >= 4


def test_every_stored_event_is_queued_until_accrued(program):
    """The database queues billing events however they are inserted (one by one or in bulk); accrual
    takes them off the queue in the transaction that writes their entries."""
    from partnerhub.billing.models import BillingEvent
    from partnerhub.commissions.models import PendingEvent

    partner, customer = partner_org("bergwerk"), customer_org("kunde")
    t0 = timezone.now() - timedelta(days=10)
    link(partner, customer, since=t0)
    set_tier(partner, "Gold", t0, program)
    single = event(customer, "payment", [("web-hosting", "10.00")], at=t0 + timedelta(days=1))
    bulk = BillingEvent.objects.bulk_create(
        [
            BillingEvent(external_id=f"bulk-{i}", kind="payment", org=customer, currency="CHF", occurred_at=t0)
            for i in range(3)
        ]
    )
    queued = set(PendingEvent.objects.values_list("event_id", flat=True))
    assert queued == {single.pk, *(e.pk for e in bulk)}
    assert accrue_pending().entries == 1  # the bulk events have no lines
    assert not PendingEvent.objects.exists()
    assert accrue_pending().events == 0
