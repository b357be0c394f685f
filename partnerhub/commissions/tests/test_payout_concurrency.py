"""On PostgreSQL: two statement runs for the same month at once issue each payout once, and a
payout marked paid while another session cancels it ends in exactly one of the two states."""

from __future__ import annotations

import pytest
from django.db import connection

from conftest import actor, run_together
from partnerhub.commissions.models import EntryStatus, LedgerEntry, Payout, PayoutStatus
from partnerhub.commissions.payouts import services
from partnerhub.commissions.payouts.statements import StatementRun, create_statements
from partnerhub.commissions.tests.factories import seed_program
from partnerhub.commissions.tests.payout_helpers import Earner, approve, at, details, month, totals_match

pytestmark = pytest.mark.skipif(connection.vendor != "postgresql", reason="needs concurrent connections")


def _earners(operator_org, count: int = 6) -> list[Earner]:
    program = seed_program(operator_org)
    earners = [Earner(program, f"partner-{i}") for i in range(count)]
    for i, earner in enumerate(earners):
        earner.earn(f"{60 + i}.00", at(2026, 1, 5))
        earner.earn("10.00", at(2026, 1, 6))
    approve(at(2026, 2, 10))
    return earners


def test_two_statement_runs_issue_each_payout_once(flushable_db, operator_org):
    earners = _earners(operator_org)
    results = run_together(*[lambda: create_statements(month(2026, 2), now=at(2026, 3, 1, 6))] * 2)
    runs = [r for r in results if isinstance(r, StatementRun)]
    assert len(runs) == 2 and sum(r.created for r in runs) == len(earners)
    assert Payout.objects.count() == len(earners)
    for payout in Payout.objects.all():
        held = LedgerEntry.objects.filter(payout=payout)
        assert held.count() == 2
        assert sum(held.values_list("amount_minor", flat=True)) == payout.amount_minor
    assert not LedgerEntry.objects.filter(status=EntryStatus.APPROVED, payout__isnull=True).exists()


def test_pay_and_cancel_at_once_end_in_one_state(flushable_db, operator_org, operator_staff):
    earner = _earners(operator_org, count=1)[0]
    create_statements(month(2026, 2), now=at(2026, 3, 1, 6))
    details(earner.org)
    payout = Payout.objects.get()
    staff = actor(operator_staff)
    services.approve_payout(staff, payout=payout)
    results = run_together(
        lambda: services.mark_payout_paid(staff, payout=payout, reference="R"),
        lambda: services.cancel_payout(staff, payout=payout),
    )
    refused = [r for r in results if isinstance(r, services.PayoutConflict)]
    assert len(refused) == 1
    payout.refresh_from_db()
    statuses = set(LedgerEntry.objects.values_list("status", flat=True))
    if payout.status == PayoutStatus.PAID:
        assert statuses == {EntryStatus.PAID}
    else:
        assert payout.status == PayoutStatus.CANCELLED
        assert statuses == {EntryStatus.APPROVED}
        assert not LedgerEntry.objects.filter(payout__isnull=False).exists()
    assert totals_match()
