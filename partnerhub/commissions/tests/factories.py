"""Plain builders for the commission tests (import them; they write rows directly, no audit).

program = seed_program(operator_org)          # seed 004's tiers and rates, hold 30 days
p = partner_org("bergwerk")
link(p, customer, origin="partner", since=t0)  # an active partnership from t0 (full grant)
e = event(customer, "payment", [("web-hosting", "100.00")], at=t1)
accrue_events([e.pk])
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from decimal import Decimal

from django.utils import timezone

from partnerhub.billing.models import BillingEvent, BillingEventLine, CustomerProduct, ProductStatus
from partnerhub.catalog.models import Product
from partnerhub.catalog.tests.factories import make_category, make_product
from partnerhub.commissions.defaults import install_seed_table
from partnerhub.commissions.models import TierChange
from partnerhub.orgs.models import Organisation
from partnerhub.partners.models import Program
from partnerhub.partnerships.models import (
    Flow,
    Grant,
    GrantMode,
    GrantProduct,
    Origin,
    Partnership,
    PartnershipStatus,
)
from partnerhub.partnerships.services.common import record_coverage

_ids = itertools.count(1)

SEED_PRODUCTS = {
    "web-hosting": "shared-hosting",
    "domain-ch": "domains-ssl",
    "vps-s": "cloud-vps",
    "dedicated-m": "dedicated-servers",
}


def seed_program(operator: Organisation, **settings: object) -> Program:
    """The operator's program with seed 004's tiers and rates and the four seed products."""
    for sku, category in SEED_PRODUCTS.items():
        if not Product.objects.filter(sku=sku).exists():
            make_product(make_category(category), sku)
    program, _ = Program.objects.get_or_create(operator=operator)
    for key, value in settings.items():
        setattr(program, key, value)
    program.save()
    install_seed_table(program)
    return program


def partner_org(slug: str) -> Organisation:
    return Organisation.objects.create(name=slug.title(), slug=slug, is_partner=True)


def customer_org(slug: str) -> Organisation:
    return Organisation.objects.create(name=slug.title(), slug=slug)


def link(
    partner: Organisation,
    customer: Organisation,
    *,
    origin: str = Origin.PARTNER,
    since: datetime | None = None,
    until: datetime | None = None,
    mode: str = GrantMode.FULL,
    products: Sequence[CustomerProduct] = (),
) -> Partnership:
    """A partnership active from `since` (ended at `until` when given) with a grant in force."""
    since = since or timezone.now() - timedelta(days=1)
    partnership = Partnership.objects.create(
        partner=partner,
        customer=customer,
        flow=Flow.CREATED if origin == Origin.PARTNER else Flow.CHOSEN,
        origin=origin,
        status=PartnershipStatus.ENDED if until else PartnershipStatus.ACTIVE,
        activated_at=since,
        ended_at=until,
        created_at=since,
    )
    grant = Grant.objects.create(
        partnership=partnership,
        mode=mode,
        valid_from=since,
        valid_until=since + timedelta(days=365),
    )
    record_coverage(partnership.pk, mode, frozenset(p.pk for p in products), at=since)
    if until is None:
        for product in products:
            GrantProduct.objects.create(grant=grant, customer_product=product)
    return partnership


def holding(customer: Organisation, sku: str = "web-hosting", status: str = ProductStatus.ACTIVE) -> CustomerProduct:
    return CustomerProduct.objects.create(org=customer, product=Product.objects.get(sku=sku), status=status)


def event(
    customer: Organisation,
    kind: str,
    lines: Iterable[tuple[str, str | Decimal]],
    *,
    at: datetime | None = None,
    refers_to: BillingEvent | None = None,
    currency: str = "CHF",
    external_id: str = "",
) -> BillingEvent:
    """A stored billing event (as the ingest service stores it, without its checks)."""
    products = {p.sku: p for p in Product.objects.select_related("category")}
    row = BillingEvent.objects.create(
        external_id=external_id or f"ev-{next(_ids)}",
        kind=kind,
        org=customer,
        currency=currency,
        occurred_at=at or timezone.now(),
        refers_to=refers_to.external_id if refers_to else "",
        payload_hash="test",
        source="test",
    )
    BillingEventLine.objects.bulk_create(
        BillingEventLine(
            event=row,
            line_no=number,
            product=products[sku],
            product_sku=sku,
            category_slug=products[sku].category.slug,
            base_amount=Decimal(amount),
        )
        for number, (sku, amount) in enumerate(lines, start=1)
    )
    return row


def set_tier(partner: Organisation, name: str | None, at: datetime, program: Program) -> TierChange:
    tier = program.tiers.get(name=name) if name else None
    return TierChange.objects.create(partner=partner, tier=tier, tier_name=name or "", effective_at=at, created_at=at)
