"""Reading commissions: the partner dashboard's figures and the ledger list (DESIGN §8, seed 000).

:func:`dashboard` reads only the maintained rollups — :class:`~.models.PartnerStats` (customer figures
and tier), :class:`~.models.Totals` (per currency) and :class:`~.models.MonthlyTotal` (the chart) —
plus the program's tiers and rate table: one small statement whatever the partner's size (100,000
customers or millions of ledger entries read the same few rows, by primary or unique key).

:func:`ledger_entries` narrows a beneficiary's ledger by type, status, currency, event date and
customer; pages walk the ``(beneficiary, -id)`` index newest first (``core.paging.keyset_page``).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import cache, lru_cache
from typing import Any, NamedTuple

from django.db import connection
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from partnerhub.catalog.models import Category
from partnerhub.commissions.models import (
    Audience,
    LedgerEntry,
    MonthlyTotal,
    PartnerStats,
    Rate,
    Tier,
    TierChange,
    Totals,
)
from partnerhub.commissions.terms import TierInfo
from partnerhub.core.money import from_minor
from partnerhub.orgs.models import Organisation
from partnerhub.partners.models import Program

CHART_MONTHS = 12
HISTORY_LENGTH = 6
ZERO = Decimal(0)
CENT = Decimal("0.01")


class CurrencyTotals(NamedTuple):
    """Seed 000's money figures in one currency: total earned, paid out, open (pending + approved).

    Held in minor units as the rollup stores them; the amounts are Decimals read off them when shown.
    (The dashboard's parts are named tuples: immutable, and quick to build on every fresh read.)
    """

    currency: str
    earned_minor: int
    paid_minor: int
    pending_minor: int
    approved_minor: int
    entries: int

    @property
    def earned(self) -> Decimal:
        return from_minor(self.earned_minor, self.currency)

    @property
    def paid(self) -> Decimal:
        return from_minor(self.paid_minor, self.currency)

    @property
    def pending(self) -> Decimal:
        return from_minor(self.pending_minor, self.currency)

    @property
    def approved(self) -> Decimal:
        return from_minor(self.approved_minor, self.currency)

    @property
    def open(self) -> Decimal:
        return from_minor(self.pending_minor + self.approved_minor, self.currency)


class CategoryRates(NamedTuple):
    """A category's partner rate in the current tier and in the next one (None: no next tier)."""

    slug: str
    name: str
    current: Decimal
    next: Decimal | None
    affiliate: Decimal


class MonthPoint(NamedTuple):
    month: date
    currency: str
    minor: int

    @property
    def amount(self) -> Decimal:
        return from_minor(self.minor, self.currency)


class MonthSeries(NamedTuple):
    """Commission (reversals included) per month in one currency, oldest month first."""

    currency: str
    points: tuple[MonthPoint, ...]

    @property
    def total(self) -> Decimal:
        return from_minor(sum(p.minor for p in self.points), self.currency)


@dataclass(frozen=True, slots=True)
class Dashboard:
    org_id: int
    is_partner: bool
    is_affiliate: bool
    customers: int = 0
    open_invitations: int = 0
    active_customers: int = 0
    trial_customers: int = 0
    totals: tuple[CurrencyTotals, ...] = ()
    tiers: tuple[TierInfo, ...] = ()
    tier: TierInfo | None = None
    tier_since: datetime | None = None
    below_since: datetime | None = None
    next_tier: TierInfo | None = None
    rates: tuple[CategoryRates, ...] = ()
    months: tuple[date, ...] = ()
    series: tuple[MonthSeries, ...] = ()
    refreshed_at: datetime | None = None

    @property
    def customers_to_next(self) -> int:
        """How many more customers with an active paid product the next tier needs (0: none or reached)."""
        if self.next_tier is None:
            return 0
        return max(self.next_tier.min_customers - self.active_customers, 0)

    @property
    def progress_percent(self) -> int:
        """Active customers as a share of the next tier's threshold (100 at the highest tier)."""
        if self.next_tier is None:
            return 100 if self.tier is not None else 0
        return min(100, self.active_customers * 100 // self.next_tier.min_customers)

    @property
    def has_commissions(self) -> bool:
        return any(t.entries for t in self.totals)


def chart_months(today: date | None = None, count: int = CHART_MONTHS) -> list[date]:
    """The first days of the last `count` months, the current (local) one last."""
    return list(_months(today or timezone.localdate(), count))


@lru_cache(maxsize=16)
def _months(today: date, count: int) -> tuple[date, ...]:
    index = today.year * 12 + today.month - 1
    return tuple(date(i // 12, i % 12 + 1, 1) for i in range(index - count + 1, index + 1))


def dashboard(org: Organisation, *, today: date | None = None) -> Dashboard:
    """The dashboard figures of a partner or affiliate organisation, from the rollups (one statement)."""
    months = _months(today or timezone.localdate(), CHART_MONTHS)
    with connection.cursor() as cursor:
        adapt = connection.ops.adapt_datefield_value
        cursor.execute(_statement(), [org.pk, org.pk, org.pk, adapt(months[0]), adapt(months[-1])])
        rows = tuple(cursor.fetchall())
    return _board(org.pk, org.is_partner, org.is_affiliate, months, rows)


@lru_cache(maxsize=256)
def _board(
    org_id: int, is_partner: bool, is_affiliate: bool, months: tuple[date, ...], rows: tuple[tuple[Any, ...], ...]
) -> Dashboard:
    """The dashboard made of the rows just read (memoised on them: the same rows make the same
    immutable dashboard, and any change in the database changes the rows). Rows as :func:`_statement`
    reads them: kind, three texts, a month, five integers, a percentage and three times."""
    stats: dict[str, Any] = {}
    tier_id = None
    amounts: dict[str, dict[date, int]] = defaultdict(dict)
    totals = []
    tier_rows = []
    rate_rows = []
    for kind, text, slug, name, month, a, b, c, d, e, percent, tier_since, below_since, refreshed_at in rows:
        if kind == "m":  # one month of the chart
            amounts[text][_day(month)] = a
        elif kind == "t":  # the totals of one currency
            totals.append(CurrencyTotals(text, a, b, c, d, e))
        elif kind == "r":  # a rate of the program's table: audience, tier, percent, category
            rate_rows.append((text, a, percent, slug, name, b))
        elif kind == "k":  # a tier of the program
            tier_rows.append((b, a, text))
        else:  # the maintained customer figures and tier
            stats = {
                "customers": a,
                "open_invitations": b,
                "active_customers": c,
                "trial_customers": d,
                "tier_since": _moment(tier_since),
                "below_since": _moment(below_since),
                "refreshed_at": _moment(refreshed_at),
            }
            tier_id = e
    currencies = sorted(set(amounts) | {t.currency for t in totals})
    series = tuple(
        MonthSeries(currency, tuple(MonthPoint(m, currency, amounts[currency].get(m, 0)) for m in months))
        for currency in currencies
    )
    # The program's tiers (by threshold) and rate table: a few dozen rows at most.
    by_id = {pk: TierInfo(pk, name, threshold) for threshold, pk, name in sorted(tier_rows)}
    tiers = tuple(by_id.values())
    tier = by_id.get(tier_id) if tier_id is not None else None
    next_tier = None
    if is_partner:
        if tier is None:
            next_tier = tiers[0] if tiers else None
        else:
            index = tiers.index(tier)
            next_tier = tiers[index + 1] if index + 1 < len(tiers) else None
    return Dashboard(
        org_id=org_id,
        is_partner=is_partner,
        is_affiliate=is_affiliate,
        totals=tuple(sorted(totals, key=lambda t: t.currency)),
        tiers=tiers,
        tier=tier,
        next_tier=next_tier,
        rates=_rates(tuple(rate_rows), tier, next_tier),
        months=months,
        series=series,
        **stats,
    )


@cache
def _statement() -> str:
    """The dashboard's one statement, plain SQL on both databases (for a read this small, building ORM
    queries costs more than the database's answer). One row per kind of figure:

    ``s`` the organisation's stats row (customer figures, tier and times), ``t`` its totals per
    currency, ``m`` one row per month of the chart and currency, ``k`` the program's tiers and ``r``
    its rate table with the categories. The first branch types every column (PostgreSQL resolves a
    UNION's types from left to right).
    """
    stats, totals, monthly = PartnerStats._meta.db_table, Totals._meta.db_table, MonthlyTotal._meta.db_table
    tier, rate, category = Tier._meta.db_table, Rate._meta.db_table, Category._meta.db_table
    program = f"(SELECT id FROM {Program._meta.db_table} ORDER BY id LIMIT 1)"  # noqa: S608 - table names only
    none = "NULL, NULL, NULL"
    return (
        "SELECT 's', CAST(NULL AS TEXT), CAST(NULL AS TEXT), CAST(NULL AS TEXT), CAST(NULL AS DATE), "  # noqa: S608
        "customers, open_invitations, active_customers, trial_customers, tier_id, CAST(NULL AS NUMERIC), "
        f"tier_since, below_since, refreshed_at FROM {stats} WHERE partner_id = %s "
        f"UNION ALL SELECT 't', currency, NULL, NULL, NULL, earned_minor, paid_minor, pending_minor, "
        f"approved_minor, entries, NULL, {none} FROM {totals} WHERE beneficiary_id = %s AND entries > 0 "
        f"UNION ALL SELECT 'm', currency, NULL, NULL, month, amount_minor, 0, 0, 0, 0, NULL, {none} "
        f"FROM {monthly} WHERE beneficiary_id = %s AND month >= %s AND month <= %s "
        f"UNION ALL SELECT 'k', name, NULL, NULL, NULL, id, min_customers, 0, 0, 0, NULL, {none} "
        f"FROM {tier} WHERE program_id = {program} "
        f"UNION ALL SELECT 'r', r.audience, c.slug, c.name, NULL, r.tier_id, c.position, 0, 0, 0, r.percent, "
        f"{none} FROM {rate} r JOIN {category} c ON c.id = r.category_id WHERE r.program_id = {program}"
    )


def _moment(value: Any) -> datetime | None:
    """A datetime column as an aware datetime (SQLite answers raw reads in naive UTC)."""
    if value is None:
        return None
    parsed = value if isinstance(value, datetime) else parse_datetime(str(value))
    if parsed is not None and timezone.is_naive(parsed):
        parsed = parsed.replace(tzinfo=UTC)
    return parsed


def _day(value: Any) -> date:
    return value if isinstance(value, date) else _iso_day(str(value))


@lru_cache(maxsize=256)
def _iso_day(text: str) -> date:
    return date.fromisoformat(text)


def _percent(value: Any) -> Decimal:
    """A rate column as a Decimal with two places (SQLite answers raw reads with numbers)."""
    return value if isinstance(value, Decimal) else _number_percent(value)


@lru_cache(maxsize=512)
def _number_percent(value: float | int | str) -> Decimal:
    # A rate has two decimals: the shortest text of the stored number is exact (12.5 → "12.5").
    return Decimal(str(value)).quantize(CENT)


@lru_cache(maxsize=64)
def _rates(
    rows: tuple[tuple[Any, ...], ...], tier: TierInfo | None, next_tier: TierInfo | None
) -> tuple[CategoryRates, ...]:
    """The rate table as shown (memoised on the rows read, like the dashboard)."""
    table: dict[tuple[str, str, int | None], Decimal] = {}
    categories: dict[str, tuple[int, str, str]] = {}
    for audience, tier_id, percent, slug, name, position in rows:
        table[(audience, slug, tier_id)] = _percent(percent)
        categories[slug] = (position, name, slug)
    current_id = tier.id if tier else None
    return tuple(
        CategoryRates(
            slug=slug,
            name=name,
            current=table.get((Audience.PARTNER, slug, current_id), ZERO),
            next=table.get((Audience.PARTNER, slug, next_tier.id), ZERO) if next_tier else None,
            affiliate=table.get((Audience.AFFILIATE, slug, None), ZERO),
        )
        for _position, name, slug in sorted(categories.values())
    )


def tier_history(org: Organisation, *, limit: int = HISTORY_LENGTH) -> list[TierChange]:
    """The partner's latest tier changes, newest first."""
    return list(TierChange.objects.filter(partner_id=org.pk).order_by("-effective_at", "-id")[:limit])


# --- the ledger list -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LedgerFilters:
    type: str = ""
    status: str = ""
    currency: str = ""
    customer: str = ""  # the customer organisation's short name
    since: datetime | None = None  # event time on or after
    until: datetime | None = None  # event time before


def ledger_entries(org: Organisation, filters: LedgerFilters | None = None) -> QuerySet[LedgerEntry]:
    """The organisation's ledger entries (it is the beneficiary), narrowed by `filters`, newest first."""
    filters = filters or LedgerFilters()
    rows = LedgerEntry.objects.filter(beneficiary_id=org.pk)
    if filters.type:
        rows = rows.filter(type=filters.type)
    if filters.status:
        rows = rows.filter(status=filters.status)
    if filters.currency:
        rows = rows.filter(currency=filters.currency)
    if filters.customer:
        rows = rows.filter(customer__slug=filters.customer)
    if filters.since is not None:
        rows = rows.filter(occurred_at__gte=filters.since)
    if filters.until is not None:
        rows = rows.filter(occurred_at__lt=filters.until)
    return rows.select_related("customer").order_by("-id")


def product_names(entries: list[LedgerEntry]) -> dict[str, str]:
    """The catalog names of the entries' products by SKU (one query per page)."""
    from partnerhub.catalog.models import Product

    skus = {e.product_sku for e in entries}
    return dict(Product.objects.filter(sku__in=skus).values_list("sku", "name")) if skus else {}
