"""Commission tasks: accrual after billing events arrive, and the daily run (``commissions_daily``)."""

from __future__ import annotations

from typing import Any

from django.tasks import task

from partnerhub.affiliates.services.tracking import purge_salts
from partnerhub.commissions.accrual import accrue_pending
from partnerhub.commissions.ledger import approve_due
from partnerhub.commissions.payouts.statements import create_due_statements
from partnerhub.commissions.tiers import refresh_partner_stats


@task()
def accrue_task() -> int:
    """Accrue every billing event not accrued yet (enqueued when events are stored; idempotent)."""
    return accrue_pending().entries


@task()
def refresh_partners_task(partner_ids: list[int]) -> int:
    """Refresh the figures and tiers of the given partners (after their customers changed)."""
    return refresh_partner_stats(partner_ids)


def run_daily() -> dict[str, Any]:
    """Accrue what is left, approve entries past their hold, reconcile every partner's figures and tier."""
    return {
        "accrued": accrue_pending().entries,
        "approved": approve_due(),
        "tier_changes": refresh_partner_stats(),
        "click_salts_deleted": purge_salts(),
        # The statements of the month that ended last (idempotent: a missed day catches up).
        "statements": create_due_statements().created,
    }
