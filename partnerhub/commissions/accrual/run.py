"""The entry points: accrue what is pending, or given events again (only missing entries are written)."""

from __future__ import annotations

from collections.abc import Sequence

from django.db import connection, transaction

from partnerhub.billing.events.payload import REVERSIBLE, REVERSING
from partnerhub.commissions.accrual.base import (
    _EVENTS,
    _LEDGER,
    _QUEUE,
    BATCH_EVENTS,
    AccrualResult,
    _Db,
    _Event,
    _query,
)
from partnerhub.commissions.accrual.earning import _commission_rows
from partnerhub.commissions.accrual.reversing import _reversal_rows
from partnerhub.commissions.accrual.writing import _flush, _prepare, _Rollups
from partnerhub.commissions.terms import Terms, load_terms


def accrue_pending(*, batch_events: int = BATCH_EVENTS, limit: int | None = None) -> AccrualResult:
    """Accrue every queued billing event (:class:`~..models.PendingEvent`), oldest first, one transaction
    per batch."""
    total = AccrualResult()
    terms = load_terms()
    statistics = _LedgerStatistics() if connection.vendor == "postgresql" else None
    while limit is None or total.events < limit:
        size = batch_events if limit is None else min(batch_events, limit - total.events)
        ids = [
            pk
            for (pk,) in _query(
                f"SELECT event_id FROM {_QUEUE} ORDER BY event_id LIMIT %s",  # noqa: S608
                [size],
            )
        ]
        if not ids:
            break
        done = accrue_events(ids, terms=terms)
        total += done
        if statistics is not None:
            statistics.grew(done.entries)
    return total


# Analyse the ledger once a run added this many entries, or a quarter of what it held (whichever is more).
ANALYZE_FLOOR = 100_000


class _LedgerStatistics:
    """PostgreSQL plans each batch's reads of the ledger (the anti-join, the originals of refunds) from
    its statistics. A catch-up run can grow the ledger many times over between two autovacuum analyses,
    and plans made for the smaller table (sequential scans) get slower with every batch. So the run
    analyses the ledger itself, on autovacuum's rule at a coarser step, as one does after a bulk load."""

    def __init__(self) -> None:
        self.known = self._estimate()
        self.added = 0

    def grew(self, entries: int) -> None:
        self.added += entries
        if self.added >= max(ANALYZE_FLOOR, self.known // 4):
            with connection.cursor() as cursor:
                cursor.execute(f"ANALYZE {_LEDGER}")
            self.known, self.added = self._estimate(), 0

    @staticmethod
    def _estimate() -> int:
        with connection.cursor() as cursor:
            cursor.execute("SELECT GREATEST(reltuples, 0)::bigint FROM pg_class WHERE oid = %s::regclass", [_LEDGER])
            row = cursor.fetchone()
        return int(row[0]) if row else 0


def accrue_events(event_ids: Sequence[int], *, terms: Terms | None = None) -> AccrualResult:
    """Accrue the given events (again, if they were already): only missing entries are written."""
    terms = terms or load_terms()
    result = AccrualResult(events=len(event_ids))
    db = _Db()
    with transaction.atomic():
        given, params = db.ids("id", event_ids)
        columns = f"id, external_id, kind, org_id, currency, {db.moment_sql('occurred_at')}, refers_to"
        found = _query(f"SELECT {columns} FROM {_EVENTS} WHERE {given}", params)  # noqa: S608
        # A refund accrued on its own brings its original along when that is still queued.
        refs = sorted({row[6] for row in found if row[2] in REVERSING})
        if refs:
            marks = ", ".join(["%s"] * len(refs))
            have = {row[0] for row in found}
            found += [
                row
                for row in _query(
                    f"SELECT {columns} FROM {_EVENTS} WHERE external_id IN ({marks}) "  # noqa: S608
                    f"AND id IN (SELECT event_id FROM {_QUEUE})",
                    refs,
                )
                if row[0] not in have
            ]
        events: dict[int, _Event] = {}
        moment = db.moment
        for pk, external_id, kind, org_id, currency, occurred_at, refers_to in sorted(found):
            events[pk] = _Event(pk, external_id, kind, org_id, currency, moment(occurred_at), refers_to)
        earning = [pk for pk, e in events.items() if e.kind in REVERSIBLE]
        reversing = [pk for pk, e in events.items() if e.kind in REVERSING]
        if events:
            # Taken off the queue while the commissions are computed (PostgreSQL: pipelined), else at the end.
            condition, params = db.ids("event_id", events)
            db.later(f"DELETE FROM {_QUEUE} WHERE {condition}", params)  # noqa: S608
        rollups = _Rollups()
        if earning:
            result.entries += _flush(_commission_rows(earning, events, terms, db), events, db, rollups)
        if reversing:
            result.entries += _flush(_prepare(_reversal_rows(reversing, events, db), events, db), events, db, rollups)
        rollups.apply()
        db.run_later()
    return result


# --- commissions ---------------------------------------------------------------------------------
