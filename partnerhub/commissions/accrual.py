"""Commission accrual: billing events in, ledger entries out, exactly once (DESIGN §8).

**Who earns.** Each line of a payment or renewal pays the partner that managed the line's product at
the event's time: a partnership active then (activated before, not ended before the event), whose
restricted grant names the product, else whose full grant covers the organisation (a product named by
another partner's restricted grant belongs to that partner). The entry's type is the partnership's
origin (``partner`` or ``self``). With no managing partner, the affiliate the customer signed up
through earns (type ``affiliate``), if it is approved and the program's month limit has not passed.
Otherwise nobody earns. Partnerships count by their active interval, so ending one stops commissions
from that moment (seed 004); an ended restricted partnership keeps the products its grant named
(``Partnership.ended_product_ids``), so an event from before the end that arrives later still pays
it. A grant changed while the partnership is active (mode or products) is read as it is now.

**How much.** base × rate, half-up per line to the currency's minor unit. Partners get the rate of
the line's category in the tier in force at the event's time (:class:`~.models.TierChange`), or the
program's base rate without a tier; affiliates get the affiliate rate. A zero amount writes nothing.

**Reversals.** A refund or chargeback of event E reverses the entries E created: each refund line the
commission on the same product, in proportion to the money given back on it; what it gives back on
other products or beyond a product's amount spreads over the whole event; a fully refunded event is
fully reversed (:mod:`~.reversals`). The share is cumulative over E's refunds in event order, so the
k-th reversal of an entry of amount ``a`` is ``round(a × f_k) − round(a × f_{k−1})`` with ``f``
never decreasing and at most 1: an entry's reversals add up to at most the entry, exactly the entry
once everything is refunded. A reversal keeps the original's beneficiary, type, rate and
tier: refunding an old event uses the old tier. It becomes due with its original (or at once when
the original is already due), so a payout never includes a commission without its reversal.

**Exactly once.** ``(event, line_no)`` is unique in the database, and only rows actually inserted
feed the rollups. Lines that already have an entry are filtered out in the database before computing
(an anti-join), and a refund whose reversals are written is skipped (they are written in one
transaction), so replaying a stream costs a read. What is left is written so that a replay, a second
worker or a lost race adds nothing:

- PostgreSQL: one ``COPY`` straight into the ledger inside a savepoint. If any row exists by then
  (a concurrent worker committed it after our anti-join; ``COPY`` waits for its transaction), the
  unique key refuses the whole ``COPY``, the savepoint is undone and the rows go through a
  session-private staging table and ``INSERT … SELECT … ON CONFLICT DO NOTHING RETURNING``, which
  tells which rows were inserted.
- SQLite: one prepared ``INSERT … ON CONFLICT DO NOTHING`` for all rows (executemany). SQLite has one
  writer at a time and the batch's transaction holds the write lock from its start (``BEGIN
  IMMEDIATE``; with a deferred ``BEGIN`` the first write would fail had another writer committed
  since our reads), so after the anti-join no conflict can occur. That is still checked: the rows
  inserted are counted, and should the count fall short the chunk is undone (savepoint) and written
  with ``INSERT … ON CONFLICT DO NOTHING RETURNING`` instead.

**Set-based.** Events are taken in id order in batches; each batch costs a fixed number of queries
whatever its size (events, lines, partnerships, grants, referrals, tier history, existing entries,
then the inserts, one upsert per rollup table and one update marking the events accrued).

**Speed.** The hot path avoids the ORM's per-value work: the batch's queries are plain SQL with the
ids passed as one parameter (an array on PostgreSQL, read with binary results; ``json_each`` on
SQLite, its timestamps read as text and parsed once per value), rows come back as tuples, who earns
is decided once per event unless a restricted grant can decide per line, and amounts are integers: a
base amount in 1/10,000 units times a rate in 1/100 percent is the commission in 1/10⁸ of the minor
unit, rounded half-up by integer division — exactly the Decimal result of :func:`commission_minor`
(a rate with finer steps takes that Decimal path). On PostgreSQL the update marking the events
accrued is pipelined: the server runs it while the commissions are computed.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, tzinfo
from decimal import ROUND_HALF_UP, Context, Decimal
from typing import Any, NamedTuple

from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from partnerhub.billing.events.payload import REVERSIBLE, REVERSING
from partnerhub.billing.models import BillingEvent, BillingEventLine, CustomerProduct
from partnerhub.commissions.models import EntryType, LedgerEntry, MonthlyTotal, TierChange, Totals
from partnerhub.commissions.reversals import half_up, reversed_share
from partnerhub.commissions.terms import Terms, add_months, load_terms, month_of
from partnerhub.core.money import MINOR_UNITS

BATCH_EVENTS = 20000
INSERT_CHUNK = 500
ONE = Decimal(1)

_EVENTS = BillingEvent._meta.db_table
_LINES = BillingEventLine._meta.db_table
_LEDGER = LedgerEntry._meta.db_table


@dataclass(slots=True)
class AccrualResult:
    events: int = 0
    entries: int = 0

    def __iadd__(self, other: AccrualResult) -> AccrualResult:
        self.events += other.events
        self.entries += other.entries
        return self


class _Event(NamedTuple):
    id: int
    external_id: str
    kind: str
    org_id: int
    currency: str
    occurred_at: datetime
    refers_to: str


# A ledger row to write, in the order of _COLUMNS without created_at and status (0 beneficiary,
# 3 currency, 4 amount_minor, 10 event, 11 line_no); base_amount, rate,
# occurred_at and hold_until already in the form the database driver takes (see _Db).
_Row = tuple[int, int, str, str, int, Any, Any, str, str, str, int, int, int | None, Any, Any]


# Who earns on a line: beneficiary, entry type, tier id and name, whether the partner rates apply.
_Earner = tuple[int, str, int | None, str, bool]


@dataclass(slots=True)
class _Partnership:
    partner_id: int
    origin: str
    activated_at: datetime
    ended_at: datetime | None
    full: bool
    product_ids: frozenset[int]

    def active_at(self, moment: datetime) -> bool:
        return self.activated_at <= moment and (self.ended_at is None or moment < self.ended_at)


# --- the database dialect ------------------------------------------------------------------------

_SQLITE_DECIMAL = Context(prec=15).create_decimal_from_float


class _Db:
    """What differs between SQLite and PostgreSQL on the hot path (values in and out, id lists)."""

    def __init__(self) -> None:
        self.postgres = connection.vendor == "postgresql"
        self.db_tz: tzinfo = UTC if self.postgres else (connection.timezone or UTC)
        self._rates: dict[Decimal, Any] = {}
        self._later: tuple[str, list[Any]] | None = None

    def later(self, sql: str, params: list[Any]) -> None:
        """A statement whose result nobody reads: run in :meth:`meanwhile` or by :meth:`run_later`."""
        self._later = (sql, params)

    def run_later(self) -> None:
        if self._later is not None:
            sql, params = self._later
            self._later = None
            with connection.cursor() as cursor:
                cursor.execute(sql, params)

    @contextmanager
    def meanwhile(self, queries: list[tuple[str, list[Any]]]) -> Iterator[list[list[tuple[Any, ...]]]]:
        """The results of `queries`, for Python-only work in the block. On PostgreSQL the :meth:`later`
        statement is then sent in pipeline mode: the server runs it while the block works; its outcome,
        errors included, arrives when the block ends."""
        results = [_query(sql, params) for sql, params in queries]
        if not self.postgres or self._later is None:
            yield results
            return
        import psycopg

        later, later_params = self._later
        self._later = None
        pg = connection.connection
        with pg.pipeline():
            marking = psycopg.Cursor(pg)
            marking.execute(later, later_params, prepare=False)
            yield results

    def ids(self, column: str, ids: Iterable[int]) -> tuple[str, list[Any]]:
        """A condition `column` ∈ `ids` with one parameter, whatever the number of ids."""
        if self.postgres:
            return f"{column} = ANY(%s::bigint[])", ["{" + ",".join(str(int(pk)) for pk in ids) + "}"]
        return f"{column} IN (SELECT value FROM json_each(%s))", [json.dumps(list(ids))]  # noqa: S608

    def moment_sql(self, column: str) -> str:
        # SQLite: read the stored text (an expression has no declared type, so the driver does not
        # parse it) and parse it with the fast ISO parser below.
        return column if self.postgres else f"CAST({column} AS TEXT)"

    def moment(self, value: Any) -> Any:
        """A datetime read with :meth:`moment_sql`, aware."""
        if value is None or self.postgres:
            return value
        moment = datetime.fromisoformat(value)
        return moment if moment.tzinfo else moment.replace(tzinfo=self.db_tz)

    def stamp(self, moment: datetime) -> Any:
        """An aware datetime as written: COPY's text on PostgreSQL, Django's adapt_datetimefield_value on SQLite."""
        if self.postgres:
            return moment.isoformat()
        return str(moment.astimezone(self.db_tz).replace(tzinfo=None))

    def base_units(self, value: Any) -> int:
        """A stored base amount (18 digits, 4 places) in 1/10,000 units, as the ORM would read it."""
        if self.postgres:
            return int(value * 10000)
        units = round(value * 10000)
        # The float is the nearest to units/10⁴ (≤ 15 digits): the ORM's 15-digit conversion gives it.
        if -(10**15) < units < 10**15 and units / 10000 == value:
            return int(units)
        return int(self.decimal(value, 4) * 10000)

    def decimal(self, value: Any, places: int) -> Decimal:
        """A stored decimal as the ORM reads it."""
        if self.postgres or isinstance(value, Decimal):
            return Decimal(value)
        digits = 18 if places == 4 else 5
        return _SQLITE_DECIMAL(value).quantize(Decimal(1).scaleb(-places), context=Context(prec=digits))

    def base_value(self, units: int, read: Any) -> Any:
        """The base amount to write: the value read on PostgreSQL, the ORM's text on SQLite."""
        if self.postgres:
            return read
        sign, units = ("-", -units) if units < 0 else ("", units)
        return f"{sign}{units // 10000}.{units % 10000:04d}"

    def rate_value(self, rate: Decimal) -> Any:
        found = self._rates.get(rate)
        if found is None:
            found = self._rates[rate] = connection.ops.adapt_decimalfield_value(rate, 5, 2)
            if not self.postgres and isinstance(found, Decimal):
                found = str(found)
        return found


