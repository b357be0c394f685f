"""Exactly once under concurrency (PostgreSQL: several connections on committed data).

Two workers accrue the same stream at the same time: every entry exists once (the unique key per
event line decides, not a check-then-insert) and the rollups equal a recomputation. Two approval
runs at the same time move every entry once.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from conftest import run_together
from partnerhub.billing.models import BillingEvent
from partnerhub.commissions.accrual import AccrualResult, accrue_events, accrue_pending
from partnerhub.commissions.ledger import (
    approve_due,
    recompute_monthly,
    recompute_totals,
    stored_monthly,
    stored_totals,
)
from partnerhub.commissions.models import EntryStatus, LedgerEntry, PendingEvent
from partnerhub.commissions.tests.factories import customer_org, event, link, partner_org, seed_program, set_tier

postgres_only = pytest.mark.skipif(connection.vendor != "postgresql", reason="needs concurrent connections")
pytestmark = postgres_only


def stream(operator_org, *, customers: int = 12, events: int = 120) -> list[BillingEvent]:
    """Committed events: payments with 1–3 lines, some refunded in part, for customers of three partners."""
    program = seed_program(operator_org, hold_days=10)
    t0 = timezone.now() - timedelta(days=60)
    partners = [partner_org(f"partner-{i}") for i in range(3)]
    for i, partner in enumerate(partners):
        set_tier(partner, ("Bronze", "Silver", "Gold")[i], t0, program)
    orgs = [customer_org(f"customer-{i}") for i in range(customers)]
    for i, customer in enumerate(orgs):
        link(partners[i % 3], customer, since=t0)
    made: list[BillingEvent] = []
    skus = ["web-hosting", "domain-ch", "vps-s", "dedicated-m"]
    for n in range(events):
        customer = orgs[n % customers]
        at = t0 + timedelta(hours=n)
        if n % 5 == 4:
            original = made[n - 3]
            made.append(event(original.org, "refund", [("web-hosting", "7.77")], at=at, refers_to=original))
        else:
            lines = [(skus[(n + k) % 4], f"{10 + n % 37}.{n % 100:02d}") for k in range(1 + n % 3)]
            made.append(event(customer, "payment", lines, at=at, currency=("CHF", "EUR")[n % 2]))
    return made


def test_two_workers_accrue_the_same_stream_once(flushable_db, operator_org):
    made = stream(operator_org)
    results = run_together(lambda: accrue_pending(batch_events=7), lambda: accrue_pending(batch_events=7))
    assert not [r for r in results if isinstance(r, Exception)], results
    written = sum(r.entries for r in results if isinstance(r, AccrualResult))
    assert written == LedgerEntry.objects.count() > 0  # what the workers report was written, once
    keys = list(LedgerEntry.objects.values_list("event_id", "line_no"))
    assert len(keys) == len(set(keys))
    assert not PendingEvent.objects.exists()
    assert stored_totals() == recompute_totals()
    assert stored_monthly() == recompute_monthly()

    # The same stream once more, from scratch on both workers: nothing new.
    ids = [e.pk for e in made]
    again = run_together(lambda: accrue_events(ids), lambda: accrue_events(list(reversed(ids))))
    assert [r.entries if isinstance(r, AccrualResult) else r for r in again] == [0, 0]
    assert LedgerEntry.objects.count() == written


def test_workers_racing_on_overlapping_batches(flushable_db, operator_org):
    """Batches of different sizes and directions, and refunds accrued before their originals."""
    made = stream(operator_org, events=90)
    ids = [e.pk for e in made]
    refunds = [e.pk for e in made if e.kind == "refund"]
    results = run_together(
        lambda: accrue_pending(batch_events=5),
        lambda: [accrue_events(ids[i : i + 11]) for i in reversed(range(0, len(ids), 11))],
        lambda: accrue_events(refunds),
    )
    assert not [r for r in results if isinstance(r, Exception)], results
    keys = list(LedgerEntry.objects.values_list("event_id", "line_no"))
    assert len(keys) == len(set(keys))
    assert stored_totals() == recompute_totals()
    assert stored_monthly() == recompute_monthly()
    # Every refund that had something to reverse did reverse it.
    assert LedgerEntry.objects.filter(reverses__isnull=False).values("event_id").distinct().count() == len(refunds)


def test_two_approval_runs_approve_each_entry_once(flushable_db, operator_org):
    stream(operator_org)
    accrue_pending()
    pending = LedgerEntry.objects.filter(status=EntryStatus.PENDING).count()
    now = timezone.now()
    results = run_together(lambda: approve_due(now=now), lambda: approve_due(now=now))
    assert not [r for r in results if isinstance(r, Exception)], results
    assert sum(results) == pending == LedgerEntry.objects.filter(status=EntryStatus.APPROVED).count()  # type: ignore[arg-type]
    assert stored_totals() == recompute_totals()
