"""The entry points: accrue what is pending, or given events again (only missing entries are written)."""

from __future__ import annotations

from collections.abc import Sequence

from django.db import connection, transaction
from django.utils import timezone

from partnerhub.billing.events.payload import REVERSIBLE, REVERSING
from partnerhub.commissions.accrual.base import _EVENTS, BATCH_EVENTS, AccrualResult, _Db, _Event, _query
from partnerhub.commissions.accrual.earning import _commission_rows
from partnerhub.commissions.accrual.reversing import _reversal_rows
from partnerhub.commissions.accrual.writing import _flush, _prepare, _Rollups
from partnerhub.commissions.terms import Terms, load_terms


def accrue_pending(*, batch_events: int = BATCH_EVENTS, limit: int | None = None) -> AccrualResult:
    """Accrue every billing event not accrued yet, oldest first, one transaction per batch."""
    total = AccrualResult()
    terms = load_terms()
    while limit is None or total.events < limit:
        size = batch_events if limit is None else min(batch_events, limit - total.events)
        ids = [
            pk
            for (pk,) in _query(
                f"SELECT id FROM {_EVENTS} WHERE accrued_at IS NULL ORDER BY id LIMIT %s",  # noqa: S608
                [size],
            )
        ]
        if not ids:
            break
        total += accrue_events(ids, terms=terms)
    return total


def accrue_events(event_ids: Sequence[int], *, terms: Terms | None = None) -> AccrualResult:
    """Accrue the given events (again, if they were already): only missing entries are written."""
    terms = terms or load_terms()
    result = AccrualResult(events=len(event_ids))
    db = _Db()
    with transaction.atomic():
        # A refund accrued on its own brings its original along when that was not accrued yet.
        given, params = db.ids("id", event_ids)
        reversing_kinds = sorted(REVERSING)
        kinds = ", ".join(["%s"] * len(reversing_kinds))
        columns = f"id, external_id, kind, org_id, currency, {db.moment_sql('occurred_at')}, refers_to"
        found = _query(
            f"SELECT {columns} FROM {_EVENTS} WHERE {given} "  # noqa: S608
            f"UNION SELECT {columns} FROM {_EVENTS} WHERE accrued_at IS NULL AND external_id IN "
            f"(SELECT refers_to FROM {_EVENTS} WHERE {given} AND kind IN ({kinds}))",
            [*params, *params, *reversing_kinds],
        )
        events: dict[int, _Event] = {}
        moment = db.moment
        for pk, external_id, kind, org_id, currency, occurred_at, refers_to in sorted(found):
            events[pk] = _Event(pk, external_id, kind, org_id, currency, moment(occurred_at), refers_to)
        earning = [pk for pk, e in events.items() if e.kind in REVERSIBLE]
        reversing = [pk for pk, e in events.items() if e.kind in REVERSING]
        if events:
            # Marked while the commissions are computed (PostgreSQL: pipelined), else at the end.
            condition, params = db.ids("id", events)
            db.later(
                f"UPDATE {_EVENTS} SET accrued_at = %s WHERE {condition} AND accrued_at IS NULL",  # noqa: S608
                [connection.ops.adapt_datetimefield_value(timezone.now()), *params],
            )
        rollups = _Rollups()
        if earning:
            result.entries += _flush(_commission_rows(earning, events, terms, db), events, db, rollups)
        if reversing:
            result.entries += _flush(_prepare(_reversal_rows(reversing, events, db), events, db), events, db, rollups)
        rollups.apply()
        db.run_later()
    return result


# --- commissions ---------------------------------------------------------------------------------
