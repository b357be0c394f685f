"""Demo payouts: replays the approvals and monthly statements of the demo's commission history,
gives the beneficiaries payout details, and settles all but each beneficiary's latest statement.

Call :func:`seed_payouts` once the demo's ledger entries exist (before anything approves them "now",
so that each entry is approved in the month its hold ended). Running it again adds nothing.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.utils import timezone

from partnerhub.access.perms import Perm
from partnerhub.access.policy import Actor, membership_perms
from partnerhub.commissions.ledger import approve_due
from partnerhub.commissions.models import EntryStatus, LedgerEntry, Payout, PayoutDetails, PayoutStatus
from partnerhub.commissions.payouts import services
from partnerhub.commissions.payouts.statements import create_statements, month_start, next_month
from partnerhub.commissions.terms import month_of
from partnerhub.orgs.models import Membership

# Valid example IBANs (published by the banks' associations for testing).
DEMO_IBANS = ("CH9300762011623852957", "DE89370400440532013000", "GB82WEST12345698765432")


def _operator_actor() -> Actor | None:
    for membership in Membership.objects.filter(org__is_operator=True).select_related("user", "org").order_by("pk"):
        if membership.user.is_active and Perm.OPERATOR_PAYOUTS_MANAGE in membership_perms(membership):
            return Actor(user=membership.user)
    return None


def _replay_months(now: datetime) -> None:
    """Approve and issue month by month, from the first hold that ends until the last month that ended."""
    first = (
        LedgerEntry.objects.filter(status=EntryStatus.PENDING)
        .order_by("hold_until")
        .values_list("hold_until", flat=True)
        .first()
    )
    if first is None:
        return
    month = month_of(timezone.localtime(first))
    current = month_of(timezone.localtime(now))
    while month < current:
        end = month_start(next_month(month))
        approve_due(now=end - timedelta(microseconds=1))
        create_statements(month, now=end)
        month = next_month(month)


def seed_payouts(*, now: datetime | None = None) -> int:
    """Payout history for the demo; returns how many payouts exist afterwards."""
    now = now or timezone.now()
    _replay_months(now)
    beneficiaries = sorted(set(Payout.objects.values_list("beneficiary_id", flat=True)))
    for index, org_id in enumerate(beneficiaries):
        if not PayoutDetails.objects.filter(org_id=org_id).exists():
            org = Payout.objects.filter(beneficiary_id=org_id).select_related("beneficiary").first()
            holder = org.beneficiary.name if org else "Demo"
            PayoutDetails.objects.create(org_id=org_id, account_holder=holder, iban=DEMO_IBANS[index % len(DEMO_IBANS)])
    staff = _operator_actor()
    if staff is not None:
        for org_id in beneficiaries:
            waiting = list(
                Payout.objects.filter(beneficiary_id=org_id, status=PayoutStatus.OPEN).order_by("period", "currency")
            )
            latest = max((p.period for p in waiting), default=None)
            for payout in waiting:
                if payout.period == latest:
                    continue  # the latest statement stays open for the operator to review
                services.approve_payout(staff, payout=payout)
                services.mark_payout_paid(staff, payout=payout, reference=f"DEMO-{payout.period:%Y-%m}-{payout.pk}")
    return Payout.objects.count()
