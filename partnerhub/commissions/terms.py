"""The program's commission terms as one snapshot: tiers, the rate table, hold and payout settings.

Read once per accrual batch or page; everything that decides an amount looks rates up here.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from partnerhub.commissions.models import Audience, Rate, Tier
from partnerhub.partners.models import Program

ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class TierInfo:
    id: int
    name: str
    min_customers: int


@dataclass(slots=True)
class Terms:
    """What decides amounts and tiers; the program's other settings are read where they act."""

    tiers: list[TierInfo] = field(default_factory=list)
    # (audience, category slug, tier id or None) → percent
    rates: dict[tuple[str, str, int | None], Decimal] = field(default_factory=dict)
    hold_days: int = 30
    demotion_grace_days: int = 0
    affiliate_months: int | None = None

    def tier_for(self, customers: int) -> TierInfo | None:
        """The highest tier whose threshold `customers` reaches (None below the lowest)."""
        found = None
        for tier in self.tiers:
            if customers >= tier.min_customers:
                found = tier
        return found

    def next_tier(self, tier_id: int | None) -> TierInfo | None:
        if tier_id is None:
            return self.tiers[0] if self.tiers else None
        ids = [t.id for t in self.tiers]
        if tier_id not in ids:
            return None
        index = ids.index(tier_id)
        return self.tiers[index + 1] if index + 1 < len(self.tiers) else None

    def tier_rank(self, tier_id: int | None) -> int:
        ids = [t.id for t in self.tiers]
        return ids.index(tier_id) + 1 if tier_id in ids else 0

    def partner_rate(self, category: str, tier_id: int | None) -> Decimal:
        """The partner rate for `category` in `tier_id` (None: no tier, the base rate); 0 when unset."""
        return self.rates.get((Audience.PARTNER, category, tier_id), ZERO)

    def affiliate_rate(self, category: str) -> Decimal:
        return self.rates.get((Audience.AFFILIATE, category, None), ZERO)

    def hold_until(self, occurred_at: datetime) -> datetime:
        return occurred_at + timedelta(days=self.hold_days)


def load_terms(program: Program | None = None) -> Terms:
    """The terms of `program` (the installation's one program when not given; defaults without one)."""
    from partnerhub.catalog.models import Category

    program = program or Program.objects.first()
    if program is None:
        return Terms()
    tiers = [TierInfo(t.pk, t.name, t.min_customers) for t in Tier.objects.filter(program=program)]
    slugs = dict(Category.objects.values_list("id", "slug"))
    rates: dict[tuple[str, str, int | None], Decimal] = {
        (audience, slugs[category_id], tier_id): percent
        for audience, category_id, tier_id, percent in Rate.objects.filter(program=program).values_list(
            "audience", "category_id", "tier_id", "percent"
        )
        if category_id in slugs
    }
    return Terms(
        tiers=tiers,
        rates=rates,
        hold_days=program.hold_days,
        demotion_grace_days=program.demotion_grace_days,
        affiliate_months=program.affiliate_months,
    )


def add_months(moment: datetime, months: int) -> datetime:
    """`moment` `months` calendar months later, the day clamped to the month's length (Jan 31 + 1 → Feb 28)."""
    month_index = moment.month - 1 + months
    year, month = moment.year + month_index // 12, month_index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def month_of(moment: datetime) -> date:
    return date(moment.year, moment.month, 1)
