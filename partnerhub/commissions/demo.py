"""The demo's commissions: the seed tier and rate table, a partner that grew through Bronze and Silver
into Gold over the last eight months, and the billing events that paid it (monthly renewals in CHF and
EUR, one partial refund), accrued and approved so the dashboard's chart and the ledger have history.

Customers and their products are written as rows (a demo shortcut); the billing events go through the
ingest service like a billing system's would, and accrual, approval and the tier figures run exactly
as the scheduled tasks run them.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.utils import timezone

from partnerhub.access.perms import Perm, Role
from partnerhub.access.policy import DELEGABLE_PERMS, Actor
from partnerhub.accounts.models import User
from partnerhub.billing.events import EventIn, LineIn, ingest_batch
from partnerhub.billing.models import CustomerProduct, ProductStatus
from partnerhub.catalog.models import Category, Product
from partnerhub.commissions.accrual import accrue_pending
from partnerhub.commissions.defaults import SEED_RATES, install_seed_table
from partnerhub.commissions.ledger import approve_due
from partnerhub.commissions.models import LedgerEntry
from partnerhub.commissions.tiers import refresh_partner_stats
from partnerhub.orgs.models import Membership, Organisation
from partnerhub.partners.models import Program
from partnerhub.partnerships.models import Flow, Grant, GrantMode, Origin, Partnership, PartnershipStatus
from partnerhub.partnerships.services.common import record_coverage

# The partner's growth: (days ago, customers signed that day). Bronze from 3, Silver from 6, Gold from 11.
GROWTH = ((240, 3), (150, 4), (60, 5))
# (short name, name, currency, products): each customer renews its products monthly.
CUSTOMERS = [
    ("baeckerei-huber", "Bäckerei Huber", "CHF", ("web-hosting-pro", "domain-ch")),
    ("schreinerei-alder", "Schreinerei Alder", "CHF", ("web-hosting-pro", "mail-addon")),
    ("praxis-dr-keller", "Praxis Dr. Keller", "CHF", ("vps-s", "ssl-dv")),
    ("hotel-edelweiss", "Hotel Edelweiss", "CHF", ("vps-l", "domain-ch")),
    ("weingut-brunner", "Weingut Brunner", "EUR", ("web-hosting-pro", "domain-com")),
    ("fahrschule-maier", "Fahrschule Maier", "EUR", ("web-hosting", "mail-addon")),
    ("architekten-stoll", "Architekten Stoll", "CHF", ("dedi-epyc",)),
    ("velo-gisler", "Velo Gisler", "CHF", ("web-hosting-pro",)),
    ("kanzlei-roth", "Kanzlei Roth", "EUR", ("vps-s", "domain-com")),
    ("gaertnerei-blum", "Gärtnerei Blum", "CHF", ("web-hosting", "domain-ch")),
    ("physio-meier", "Physio Meier", "CHF", ("web-hosting-pro", "ssl-dv")),
    ("bergbahnen-sattel", "Bergbahnen Sattel", "CHF", ("vps-l", "dedi-epyc")),
]


def _customer(partner: Organisation, slug: str, name: str, since: datetime, skus: tuple[str, ...]) -> Organisation:
    customer = Organisation.objects.create(name=name, slug=slug, country="CH")
    # Every organisation keeps an owner; these demo owners cannot log in (no password).
    owner = User.objects.create_user(email=f"owner@{slug}.demo.partnerhub.test", password=None, name=name)
    Membership.objects.create(user=owner, org=customer, role=Role.OWNER)
    partnership = Partnership.objects.create(
        partner=partner,
        customer=customer,
        flow=Flow.CREATED,
        origin=Origin.PARTNER,
        status=PartnershipStatus.ACTIVE,
        activated_at=since,
        created_at=since,
    )
    scopes = sorted(str(p) for p in DELEGABLE_PERMS - {Perm.BILLING_ORDER})
    Grant.objects.create(
        partnership=partnership,
        mode=GrantMode.FULL,
        requested_scopes=scopes,
        scopes=scopes,
        valid_from=since,
        valid_until=since + timedelta(days=3650),
    )
    record_coverage(partnership.pk, GrantMode.FULL, frozenset(), at=since)
    for sku in skus:
        CustomerProduct.objects.create(org=customer, product=Product.objects.get(sku=sku), status=ProductStatus.ACTIVE)
    return customer


def _prices(currency: str) -> dict[str, str]:
    from partnerhub.demo.billing_seed import PRODUCTS

    column = 8 if currency == "CHF" else 9
    return {row[0]: str(row[column]) for row in PRODUCTS}


def seed_commissions(*, operator_staff: User, partner: Organisation) -> None:
    """Install the seed table on the demo program and give `partner` eight months of commissions.
    Does nothing when the partner has commissions already."""
    if LedgerEntry.objects.filter(beneficiary=partner).exists():
        return
    program = Program.objects.get(operator__is_operator=True)
    missing = set(SEED_RATES) - set(Category.objects.values_list("slug", flat=True))
    if missing:
        raise RuntimeError(f"the demo catalog lacks the seed categories {sorted(missing)}")
    install_seed_table(program)

    now = timezone.now()
    remaining = iter(CUSTOMERS)
    events: list[EventIn] = []
    for days_ago, count in GROWTH:
        since = now - timedelta(days=days_ago)
        for _ in range(count):
            slug, name, currency, skus = next(remaining)
            customer = _customer(partner, slug, name, since, skus)
            prices = _prices(currency)
            month = 0
            while days_ago - 30 * month > 0:
                at = since + timedelta(days=30 * month, hours=2)
                events.append(
                    EventIn(
                        external_id=f"demo-{slug}-{month:02d}",
                        kind="payment" if month == 0 else "renewal",
                        org=customer.slug,
                        currency=currency,
                        occurred_at=at,
                        lines=[LineIn(sku=sku, base_amount=prices[sku]) for sku in skus],
                    )
                )
                month += 1
        # The tier the partner reached with these customers, in force from that day on.
        refresh_partner_stats([partner.pk], now=since + timedelta(hours=1))

    # A partial refund: the hotel got a month's VPS credited back.
    hotel = next(e for e in events if e.org == "hotel-edelweiss" and e.kind == "renewal")
    assert isinstance(hotel.occurred_at, datetime)
    events.append(
        EventIn(
            external_id="demo-hotel-edelweiss-credit",
            kind="refund",
            org="hotel-edelweiss",
            currency="CHF",
            occurred_at=hotel.occurred_at + timedelta(days=3),
            refers_to=hotel.external_id,
            lines=[LineIn(sku="vps-l", base_amount="40.00")],
        )
    )
    ingest_batch(Actor.system(operator_staff), payloads=events)
    accrue_pending()
    # Past months' approvals and statements (most of them paid), then what is due today.
    from partnerhub.commissions.payouts.demo import seed_payouts

    seed_payouts(now=now)
    approve_due(now=now)
    refresh_partner_stats(now=now)
