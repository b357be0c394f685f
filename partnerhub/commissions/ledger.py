"""Status transitions of the ledger and the rollups that follow them.

Entries move forward only: ``pending`` → ``approved`` (by :func:`approve_due` once the hold period is
over) → ``paid`` (when the payout holding them is marked paid). Each transition is one set-based
UPDATE that returns what it moved, and the same transaction shifts the amounts between the rollup
columns, so :class:`~.models.Totals` always equals a recomputation from the ledger
(:func:`recompute_totals`, compared in the tests).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

from django.db import connection, transaction
from django.db.models import Count, Sum
from django.utils import timezone

from partnerhub.commissions.accrual import add_totals
from partnerhub.commissions.models import LedgerEntry, MonthlyTotal, Totals
from partnerhub.commissions.terms import month_of

APPROVE_CHUNK = 10_000


def approve_due(*, now: datetime | None = None) -> int:
    """Approve every pending entry whose hold period is over; returns how many were approved."""
    now = now or timezone.now()
    table = LedgerEntry._meta.db_table
    approved = 0
    while True:
        with transaction.atomic(), connection.cursor() as cursor:
            stamp = connection.ops.adapt_datetimefield_value(now)
            cursor.execute(
                f"UPDATE {table} SET status = 'approved', approved_at = %s "  # noqa: S608
                f"WHERE id IN (SELECT id FROM {table} WHERE status = 'pending' AND hold_until <= %s "
                f"ORDER BY id LIMIT {APPROVE_CHUNK}) AND status = 'pending' "
                "RETURNING beneficiary_id, currency, amount_minor",
                [stamp, stamp],
            )
            rows = cursor.fetchall()
            shift(rows, "pending_minor", "approved_minor")
        approved += len(rows)
        if len(rows) < APPROVE_CHUNK:
            return approved


def shift(rows: list[tuple[Any, ...]], source: str, target: str) -> None:
    """Move the amounts of `rows` (beneficiary, currency, amount) from one rollup column to another."""
    deltas: dict[tuple[int, str], dict[str, int]] = defaultdict(lambda: {source: 0, target: 0})
    for beneficiary, currency, amount in rows:
        deltas[(beneficiary, currency)][source] -= amount
        deltas[(beneficiary, currency)][target] += amount
    add_totals(deltas)


# --- recomputation (the rollups' proof) ----------------------------------------------------------


def recompute_totals() -> dict[tuple[int, str], dict[str, int]]:
    """Every beneficiary's totals computed from scratch from the ledger (integers: exact on SQLite)."""
    found: dict[tuple[int, str], dict[str, int]] = defaultdict(
        lambda: {"earned_minor": 0, "pending_minor": 0, "approved_minor": 0, "paid_minor": 0, "entries": 0}
    )
    for beneficiary, currency, status, total, count in (
        LedgerEntry.objects.values_list("beneficiary_id", "currency", "status")
        .annotate(total=Sum("amount_minor"), n=Count("id"))
        .values_list("beneficiary_id", "currency", "status", "total", "n")
    ):
        row = found[(beneficiary, currency)]
        row["earned_minor"] += total
        row[f"{status}_minor"] += total
        row["entries"] += count
    return dict(found)


def stored_totals() -> dict[tuple[int, str], dict[str, int]]:
    return {
        (t.beneficiary_id, t.currency): {
            "earned_minor": t.earned_minor,
            "pending_minor": t.pending_minor,
            "approved_minor": t.approved_minor,
            "paid_minor": t.paid_minor,
            "entries": t.entries,
        }
        for t in Totals.objects.all()
        if t.entries
    }


def recompute_monthly() -> dict[tuple[int, str, Any], int]:
    found: dict[tuple[int, str, Any], int] = defaultdict(int)
    for beneficiary, currency, occurred_at, amount in LedgerEntry.objects.values_list(
        "beneficiary_id", "currency", "occurred_at", "amount_minor"
    ).iterator():
        found[(beneficiary, currency, month_of(timezone.localtime(occurred_at)))] += amount
    return {k: v for k, v in found.items() if v}


def stored_monthly() -> dict[tuple[int, str, Any], int]:
    return {
        (m.beneficiary_id, m.currency, m.month): m.amount_minor for m in MonthlyTotal.objects.all() if m.amount_minor
    }