def _query(sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
    if connection.vendor == "postgresql":
        # Server-side parameters (never prepared, for connection poolers) and binary results: psycopg's C
        # loaders for timestamps and numerics.
        import psycopg

        with connection.cursor() as django_cursor, psycopg.Cursor(django_cursor.connection) as cursor:
            cursor.execute(sql, params, binary=True, prepare=False)
            found: list[tuple[Any, ...]] = cursor.fetchall()
            return found
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows: list[tuple[Any, ...]] = cursor.fetchall()
        return rows


# --- entry points --------------------------------------------------------------------------------


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


def _commission_rows(event_ids: list[int], events: dict[int, _Event], terms: Terms, db: _Db) -> _Prepared:
    condition, params = db.ids("l.event_id", event_ids)
    lines = _query(
        "SELECT l.event_id, l.line_no, l.product_id, l.product_sku, l.category_slug, l.base_amount "  # noqa: S608
        f"FROM {_LINES} l WHERE {condition} AND NOT EXISTS "
        f"(SELECT 1 FROM {_LEDGER} e WHERE e.event_id = l.event_id AND e.line_no = l.line_no) "
        "ORDER BY l.event_id, l.line_no",
        params,
    )
    if not lines:
        return _prepare([], events, db)
    from partnerhub.affiliates.models import Affiliate, AffiliateStatus, Referral
    from partnerhub.partnerships.models import Grant, GrantMode, GrantProduct, Partnership

    # The customers' partnerships (their grants, restricted grants' products, their partners' tier
    # history) and referrals: four queries that depend only on the customers.
    customers, params = db.ids("p.customer_id", {events[line[0]].org_id for line in lines})
    partnership, grant = Partnership._meta.db_table, Grant._meta.db_table
    active = f"{customers} AND p.activated_at IS NOT NULL"
    queries = [
        (
            f"SELECT p.id, p.customer_id, p.partner_id, p.origin, {db.moment_sql('p.activated_at')}, "  # noqa: S608
            f"{db.moment_sql('p.ended_at')}, g.mode, p.ended_product_ids FROM {partnership} p "
            f"LEFT JOIN {grant} g ON g.partnership_id = p.id WHERE {active} ORDER BY p.id DESC",
            params,
        ),
        (
            f"SELECT g.partnership_id, cp.product_id FROM {GrantProduct._meta.db_table} gp "  # noqa: S608
            f"JOIN {grant} g ON g.id = gp.grant_id JOIN {partnership} p ON p.id = g.partnership_id "
            f"JOIN {CustomerProduct._meta.db_table} cp ON cp.id = gp.customer_product_id "
            f"WHERE {active} AND g.mode = %s",
            [*params, str(GrantMode.RESTRICTED)],
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
    with db.meanwhile(queries) as (found, products, referred, history):
        partnerships = _partnerships(found, products, db)
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
            per_product = any(not p.full for p in found)
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
    if len(partnerships) == 1:
        (only,) = partnerships
        if not only.active_at(moment):
            return None
        return only if only.full or product_id in only.product_ids else None
    active = [p for p in partnerships if p.active_at(moment)]
    for p in active:
        if not p.full and product_id in p.product_ids:
            return p
    full = [p for p in active if p.full]
    return max(full, key=lambda p: p.activated_at) if full else None


def _partnerships(
    rows: list[tuple[Any, ...]], grant_products: list[tuple[Any, ...]], db: _Db
) -> dict[int, list[_Partnership]]:
    """Per customer, its activated partnerships (newest first) from (id, customer, partner, origin,
    activated, ended, grant mode, products kept at the end) rows and the (partnership, product) pairs of
    restricted grants."""
    from partnerhub.partnerships.models import GrantMode

    products: dict[int, set[int]] = defaultdict(set)
    for partnership_id, product_id in grant_products:
        products[partnership_id].add(product_id)
    found: dict[int, list[_Partnership]] = defaultdict(list)
    no_products: frozenset[int] = frozenset()
    for pk, customer_id, partner_id, origin, activated_at, ended_at, mode, ended_products in rows:
        restricted = mode == GrantMode.RESTRICTED
        if restricted and ended_products:
            # An ended partnership's grant let go of its products; the partnership kept which they were.
            kept = json.loads(ended_products) if isinstance(ended_products, str) else ended_products
            products[pk].update(int(product_id) for product_id in kept)
        found[customer_id].append(
            _Partnership(
                partner_id=partner_id,
                origin=origin,
                activated_at=db.moment(activated_at) or datetime.min.replace(tzinfo=UTC),
                ended_at=db.moment(ended_at),
                full=not restricted,
                product_ids=frozenset(products.get(pk, ())) if restricted else no_products,
            )
        )
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

_COLUMNS = (
    "beneficiary_id", "customer_id", "type", "currency", "amount_minor", "base_amount", "rate", "tier_name",
    "category_slug", "product_sku", "event_id", "line_no", "reverses_id", "occurred_at", "hold_until",
    "created_at", "status",
)  # fmt: skip


@dataclass(slots=True)
class _Prepared:
    """Rows ready to write: COPY text chunks (PostgreSQL), and the rollup deltas should all be inserted."""

    rows: list[_Row]
    now: Any
    copy: list[str]
    totals: dict[tuple[int, str], dict[str, int]]
    monthly: dict[tuple[int, str, date], int]


def _prepare(rows: list[_Row], events: dict[int, _Event], db: _Db) -> _Prepared:
    """The Python work of writing `rows`, done before anything is written (see :func:`_flush`)."""
    now = db.stamp(timezone.now())
    copy = []
    if db.postgres:
        copy = [
            _copy_text(rows[start : start + 10 * INSERT_CHUNK], now) for start in range(0, len(rows), 10 * INSERT_CHUNK)
        ]
    totals, monthly = _rollup_deltas(rows, events)
    return _Prepared(rows, now, copy, totals, monthly)


@dataclass(slots=True)
class _Rollups:
    """The batch's rollup deltas (of inserted rows only), written with one upsert per table."""

    totals: dict[tuple[int, str], dict[str, int]] = field(default_factory=dict)
    monthly: dict[tuple[int, str, date], int] = field(default_factory=dict)

    def add(self, totals: dict[tuple[int, str], dict[str, int]], monthly: dict[tuple[int, str, date], int]) -> None:
        for key, delta in totals.items():
            found = self.totals.setdefault(key, {})
            for column, value in delta.items():
                found[column] = found.get(column, 0) + value
        for month, amount in monthly.items():
            self.monthly[month] = self.monthly.get(month, 0) + amount

    def apply(self) -> None:
        add_totals(self.totals)
        add_monthly(self.monthly)


def _flush(prepared: _Prepared, events: dict[int, _Event], db: _Db, rollups: _Rollups) -> int:
    """Insert the prepared rows, skipping any that exist; add what was inserted to `rollups`."""
    rows, now = prepared.rows, prepared.now
    if not rows:
        return 0
    if db.postgres:
        inserted = _insert_copied(rows, now, prepared.copy)
    else:
        inserted = []
        for start in range(0, len(rows), 10 * INSERT_CHUNK):
            inserted += _insert_many(rows[start : start + 10 * INSERT_CHUNK], now)
    if len(inserted) == len(rows):
        rollups.add(prepared.totals, prepared.monthly)
    else:
        rollups.add(*_rollup_deltas(inserted, events))
    return len(inserted)


def _insert_sql() -> str:
    placeholders = ", ".join(["%s"] * len(_COLUMNS))
    return (
        f"INSERT INTO {_LEDGER} ({', '.join(_COLUMNS)}) VALUES ({placeholders}) "  # noqa: S608
        "ON CONFLICT (event_id, line_no) DO NOTHING"
    )


def _insert_many(rows: list[_Row], now: Any) -> list[_Row]:
    """SQLite: one prepared INSERT for every row; the rows it inserted (see the module docstring)."""
    params = [(*r, now, "pending") for r in rows]
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.executemany(_insert_sql(), params)
        if cursor.rowcount == len(rows):
            return rows
        transaction.set_rollback(True)
    return _insert_returning(rows, now)


def _insert_returning(rows: list[_Row], now: Any) -> list[_Row]:
    """Multi-row ``INSERT … ON CONFLICT DO NOTHING RETURNING`` in chunks: exactly the rows inserted."""
    by_key = {(r[10], r[11]): r for r in rows}  # (event, line_no)
    placeholders = "(" + ", ".join(["%s"] * len(_COLUMNS)) + ")"
    keys: list[tuple[int, int]] = []
    with connection.cursor() as cursor:
        for start in range(0, len(rows), INSERT_CHUNK):
            chunk = rows[start : start + INSERT_CHUNK]
            params: list[Any] = []
            for r in chunk:
                params += [*r, now, "pending"]
            cursor.execute(
                f"INSERT INTO {_LEDGER} ({', '.join(_COLUMNS)}) VALUES {', '.join([placeholders] * len(chunk))} "  # noqa: S608
                "ON CONFLICT (event_id, line_no) DO NOTHING RETURNING event_id, line_no",
                params,
            )
            keys += cursor.fetchall()
    return [by_key[(event_id, line_no)] for event_id, line_no in keys]


_STAGE = "commissions_accrual_stage"


def _insert_copied(rows: list[_Row], now: str, text: list[str]) -> list[_Row]:
    """PostgreSQL: ``COPY`` the rows straight into the ledger inside a savepoint. The unique key refuses
    the whole ``COPY`` if any row exists (or a concurrent transaction wrote one, once that commits):
    then the savepoint is undone and the rows go through :func:`_insert_staged`, which skips those."""
    from psycopg.errors import UniqueViolation

    try:
        with (
            transaction.atomic(),
            connection.cursor() as cursor,
            cursor.cursor.copy(f"COPY {_LEDGER} ({', '.join(_COLUMNS)}) FROM STDIN") as copy,
        ):
            for chunk in text:
                copy.write(chunk)
    except UniqueViolation:
        return _insert_staged(rows, now)
    return rows


def _insert_staged(rows: list[_Row], now: Any) -> list[_Row]:
    """PostgreSQL: ``COPY`` the rows into a session-private staging table, then one
    ``INSERT … SELECT … ON CONFLICT DO NOTHING RETURNING``: the unique key still decides."""
    columns = ", ".join(_COLUMNS)
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TEMP TABLE IF NOT EXISTS {_STAGE} ON COMMIT DELETE ROWS AS "  # noqa: S608
            f"SELECT {columns} FROM {_LEDGER} WITH NO DATA"
        )
        with cursor.cursor.copy(f"COPY {_STAGE} ({columns}) FROM STDIN") as copy:
            for start in range(0, len(rows), 10 * INSERT_CHUNK):
                copy.write(_copy_text(rows[start : start + 10 * INSERT_CHUNK], now))
        cursor.execute(
            f"INSERT INTO {_LEDGER} ({columns}) SELECT {columns} FROM {_STAGE} ORDER BY event_id, line_no "  # noqa: S608
            "ON CONFLICT (event_id, line_no) DO NOTHING RETURNING event_id, line_no"
        )
        keys: list[tuple[int, int]] = cursor.fetchall()
        cursor.execute(f"DELETE FROM {_STAGE}")  # noqa: S608
    if len(keys) == len(rows):
        return rows
    by_key = {(r[10], r[11]): r for r in rows}  # (event, line_no)
    return [by_key[key] for key in keys]


_COPY_SPECIAL = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _copy_text(rows: list[_Row], now: str) -> str:
    """`rows` in COPY's text format (PostgreSQL)."""
    texts: dict[str, str] = {}

    def text(value: str) -> str:
        found = texts.get(value)
        if found is None:
            found = texts[value] = value.translate(_COPY_SPECIAL)
        return found

    end = f"\t{now}\tpending\n"
    lines = []
    for (
        beneficiary, customer, kind, currency, amount, base, rate, tier, category, sku, event, line_no, reverses,
        occurred_at, hold_until,
    ) in rows:  # fmt: skip
        lines.append(
            f"{beneficiary}\t{customer}\t{text(kind)}\t{text(currency)}\t{amount}\t{base}\t{rate}\t{text(tier)}\t"
            f"{text(category)}\t{text(sku)}\t{event}\t{line_no}\t{'\\N' if reverses is None else reverses}\t"
            f"{occurred_at}\t{hold_until}{end}"
        )
    return "".join(lines)


def _rollup_deltas(
    rows: list[_Row], events: dict[int, _Event]
) -> tuple[dict[tuple[int, str], dict[str, int]], dict[tuple[int, str, date], int]]:
    """What `rows` add to :class:`Totals` and :class:`MonthlyTotal`."""
    totals: dict[tuple[int, str], list[int]] = defaultdict(lambda: [0, 0])
    monthly: dict[tuple[int, str, date], int] = defaultdict(int)
    months: dict[int, date] = {}
    zone = timezone.get_current_timezone()
    for r in rows:
        beneficiary, currency, amount, event_id = r[0], r[3], r[4], r[10]
        key = (beneficiary, currency)
        found = totals[key]
        found[0] += amount
        found[1] += 1
        month = months.get(event_id)
        if month is None:
            month = months[event_id] = month_of(events[event_id].occurred_at.astimezone(zone))
        monthly[(beneficiary, currency, month)] += amount
    return {key: {"earned_minor": v[0], "pending_minor": v[0], "entries": v[1]} for key, v in totals.items()}, monthly


def add_totals(deltas: dict[tuple[int, str], dict[str, int]]) -> None:
    """Add `deltas` (per beneficiary and currency, per column) to :class:`Totals`, creating rows."""
    if not deltas:
        return
    columns = ("earned_minor", "pending_minor", "approved_minor", "paid_minor", "entries")
    table = Totals._meta.db_table
    _upsert(
        table,
        ("beneficiary_id", "currency", *columns),
        ("bigint", "text", *["bigint"] * len(columns)),
        [
            (beneficiary, currency, *(delta.get(c, 0) for c in columns))
            for (beneficiary, currency), delta in sorted(deltas.items())
        ],
        "beneficiary_id, currency",
        ", ".join(f"{c} = {table}.{c} + excluded.{c}" for c in columns),
    )


def add_monthly(deltas: dict[tuple[int, str, Any], int]) -> None:
    deltas = {k: v for k, v in deltas.items() if v}
    if not deltas:
        return
    table = MonthlyTotal._meta.db_table
    _upsert(
        table,
        ("beneficiary_id", "currency", "month", "amount_minor"),
        ("bigint", "text", "date", "bigint"),
        [(beneficiary, currency, month, amount) for (beneficiary, currency, month), amount in sorted(deltas.items())],
        "beneficiary_id, currency, month",
        f"amount_minor = {table}.amount_minor + excluded.amount_minor",
    )


def _upsert(
    table: str, columns: tuple[str, ...], types: tuple[str, ...], rows: list[tuple[Any, ...]], key: str, update: str
) -> None:
    """``INSERT … ON CONFLICT (key) DO UPDATE SET update`` of `rows` (in their order: the lock order) as one
    statement: on PostgreSQL from arrays (``unnest``, one parameter per column), on SQLite prepared once."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            arrays = ", ".join(f"%s::{kind}[]" for kind in types)
            cursor.execute(
                f"INSERT INTO {table} ({', '.join(columns)}) SELECT * FROM unnest({arrays}) "  # noqa: S608
                f"ON CONFLICT ({key}) DO UPDATE SET {update}",
                [_pg_array(column) for column in zip(*rows, strict=True)],
            )
        else:
            adapt = connection.ops.adapt_datefield_value
            marks = ", ".join(["%s"] * len(columns))
            cursor.executemany(
                f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks}) "  # noqa: S608
                f"ON CONFLICT ({key}) DO UPDATE SET {update}",
                [tuple(adapt(v) if isinstance(v, date) else v for v in row) for row in rows],
            )


def _pg_array(values: Iterable[Any]) -> str:
    """A PostgreSQL array literal of ints, dates or text (quoted)."""
    items = []
    for value in values:
        if isinstance(value, str):
            value = '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
        items.append(str(value))
    return "{" + ",".join(items) + "}"


def unaccrued() -> Q:
    return Q(accrued_at__isnull=True)
