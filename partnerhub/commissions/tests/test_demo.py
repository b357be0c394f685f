"""The demo partner has a tier, commissions over several months and a populated dashboard."""

from __future__ import annotations

import pytest

from partnerhub.commissions.demo import seed_commissions
from partnerhub.commissions.ledger import recompute_monthly, recompute_totals, stored_monthly, stored_totals
from partnerhub.commissions.models import EntryStatus, LedgerEntry
from partnerhub.commissions.queries import dashboard
from partnerhub.demo.seed import seed
from partnerhub.orgs.models import Organisation

pytestmark = pytest.mark.django_db


def test_demo_partner_has_commissions_and_a_tier():
    seed()
    bergwerk = Organisation.objects.get(slug="bergwerk")
    board = dashboard(bergwerk)
    assert board.tier is not None and board.tier.name == "Gold"
    assert board.next_tier is not None and board.next_tier.name == "Platinum"
    months_with_commission = [p for s in board.series for p in s.points if p.amount]
    assert len(months_with_commission) >= 6
    entries = LedgerEntry.objects.filter(beneficiary=bergwerk)
    assert entries.filter(reverses__isnull=False).count() >= 1
    assert set(entries.values_list("status", flat=True)) >= {EntryStatus.PENDING, EntryStatus.APPROVED}
    assert {"Bronze", "Silver", "Gold"} <= set(entries.values_list("tier_name", flat=True))
    assert {t.currency for t in board.totals} == {"CHF", "EUR"}
    assert stored_totals() == recompute_totals() and stored_monthly() == recompute_monthly()

    count = entries.count()
    seed_commissions(operator_staff=None, partner=bergwerk)  # type: ignore[arg-type]
    assert entries.count() == count
