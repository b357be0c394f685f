"""Reversals of refunds and chargebacks, by product and cumulative (see :mod:`partnerhub.commissions.reversals`)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from partnerhub.billing.events.payload import REVERSING
from partnerhub.commissions.accrual.base import _EVENTS, _LEDGER, _LINES, _Db, _Event, _query, _Row
from partnerhub.commissions.reversals import half_up, reversed_share


def _reversal_rows(event_ids: list[int], events: dict[int, _Event], db: _Db) -> list[_Row]:
    # A reversing event's rows are written together, in one transaction: one of them means all of them.
    condition, params = db.ids("event_id", event_ids)
    written = {pk for (pk,) in _query(f"SELECT DISTINCT event_id FROM {_LEDGER} WHERE {condition}", params)}  # noqa: S608
    event_ids = [pk for pk in event_ids if pk not in written]
    if not event_ids:
        return []
    refs = sorted({events[pk].refers_to for pk in event_ids})
    marks = ", ".join(["%s"] * len(refs))
    originals = {
        external_id: (pk, external_id, currency)
        for pk, external_id, currency in _query(
            f"SELECT id, external_id, currency FROM {_EVENTS} WHERE external_id IN ({marks})",  # noqa: S608
            refs,
        )
    }
    original_ids = [o[0] for o in originals.values()]
    entries: dict[int, list[tuple[Any, ...]]] = defaultdict(list)
    condition, params = db.ids("event_id", original_ids)
    for found in _query(
        "SELECT id, event_id, line_no, beneficiary_id, customer_id, type, currency, amount_minor, base_amount, "  # noqa: S608
        f"rate, tier_name, category_slug, product_sku, {db.moment_sql('hold_until')} FROM {_LEDGER} "
        f"WHERE {condition} AND reverses_id IS NULL ORDER BY line_no",
        params,
    ):
        entries[found[1]].append(found)
    if not entries:
        return []
    # Every reversing event of these originals, in event order, and the lines of all of them.
    kinds = sorted(REVERSING)
    reversing_ids = _query(
        f"SELECT id, refers_to FROM {_EVENTS} WHERE refers_to IN ({marks}) "  # noqa: S608
        f"AND kind IN ({', '.join(['%s'] * len(kinds))})",
        [*refs, *kinds],
    )
    lines = _event_lines([*original_ids, *(pk for pk, _ in reversing_ids)], db)
    reversed_by: dict[str, list[int]] = defaultdict(list)
    for pk, ref in sorted(reversing_ids):
        reversed_by[ref].append(pk)
    condition, params = db.ids("event_id", event_ids)
    done = set(
        _query(f"SELECT event_id, line_no FROM {_LEDGER} WHERE {condition} AND reverses_id IS NOT NULL", params)  # noqa: S608
    )
    rows: list[_Row] = []
    for pk in event_ids:
        event = events[pk]
        original = originals.get(event.refers_to)
        if original is None or not entries.get(original[0]):
            continue
        charged = lines.get(original[0], [])
        earlier = [lines.get(other, []) for other in reversed_by[event.refers_to] if other < pk]
        upto = [*earlier, lines.get(pk, [])]
        moment = event.occurred_at
        for (
            entry_id, _event_id, line_no, beneficiary_id, customer_id, kind, currency, amount_minor, base_amount,
            rate, tier_name, category_slug, product_sku, hold_until,
        ) in entries[original[0]]:  # fmt: skip
            if (pk, line_no) in done:
                continue
            share = half_up(amount_minor * reversed_share(charged, upto, product_sku)) - half_up(
                amount_minor * reversed_share(charged, earlier, product_sku)
            )
            if share <= 0:
                continue
            base = db.decimal(base_amount, 4)
            rows.append(
                (
                    beneficiary_id, customer_id, kind, currency, -share, db.base_value(int(base * 10000), base),
                    db.rate_value(db.decimal(rate, 2)), tier_name, category_slug, product_sku, pk, line_no, entry_id,
                    db.stamp(moment), db.stamp(max(db.moment(hold_until), moment)),
                )
            )  # fmt: skip
    return rows


def _event_lines(event_ids: Iterable[int], db: _Db) -> dict[int, list[tuple[str, int]]]:
    """The (product, amount in 1/10,000 units) lines of the given events: what refunds are matched on."""
    found: dict[int, list[tuple[str, int]]] = defaultdict(list)
    condition, params = db.ids("event_id", event_ids)
    for event_id, sku, amount in _query(
        f"SELECT event_id, product_sku, base_amount FROM {_LINES} WHERE {condition} ORDER BY event_id, line_no",  # noqa: S608
        params,
    ):
        found[event_id].append((sku, db.base_units(amount)))
    return found


# --- writing -------------------------------------------------------------------------------------
