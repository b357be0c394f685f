"""Commission accrual: billing events in, ledger entries out, exactly once (DESIGN §8).

**Who earns.** Each line of a payment or renewal pays the partner that managed the line's product at
the event's time: a partnership active then (activated before, not ended before the event), whose
restricted grant names the product, else whose full grant covers the organisation (a product named by
another partner's restricted grant belongs to that partner). The entry's type is the partnership's
origin (``partner`` or ``self``). With no managing partner, the affiliate the customer signed up
through earns (type ``affiliate``), if it is approved and the program's month limit has not passed.
Otherwise nobody earns. Grants are read as they are now (they change in place); partnerships count
by their active interval, so ending one stops commissions from that moment (seed 004).

**How much.** base × rate, half-up per line to the currency's minor unit. Partners get the rate of
the line's category in the tier in force at the event's time (:class:`~.models.TierChange`), or the
program's base rate without a tier; affiliates get the affiliate rate. A zero amount writes nothing.

**Reversals.** A refund or chargeback of event E reverses every entry E created, in proportion to
the money reversed so far: the k-th reversal takes ``round(a × R_k / T) − round(a × R_{k−1} / T)``
where ``a`` is the entry's amount, ``T`` E's total and ``R_k`` the amount reversed by E's first k
refunds (in event order). The reversals of an entry therefore add up to at most the entry, exactly
the entry once everything is refunded. A reversal keeps the original's beneficiary, type, rate and
tier: refunding an old event uses the old tier. It becomes due with its original (or at once when
the original is already due), so a payout never includes a commission without its reversal.

**Exactly once.** ``(event, line_no)`` is unique in the database. Rows are written with
``INSERT … ON CONFLICT DO NOTHING RETURNING`` (on PostgreSQL from a ``COPY``-filled, session-private
staging table): a replay, a second worker or a lost race adds nothing, and only rows actually
inserted feed the rollups. Lines that already have an entry are filtered out in the database before
computing (an anti-join), and a refund whose reversals are written is skipped (they are written in
one transaction), so replaying a stream costs a read.

**Set-based.** Events are taken in id order in batches; each batch costs a fixed number of queries
whatever its size (events, lines, partnerships, grants, referrals, tier history, existing entries,
then the inserts in chunks and one upsert per rollup table).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db import connection, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from partnerhub.billing.events.payload import REVERSIBLE, REVERSING
from partnerhub.billing.models import BillingEvent, BillingEventLine
from partnerhub.commissions.models import EntryType, LedgerEntry, MonthlyTotal, TierChange, Totals
from partnerhub.commissions.terms import Terms, add_months, load_terms, month_of
from partnerhub.core.money import MINOR_UNITS

BATCH_EVENTS = 2000
INSERT_CHUNK = 500
ONE = Decimal(1)


@dataclass(slots=True)
class AccrualResult:
    events: int = 0
    entries: int = 0

    def __iadd__(self, other: AccrualResult) -> AccrualResult:
        self.events += other.events
        self.entries += other.entries
        return self


@dataclass(slots=True)
class _Row:
    """One ledger entry to write."""

    beneficiary_id: int
    customer_id: int
    type: str
    currency: str
    amount_minor: int
    base_amount: Decimal
    rate: Decimal
    tier_name: str
    category_slug: str
    product_sku: str
    event_id: int
    line_no: int
    reverses_id: int | None
    occurred_at: datetime
    hold_until: datetime


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


# --- entry points --------------------------------------------------------------------------------


def accrue_pending(*, batch_events: int = BATCH_EVENTS, limit: int | None = None) -> AccrualResult:
    """Accrue every billing event not accrued yet, oldest first, one transaction per batch."""
    total = AccrualResult()
    terms = load_terms()
    while limit is None or total.events < limit:
        size = batch_events if limit is None else min(batch_events, limit - total.events)
        ids = list(
            BillingEvent.objects.filter(accrued_at__isnull=True).order_by("id").values_list("id", flat=True)[:size]
        )
        if not ids:
            break
        total += accrue_events(ids, terms=terms)
    return total


def accrue_events(event_ids: Sequence[int], *, terms: Terms | None = None) -> AccrualResult:
    """Accrue the given events (again, if they were already): only missing entries are written."""
    terms = terms or load_terms()
    result = AccrualResult(events=len(event_ids))
    with transaction.atomic():
        # A refund accrued on its own brings its original along when that was not accrued yet.
        refs = BillingEvent.objects.filter(pk__in=event_ids, kind__in=list(REVERSING)).values("refers_to")
        missing = BillingEvent.objects.filter(external_id__in=refs, accrued_at__isnull=True).values_list(
            "id", flat=True
        )
        event_ids = sorted({*event_ids, *missing})
        events: dict[int, dict[str, Any]] = {
            e["id"]: dict(e)
            for e in BillingEvent.objects.filter(pk__in=event_ids).values(
                "id", "external_id", "kind", "org_id", "currency", "occurred_at", "refers_to"
            )
        }
        earning = sorted(pk for pk, e in events.items() if e["kind"] in REVERSIBLE)
        reversing = sorted(pk for pk, e in events.items() if e["kind"] in REVERSING)
        if earning:
            result.entries += _write(_commission_rows(earning, events, terms))
        if reversing:
            result.entries += _write(_reversal_rows(reversing, events))
        BillingEvent.objects.filter(pk__in=list(events), accrued_at__isnull=True).update(accrued_at=timezone.now())
    return result


# --- commissions ---------------------------------------------------------------------------------


def _commission_rows(event_ids: list[int], events: dict[int, dict[str, Any]], terms: Terms) -> list[_Row]:
    written = LedgerEntry.objects.filter(event_id=OuterRef("event_id"), line_no=OuterRef("line_no"))
    lines = list(
        BillingEventLine.objects.filter(event_id__in=event_ids)
        .filter(~Exists(written))
        .order_by("event_id", "line_no")
        .values("event_id", "line_no", "product_id", "product_sku", "category_slug", "base_amount")
    )
    if not lines:
        return []
    org_ids = {events[line["event_id"]]["org_id"] for line in lines}
    partnerships = _partnerships(org_ids)
    referrals = _referrals(org_ids)
    tiers = _tier_history({p.partner_id for ps in partnerships.values() for p in ps})
    rows = []
    for line in lines:
        event = events[line["event_id"]]
        moment: datetime = event["occurred_at"]
        org_id = event["org_id"]
        category = line["category_slug"]
        managing = _managing(partnerships.get(org_id, ()), line["product_id"], moment)
        if managing is not None:
            tier_id, tier_name = _tier_at(tiers.get(managing.partner_id, ()), moment)
            beneficiary, kind = managing.partner_id, managing.origin
            rate = terms.partner_rate(category, tier_id)
        else:
            referral = referrals.get(org_id)
            if referral is None or not _referral_pays(referral, moment, terms):
                continue
            beneficiary, kind, tier_name = referral[0], EntryType.AFFILIATE, ""
            rate = terms.affiliate_rate(category)
        if beneficiary == org_id:
            continue
        amount = commission_minor(line["base_amount"], rate, event["currency"])
        if amount <= 0:
            continue
        rows.append(
            _Row(
                beneficiary_id=beneficiary,
                customer_id=org_id,
                type=str(kind),
                currency=event["currency"],
                amount_minor=amount,
                base_amount=line["base_amount"],
                rate=rate,
                tier_name=tier_name,
                category_slug=category,
                product_sku=line["product_sku"],
                event_id=event["id"],
                line_no=line["line_no"],
                reverses_id=None,
                occurred_at=moment,
                hold_until=terms.hold_until(moment),
            )
        )
    return rows


def commission_minor(base: Decimal, rate: Decimal, currency: str) -> int:
    """base × rate %, half-up to the minor unit, as an integer count of that unit."""
    return int((base * rate / 100 * (10 ** MINOR_UNITS[currency])).quantize(ONE, rounding=ROUND_HALF_UP))


def _managing(partnerships: Iterable[_Partnership], product_id: int | None, moment: datetime) -> _Partnership | None:
    active = [p for p in partnerships if p.active_at(moment)]
    for p in active:
        if not p.full and product_id in p.product_ids:
            return p
    full = [p for p in active if p.full]
    return max(full, key=lambda p: p.activated_at) if full else None


def _referral_pays(referral: tuple[int, datetime], moment: datetime, terms: Terms) -> bool:
    _affiliate_org, since = referral
    if moment < since:
        return False
    return terms.affiliate_months is None or moment < add_months(since, terms.affiliate_months)


def _partnerships(org_ids: set[int]) -> dict[int, list[_Partnership]]:
    from partnerhub.partnerships.models import GrantMode, GrantProduct, Partnership

    rows = list(
        Partnership.objects.filter(customer_id__in=org_ids, activated_at__isnull=False).values_list(
            "id", "customer_id", "partner_id", "origin", "activated_at", "ended_at", "grant__mode"
        )
    )
    products: dict[int, set[int]] = defaultdict(set)
    restricted = [pk for pk, *_rest, mode in rows if mode == GrantMode.RESTRICTED]
    if restricted:
        for partnership_id, product_id in GrantProduct.objects.filter(grant__partnership_id__in=restricted).values_list(
            "grant__partnership_id", "customer_product__product_id"
        ):
            products[partnership_id].add(product_id)
    found: dict[int, list[_Partnership]] = defaultdict(list)
    for pk, customer_id, partner_id, origin, activated_at, ended_at, mode in rows:
        found[customer_id].append(
            _Partnership(
                partner_id=partner_id,
                origin=origin,
                activated_at=activated_at or datetime.min.replace(tzinfo=UTC),
                ended_at=ended_at,
                full=mode != GrantMode.RESTRICTED,
                product_ids=frozenset(products.get(pk, ())),
            )
        )
    return found


def _referrals(org_ids: set[int]) -> dict[int, tuple[int, datetime]]:
    from partnerhub.affiliates.models import AffiliateStatus, Referral

    return {
        customer_id: (affiliate_org, created_at)
        for customer_id, affiliate_org, created_at in Referral.objects.filter(
            customer_id__in=org_ids, affiliate__status=AffiliateStatus.APPROVED
        ).values_list("customer_id", "affiliate__org_id", "created_at")
    }


def _tier_history(partner_ids: set[int]) -> dict[int, list[tuple[datetime, int | None, str]]]:
    history: dict[int, list[tuple[datetime, int | None, str]]] = defaultdict(list)
    if not partner_ids:
        return history
    for partner_id, effective_at, tier_id, name in (
        TierChange.objects.filter(partner_id__in=partner_ids)
        .order_by("partner_id", "effective_at", "id")
        .values_list("partner_id", "effective_at", "tier_id", "tier_name")
    ):
        history[partner_id].append((effective_at, tier_id, name))
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


def _reversal_rows(event_ids: list[int], events: dict[int, dict[str, Any]]) -> list[_Row]:
    # A reversing event's rows are written together, in one transaction: one of them means all of them.
    written = set(LedgerEntry.objects.filter(event_id__in=event_ids).values_list("event_id", flat=True).distinct())
    event_ids = [pk for pk in event_ids if pk not in written]
    if not event_ids:
        return []
    refs = {events[pk]["refers_to"] for pk in event_ids}
    originals = {
        e["external_id"]: e
        for e in BillingEvent.objects.filter(external_id__in=refs).values("id", "external_id", "currency")
    }
    original_ids = [o["id"] for o in originals.values()]
    entries: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for found in (
        LedgerEntry.objects.filter(event_id__in=original_ids, reverses__isnull=True)
        .order_by("line_no")
        .values(
            "id",
            "event_id",
            "line_no",
            "beneficiary_id",
            "customer_id",
            "type",
            "currency",
            "amount_minor",
            "base_amount",
            "rate",
            "tier_name",
            "category_slug",
            "product_sku",
            "hold_until",
        )
    ):
        entries[found["event_id"]].append(dict(found))
    if not entries:
        return []
    totals = _event_totals(original_ids)
    # Every reversing event of these originals, in event order: the cumulative amounts.
    reversed_by: dict[str, list[tuple[int, Decimal]]] = defaultdict(list)
    reversing_ids = list(
        BillingEvent.objects.filter(refers_to__in=refs, kind__in=list(REVERSING)).values_list("id", "refers_to")
    )
    amounts = _event_totals([pk for pk, _ in reversing_ids])
    for pk, ref in sorted(reversing_ids):
        reversed_by[ref].append((pk, amounts.get(pk, Decimal(0))))
    done = set(
        LedgerEntry.objects.filter(event_id__in=event_ids, reverses__isnull=False).values_list("event_id", "line_no")
    )
    rows = []
    for pk in event_ids:
        event = events[pk]
        original = originals.get(event["refers_to"])
        if original is None or not entries.get(original["id"]):
            continue
        total = totals.get(original["id"], Decimal(0))
        if total <= 0:
            continue
        before = Decimal(0)
        for other, refunded in reversed_by[event["refers_to"]]:
            if other == pk:
                break
            before += refunded
        upto = min(before + amounts.get(pk, Decimal(0)), total)
        before = min(before, total)
        for entry in entries[original["id"]]:
            if (pk, entry["line_no"]) in done:
                continue
            share = _share(entry["amount_minor"], upto, total) - _share(entry["amount_minor"], before, total)
            if share <= 0:
                continue
            moment: datetime = event["occurred_at"]
            rows.append(
                _Row(
                    beneficiary_id=entry["beneficiary_id"],
                    customer_id=entry["customer_id"],
                    type=entry["type"],
                    currency=entry["currency"],
                    amount_minor=-share,
                    base_amount=entry["base_amount"],
                    rate=entry["rate"],
                    tier_name=entry["tier_name"],
                    category_slug=entry["category_slug"],
                    product_sku=entry["product_sku"],
                    event_id=pk,
                    line_no=entry["line_no"],
                    reverses_id=entry["id"],
                    occurred_at=moment,
                    hold_until=max(entry["hold_until"], moment),
                )
            )
    return rows


def _share(amount_minor: int, part: Decimal, total: Decimal) -> int:
    return int((Decimal(amount_minor) * part / total).quantize(ONE, rounding=ROUND_HALF_UP))


def _event_totals(event_ids: Iterable[int]) -> dict[int, Decimal]:
    # Summed in Python: SQLite adds decimals as floats.
    totals: dict[int, Decimal] = defaultdict(Decimal)
    for event_id, amount in BillingEventLine.objects.filter(event_id__in=list(event_ids)).values_list(
        "event_id", "base_amount"
    ):
        totals[event_id] += amount
    return totals


# --- writing -------------------------------------------------------------------------------------

_COLUMNS = (
    "beneficiary_id", "customer_id", "type", "currency", "amount_minor", "base_amount", "rate", "tier_name",
    "category_slug", "product_sku", "event_id", "line_no", "reverses_id", "occurred_at", "hold_until",
    "created_at", "status",
)  # fmt: skip


def _write(rows: list[_Row]) -> int:
    """Insert `rows`, skipping any that exist; update the rollups by what was inserted. Returns the count."""
    if not rows:
        return 0
    by_key = {(r.event_id, r.line_no): r for r in rows}
    keys = _insert_staged(rows) if connection.vendor == "postgresql" else _insert_values(rows)
    inserted = [by_key[(event_id, line_no)] for event_id, line_no in keys]
    _add_to_rollups(inserted)
    return len(inserted)


def _insert_values(rows: list[_Row]) -> list[tuple[int, int]]:
    """Multi-row ``INSERT … ON CONFLICT DO NOTHING RETURNING`` in chunks (SQLite)."""
    ops = connection.ops
    stamp: dict[datetime, Any] = {}

    def adapt(moment: datetime) -> Any:
        found = stamp.get(moment)
        if found is None:
            found = stamp[moment] = ops.adapt_datetimefield_value(moment)
        return found

    now = adapt(timezone.now())
    table = LedgerEntry._meta.db_table
    placeholders = "(" + ", ".join(["%s"] * len(_COLUMNS)) + ")"
    keys: list[tuple[int, int]] = []
    with connection.cursor() as cursor:
        for start in range(0, len(rows), INSERT_CHUNK):
            chunk = rows[start : start + INSERT_CHUNK]
            params: list[Any] = []
            for r in chunk:
                params += [
                    r.beneficiary_id, r.customer_id, r.type, r.currency, r.amount_minor,
                    ops.adapt_decimalfield_value(r.base_amount, 18, 4), ops.adapt_decimalfield_value(r.rate, 5, 2),
                    r.tier_name, r.category_slug, r.product_sku, r.event_id, r.line_no, r.reverses_id,
                    adapt(r.occurred_at), adapt(r.hold_until), now, "pending",
                ]  # fmt: skip
            cursor.execute(
                f"INSERT INTO {table} ({', '.join(_COLUMNS)}) VALUES {', '.join([placeholders] * len(chunk))} "  # noqa: S608
                "ON CONFLICT (event_id, line_no) DO NOTHING RETURNING event_id, line_no",
                params,
            )
            keys += cursor.fetchall()
    return keys


_STAGE = "commissions_accrual_stage"


def _insert_staged(rows: list[_Row]) -> list[tuple[int, int]]:
    """PostgreSQL: ``COPY`` the rows into a session-private staging table, then one
    ``INSERT … SELECT … ON CONFLICT DO NOTHING RETURNING``: the unique key still decides."""
    table = LedgerEntry._meta.db_table
    columns = ", ".join(_COLUMNS)
    now = timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TEMP TABLE IF NOT EXISTS {_STAGE} ON COMMIT DELETE ROWS AS "  # noqa: S608
            f"SELECT {columns} FROM {table} WITH NO DATA"
        )
        with cursor.cursor.copy(f"COPY {_STAGE} ({columns}) FROM STDIN") as copy:
            for r in rows:
                copy.write_row(
                    (
                        r.beneficiary_id, r.customer_id, r.type, r.currency, r.amount_minor, r.base_amount, r.rate,
                        r.tier_name, r.category_slug, r.product_sku, r.event_id, r.line_no, r.reverses_id,
                        r.occurred_at, r.hold_until, now, "pending",
                    )
                )  # fmt: skip
        cursor.execute(
            f"INSERT INTO {table} ({columns}) SELECT {columns} FROM {_STAGE} ORDER BY event_id, line_no "  # noqa: S608
            "ON CONFLICT (event_id, line_no) DO NOTHING RETURNING event_id, line_no"
        )
        keys: list[tuple[int, int]] = cursor.fetchall()
        cursor.execute(f"DELETE FROM {_STAGE}")  # noqa: S608
    return keys


def _add_to_rollups(rows: list[_Row]) -> None:
    totals: dict[tuple[int, str], list[int]] = defaultdict(lambda: [0, 0])
    monthly: dict[tuple[int, str, Any], int] = defaultdict(int)
    months: dict[datetime, Any] = {}
    for r in rows:
        key = (r.beneficiary_id, r.currency)
        totals[key][0] += r.amount_minor
        totals[key][1] += 1
        month = months.get(r.occurred_at)
        if month is None:
            month = months[r.occurred_at] = month_of(timezone.localtime(r.occurred_at))
        monthly[(r.beneficiary_id, r.currency, month)] += r.amount_minor
    add_totals({key: {"earned_minor": v[0], "pending_minor": v[0], "entries": v[1]} for key, v in totals.items()})
    add_monthly(monthly)


def add_totals(deltas: dict[tuple[int, str], dict[str, int]]) -> None:
    """Add `deltas` (per beneficiary and currency, per column) to :class:`Totals`, creating rows."""
    if not deltas:
        return
    columns = ("earned_minor", "pending_minor", "approved_minor", "paid_minor", "entries")
    table = Totals._meta.db_table
    values = []
    params: list[Any] = []
    for (beneficiary, currency), delta in sorted(deltas.items()):
        values.append("(" + ", ".join(["%s"] * (2 + len(columns))) + ")")
        params += [beneficiary, currency, *(delta.get(c, 0) for c in columns)]
    update = ", ".join(f"{c} = {table}.{c} + excluded.{c}" for c in columns)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (beneficiary_id, currency, {', '.join(columns)}) VALUES {', '.join(values)} "  # noqa: S608
            f"ON CONFLICT (beneficiary_id, currency) DO UPDATE SET {update}",
            params,
        )


def add_monthly(deltas: dict[tuple[int, str, Any], int]) -> None:
    deltas = {k: v for k, v in deltas.items() if v}
    if not deltas:
        return
    table = MonthlyTotal._meta.db_table
    params: list[Any] = []
    for (beneficiary, currency, month), amount in sorted(deltas.items()):
        params += [beneficiary, currency, connection.ops.adapt_datefield_value(month), amount]
    values = ", ".join(["(%s, %s, %s, %s)"] * len(deltas))
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (beneficiary_id, currency, month, amount_minor) VALUES {values} "  # noqa: S608
            f"ON CONFLICT (beneficiary_id, currency, month) DO UPDATE SET amount_minor = {table}.amount_minor + excluded.amount_minor",
            params,
        )


def unaccrued() -> Q:
    return Q(accrued_at__isnull=True)
