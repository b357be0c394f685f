"""Commissions of payments and renewals: who managed each line's product at the event's time, at which rate."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from partnerhub.commissions.accrual.base import (
    _LEDGER,
    _LINES,
    ONE,
    _Covered,
    _Db,
    _Earner,
    _Event,
    _Partnership,
    _query,
    _Row,
)
from partnerhub.commissions.accrual.writing import _prepare, _Prepared
from partnerhub.commissions.models import EntryType, TierChange
from partnerhub.commissions.terms import Terms, add_months
from partnerhub.core.money import MINOR_UNITS


def _commission_rows(event_ids: list[int], events: dict[int, _Event], terms: Terms, db: _Db) -> _Prepared:
    # The events' lines without an entry. Which events have entries at all comes first (an index-only
    # read, normally empty): only their lines are checked one by one, so a first pass reads its lines
    # without an anti-join against the whole ledger.
    condition, params = db.ids("event_id", event_ids)
    written = [pk for (pk,) in _query(f"SELECT DISTINCT event_id FROM {_LEDGER} WHERE {condition}", params)]  # noqa: S608
    lines = _query(
        "SELECT event_id, line_no, product_id, product_sku, category_slug, base_amount "  # noqa: S608
        f"FROM {_LINES} WHERE {condition} ORDER BY event_id, line_no",
        params,
    )
    if written:
        condition, params = db.ids("event_id", written)
        entered = set(_query(f"SELECT event_id, line_no FROM {_LEDGER} WHERE {condition}", params))  # noqa: S608
        lines = [line for line in lines if (line[0], line[1]) not in entered]
    if not lines:
        return _prepare([], events, db)
    from partnerhub.affiliates.models import Affiliate, AffiliateStatus, Referral
    from partnerhub.partnerships.models import GrantCoverage, GrantMode, Partnership

    # The customers' partnerships with what their grants covered when (GrantCoverage; one row per
    # partnership and coverage, products only for restricted ones), their partners' tier history and
    # the referrals: three queries that depend only on the customers.
    customers, params = db.ids("p.customer_id", {events[line[0]].org_id for line in lines})
    partnership = Partnership._meta.db_table
    active = f"{customers} AND p.activated_at IS NOT NULL"
    queries = [
        (
            f"SELECT p.id, p.customer_id, p.partner_id, p.origin, {db.moment_sql('p.activated_at')}, "  # noqa: S608
            f"{db.moment_sql('p.ended_at')}, {db.moment_sql('c.effective_at')}, "
            "CASE WHEN c.mode = %s THEN c.product_ids END "
            f"FROM {partnership} p LEFT JOIN {GrantCoverage._meta.db_table} c ON c.partnership_id = p.id "
            f"WHERE {active} ORDER BY p.id DESC, c.effective_at, c.id",
            [str(GrantMode.RESTRICTED), *params],
        ),
        (
            f"SELECT p.customer_id, a.org_id, {db.moment_sql('p.created_at')} "  # noqa: S608
            f"FROM {Referral._meta.db_table} p JOIN {Affiliate._meta.db_table} a ON a.id = p.affiliate_id "
            f"WHERE {customers} AND a.status = %s",
            [*params, str(AffiliateStatus.APPROVED)],
        ),
        (
            f"SELECT partner_id, {db.moment_sql('effective_at')}, tier_id, tier_name "  # noqa: S608
            f"FROM {TierChange._meta.db_table} WHERE partner_id IN (SELECT p.partner_id FROM {partnership} p "
            f"WHERE {active}) ORDER BY partner_id, effective_at, id",
            params,
        ),
    ]
    with db.meanwhile(queries) as (found, referred, history):
        partnerships = _partnerships(found, db)
        referrals = _referrals(referred, terms, db)
        tiers = _tier_history(history, db)
        return _prepare(_compute_commissions(lines, events, terms, db, partnerships, referrals, tiers), events, db)


def _compute_commissions(
    lines: list[tuple[Any, ...]],
    events: dict[int, _Event],
    terms: Terms,
    db: _Db,
    partnerships: dict[int, list[_Partnership]],
    referrals: dict[int, tuple[int, datetime, datetime | None]],
    tiers: dict[int, list[tuple[datetime, int | None, str]]],
) -> list[_Row]:
    # (partner?, category, tier id) → (rate, rate in 1/100 % or None, rate as written)
    rates: dict[tuple[bool, str, int | None], tuple[Decimal, int | None, Any]] = {}
    scales = {currency: 10**places for currency, places in MINOR_UNITS.items()}
    affiliate = str(EntryType.AFFILIATE)
    base_units, base_value = db.base_units, db.base_value
    rows: list[_Row] = []
    current = -1
    # Per event: who earns (None: nobody), unless a restricted grant may decide per line.
    earner: _Earner | None = None
    per_product = False
    stamp: tuple[Any, Any] = ("", "")
    for event_id, line_no, product_id, sku, category, base in lines:
        event = events[event_id]
        if event_id != current:
            current = event_id
            found = partnerships.get(event.org_id, ())
            per_product = any(not p.always_full for p in found)
            earner = None if per_product else _earner(found, None, event, referrals, tiers, affiliate)
            stamp = (db.stamp(event.occurred_at), db.stamp(terms.hold_until(event.occurred_at)))
        who = (
            _earner(partnerships[event.org_id], product_id, event, referrals, tiers, affiliate)
            if per_product
            else earner
        )
        if who is None:
            continue
        beneficiary, kind, tier_id, tier_name, partner = who
        rate_key = (partner, category, tier_id)
        known = rates.get(rate_key)
        if known is None:
            rate = terms.partner_rate(category, tier_id) if partner else terms.affiliate_rate(category)
            hundredths = rate * 100
            per_cent = int(hundredths) if hundredths == hundredths.to_integral_value() else None
            known = rates[rate_key] = (rate, per_cent, db.rate_value(rate))
        rate, per_cent, rate_written = known
        units = base_units(base)
        if per_cent is None:
            amount = commission_minor(Decimal(units).scaleb(-4), rate, event.currency)
        else:
            # base/10⁴ × rate/10² ÷ 100 × 10^minor, half-up: in 1/10⁸ of the minor unit.
            amount = (units * per_cent * scales[event.currency] + 50_000_000) // 100_000_000
        if amount <= 0:
            continue
        rows.append(
            (
                beneficiary, event.org_id, kind, event.currency, amount, base_value(units, base), rate_written,
                tier_name, category, sku, event_id, line_no, None, stamp[0], stamp[1],
            )
        )  # fmt: skip
    return rows


def _earner(
    partnerships: Sequence[_Partnership],
    product_id: int | None,
    event: _Event,
    referrals: dict[int, tuple[int, datetime, datetime | None]],
    tiers: dict[int, list[tuple[datetime, int | None, str]]],
    affiliate: str,
) -> _Earner | None:
    """Who earns on a line of `event` (product `product_id`): (beneficiary, type, tier id, tier name,
    whether a partner rate applies), or None."""
    moment = event.occurred_at
    managing = _managing(partnerships, product_id, moment)
    if managing is not None:
        if managing.partner_id == event.org_id:
            return None
        tier_id, tier_name = _tier_at(tiers.get(managing.partner_id, ()), moment)
        return managing.partner_id, managing.origin, tier_id, tier_name, True
    referral = referrals.get(event.org_id)
    if referral is None or moment < referral[1] or (referral[2] is not None and moment >= referral[2]):
        return None
    if referral[0] == event.org_id:
        return None
    return referral[0], affiliate, None, "", False


def commission_minor(base: Decimal, rate: Decimal, currency: str) -> int:
    """base × rate %, half-up to the minor unit, as an integer count of that unit."""
    return int((base * rate / 100 * (10 ** MINOR_UNITS[currency])).quantize(ONE, rounding=ROUND_HALF_UP))


def _managing(partnerships: Sequence[_Partnership], product_id: int | None, moment: datetime) -> _Partnership | None:
    """The partnership managing `product_id` at `moment`: one whose restricted grant named it then, else
    the one whose full grant covered the organisation then (the newest, should two overlap)."""
    if len(partnerships) == 1:
        (only,) = partnerships
        if not only.active_at(moment):
            return None
        covered = only.covered_at(moment)
        return only if covered is None or product_id in covered else None
    full: list[_Partnership] = []
    for p in partnerships:
        if not p.active_at(moment):
            continue
        covered = p.covered_at(moment)
        if covered is None:
            full.append(p)
        elif product_id in covered:
            return p
    return max(full, key=lambda p: p.activated_at) if full else None


def _partnerships(rows: list[tuple[Any, ...]], db: _Db) -> dict[int, list[_Partnership]]:
    """Per customer, its activated partnerships (newest first) from (id, customer, partner, origin,
    activated, ended, coverage effective from, restricted products or None) rows, one per partnership
    and coverage in time order (a partnership without coverage has one row of NULLs: it covers nothing)."""
    found: dict[int, list[_Partnership]] = defaultdict(list)
    current: _Partnership | None = None
    current_pk = None
    coverage: list[tuple[datetime, _Covered]] = []
    for pk, customer_id, partner_id, origin, activated_at, ended_at, effective_at, product_ids in rows:
        if pk != current_pk:
            if current is not None:
                current.cover(coverage)
            current_pk, coverage = pk, []
            current = _Partnership(
                partner_id=partner_id,
                origin=origin,
                activated_at=db.moment(activated_at) or datetime.min.replace(tzinfo=UTC),
                ended_at=db.moment(ended_at),
            )
            found[customer_id].append(current)
        if effective_at is None:
            continue
        covered: _Covered = None
        if product_ids is not None:
            named = json.loads(product_ids) if isinstance(product_ids, str) else product_ids
            covered = frozenset(int(product_id) for product_id in named)
        coverage.append((db.moment(effective_at), covered))
    if current is not None:
        current.cover(coverage)
    return found


def _referrals(rows: list[tuple[Any, ...]], terms: Terms, db: _Db) -> dict[int, tuple[int, datetime, datetime | None]]:
    """Per referred customer: the approved affiliate's organisation, since and until when it earns."""
    found = {}
    for customer_id, affiliate_org, created_at in rows:
        since = db.moment(created_at)
        until = None if terms.affiliate_months is None else add_months(since, terms.affiliate_months)
        found[customer_id] = (affiliate_org, since, until)
    return found


def _tier_history(rows: list[tuple[Any, ...]], db: _Db) -> dict[int, list[tuple[datetime, int | None, str]]]:
    history: dict[int, list[tuple[datetime, int | None, str]]] = defaultdict(list)
    for partner_id, effective_at, tier_id, name in rows:
        history[partner_id].append((db.moment(effective_at), tier_id, name))
    return history


def _tier_at(history: Sequence[tuple[datetime, int | None, str]], moment: datetime) -> tuple[int | None, str]:
    """The tier in force at `moment`: the last change effective at or before it (none before the first)."""
    current: tuple[int | None, str] = (None, "")
    for effective_at, tier_id, name in history:
        if effective_at > moment:
            break
        current = (tier_id, name)
    return current


# --- reversals -----------------------------------------------------------------------------------
