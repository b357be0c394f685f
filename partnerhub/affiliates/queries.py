"""Reads of affiliate tracking: an organisation's affiliate account and its figures, the review queue.

Figures (the affiliate page and the API):

- **clicks per day** — counted clicks (repeats and bots excluded) of the last 30 days, by local day;
- **signups** — referred customer organisations (all time, and within the last 30 days);
- **paying customers** — referred customers that earned the affiliate at least one ``affiliate``
  ledger entry (a paid billing event);
- **conversion rate** — paying customers ÷ counted clicks, all time, in percent (none without clicks);
- **commissions** — the sum of the affiliate's ``affiliate`` ledger entries (reversals included) per
  currency, with the part still pending.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.db.models import Count, Q, QuerySet, Sum
from django.db.models.functions import TruncDate
from django.http import Http404
from django.utils import timezone

from partnerhub.affiliates.models import Affiliate, AffiliateStatus, Click, Referral
from partnerhub.commissions.models import EntryStatus, EntryType, LedgerEntry
from partnerhub.core.money import from_minor
from partnerhub.core.paging import Keyset, keyset_page
from partnerhub.orgs.models import Organisation

CHART_DAYS = 30
REVIEW_PAGE_SIZE = 25
MAX_ID = 2**63 - 1


@dataclass(frozen=True)
class Day:
    day: date
    clicks: int
    percent: int  # of the busiest day
    x: int  # the bar's left edge in the chart (a 600 × 200 box, 20 units a day)

    @property
    def height(self) -> int:
        return self.percent * 2

    @property
    def y(self) -> int:
        return 200 - self.height


@dataclass(frozen=True)
class Commission:
    currency: str
    total: Decimal
    pending: Decimal


@dataclass(frozen=True)
class Stats:
    days: list[Day]
    clicks_30d: int
    clicks_total: int
    signups_total: int
    signups_30d: int
    paying: int
    conversion_percent: Decimal | None
    commissions: list[Commission] = field(default_factory=list)


def affiliate_of(org: Organisation) -> Affiliate | None:
    return Affiliate.objects.filter(org=org).first()


def clicks_per_day(affiliate: Affiliate, *, today: date | None = None, days: int = CHART_DAYS) -> list[Day]:
    """Counted clicks of each of the last `days` days (oldest first, days without clicks included)."""
    today = today or timezone.localdate()
    first = today - timedelta(days=days - 1)
    tz = timezone.get_current_timezone()
    start = datetime.combine(first, time.min, tzinfo=tz)
    rows = (
        Click.objects.filter(affiliate=affiliate, counted=True, created_at__gte=start)
        .annotate(day=TruncDate("created_at", tzinfo=tz))
        .values("day")
        .annotate(n=Count("id"))
    )
    counts = {row["day"]: row["n"] for row in rows}
    busiest = max(counts.values(), default=0)
    return [
        Day(
            day=first + timedelta(days=i),
            clicks=(n := counts.get(first + timedelta(days=i), 0)),
            percent=round(100 * n / busiest) if busiest else 0,
            x=i * 20,
        )
        for i in range(days)
    ]


def commissions(org: Organisation) -> list[Commission]:
    rows = (
        LedgerEntry.objects.filter(beneficiary=org, type=EntryType.AFFILIATE)
        .values("currency")
        .annotate(total=Sum("amount_minor"), pending=Sum("amount_minor", filter=Q(status=EntryStatus.PENDING)))
        .order_by("currency")
    )
    return [
        Commission(
            currency=row["currency"],
            total=from_minor(row["total"] or 0, row["currency"]),
            pending=from_minor(row["pending"] or 0, row["currency"]),
        )
        for row in rows
    ]


def stats(affiliate: Affiliate, *, today: date | None = None) -> Stats:
    days = clicks_per_day(affiliate, today=today)
    since = timezone.now() - timedelta(days=CHART_DAYS)
    clicks_total = Click.objects.filter(affiliate=affiliate, counted=True).count()
    referrals = Referral.objects.filter(affiliate=affiliate)
    paying = (
        LedgerEntry.objects.filter(
            beneficiary_id=affiliate.org_id,
            type=EntryType.AFFILIATE,
            reverses__isnull=True,
            customer_id__in=referrals.values("customer_id"),
        )
        .values("customer_id")
        .distinct()
        .count()
    )
    conversion = (Decimal(100 * paying) / clicks_total).quantize(Decimal("0.1")) if clicks_total else None
    return Stats(
        days=days,
        clicks_30d=sum(d.clicks for d in days),
        clicks_total=clicks_total,
        signups_total=referrals.count(),
        signups_30d=referrals.filter(created_at__gte=since).count(),
        paying=paying,
        conversion_percent=conversion,
        commissions=commissions(affiliate.org),
    )


# --- the operator's queue ------------------------------------------------------------------------------


def for_review(status: str = "") -> QuerySet[Affiliate]:
    rows = Affiliate.objects.select_related("org", "applied_by", "decided_by")
    return rows.filter(status=status) if status in AffiliateStatus.values else rows


def review_page(status: str = "", *, before: int | None = None, after: int | None = None) -> Keyset[Affiliate]:
    return keyset_page(for_review(status), before=before, after=after, size=REVIEW_PAGE_SIZE)


def for_review_by_id(affiliate_id: int) -> Affiliate:
    affiliate = for_review().filter(pk=affiliate_id).first() if 0 < affiliate_id <= MAX_ID else None
    if affiliate is None:
        raise Http404
    return affiliate
