"""The seed program's tiers and rates (seed 004), used by the demo and as the new program's starting
table; the operator changes both on the program page."""

from __future__ import annotations

from decimal import Decimal

from django.db import transaction

from partnerhub.catalog.models import Category
from partnerhub.commissions.models import Audience, Rate, Tier
from partnerhub.partners.models import Program

# Seed 004, with its overlap at 20 resolved: Gold ends at 20, Platinum starts at 21.
SEED_TIERS = (("Bronze", 3), ("Silver", 6), ("Gold", 11), ("Platinum", 21))
# Category slug → rates in Bronze, Silver, Gold, Platinum (%).
SEED_RATES = {
    "shared-hosting": ("10", "15", "20", "25"),
    "domains-ssl": ("10", "10", "10", "10"),
    "cloud-vps": ("5", "10", "15", "20"),
    "dedicated-servers": ("5", "7", "10", "12"),
}
# Affiliates earn one rate per category, whatever tier (not in the seeds; the demo's choice).
SEED_AFFILIATE_RATES = {"shared-hosting": "10", "domains-ssl": "5", "cloud-vps": "5", "dedicated-servers": "5"}


def install_seed_table(program: Program) -> None:
    """Create the seed tiers and the rates of the categories that exist (idempotent)."""
    with transaction.atomic():
        tiers = [
            Tier.objects.get_or_create(program=program, name=name, defaults={"min_customers": threshold})[0]
            for name, threshold in SEED_TIERS
        ]
        categories = {c.slug: c for c in Category.objects.filter(slug__in=list(SEED_RATES))}
        for slug, percents in SEED_RATES.items():
            category = categories.get(slug)
            if category is None:
                continue
            for tier, percent in zip(tiers, percents, strict=True):
                Rate.objects.get_or_create(
                    program=program,
                    audience=Audience.PARTNER,
                    category=category,
                    tier=tier,
                    defaults={"percent": Decimal(percent)},
                )
            affiliate = SEED_AFFILIATE_RATES.get(slug)
            if affiliate is not None:
                Rate.objects.get_or_create(
                    program=program,
                    audience=Audience.AFFILIATE,
                    category=category,
                    tier=None,
                    defaults={"percent": Decimal(affiliate)},
                )
