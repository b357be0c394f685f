"""The demo's payout history: monthly statements replayed, all but the latest settled, idempotent."""

from __future__ import annotations

import pytest

from partnerhub.commissions.models import Payout, PayoutDetails, PayoutStatus
from partnerhub.commissions.payouts.demo import seed_payouts
from partnerhub.commissions.tests.factories import seed_program
from partnerhub.commissions.tests.payout_helpers import Earner, at, month, snapshot, totals_match

pytestmark = pytest.mark.django_db


def test_seed_payouts(operator_org, operator_staff):
    earner = Earner(seed_program(operator_org))
    for when in (at(2026, 1, 5), at(2026, 2, 5), at(2026, 3, 5)):
        earner.earn("100.00", when)
    assert seed_payouts(now=at(2026, 6, 15)) == 3
    rows = list(Payout.objects.order_by("period").values_list("period", "status", "amount_minor"))
    assert rows == [
        (month(2026, 2), PayoutStatus.PAID, 10000),
        (month(2026, 3), PayoutStatus.PAID, 10000),
        (month(2026, 4), PayoutStatus.OPEN, 10000),
    ]
    assert PayoutDetails.objects.filter(org=earner.org).exists()
    assert totals_match()
    before = snapshot()
    assert seed_payouts(now=at(2026, 6, 16)) == 3
    assert snapshot() == before
