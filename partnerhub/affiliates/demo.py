"""The demo's affiliate tracking: an individual affiliate (Lena Berger Media) with a month of clicks and
a referred customer who pays, and the demo partner's own affiliate account.

Called by the demo seed (``partnerhub.demo.seed``) after the commissions demo (which installs the
rates); made through the real services where one exists. Idempotent.
"""

from __future__ import annotations

import hashlib
import random
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from partnerhub.access.perms import Role
from partnerhub.access.policy import Actor
from partnerhub.accounts.models import User
from partnerhub.affiliates.models import Affiliate, AffiliateStatus, Click, Referral
from partnerhub.affiliates.services import accounts
from partnerhub.billing.events import EventIn, LineIn, ingest_batch
from partnerhub.billing.models import CustomerProduct, ProductStatus
from partnerhub.catalog.models import Product
from partnerhub.commissions.accrual import accrue_pending
from partnerhub.orgs.models import Membership, Organisation
from partnerhub.partners.models import PartnerProfile
from partnerhub.partners.services import get_program

AFFILIATE_SLUG = "lena-berger-media"
CUSTOMER_SLUG = "studio-nord"
CUSTOMER_EMAIL = "hello@studio-nord.demo.partnerhub.test"


def _clicks(affiliate: Affiliate) -> list[Click]:
    """A month of visits: a few a day, more after a blog post two weeks ago, some repeats."""
    rng = random.Random(7)
    now = timezone.now()
    rows = []
    for days_ago in range(30, -1, -1):
        busy = 6 if 12 <= days_ago <= 15 else 1
        for n in range(rng.randint(0, 3) * busy):
            at = now - timedelta(days=days_ago, hours=rng.randint(0, 20), minutes=rng.randint(0, 59))
            source = hashlib.sha256(f"demo-{days_ago}-{n % 5}".encode()).hexdigest()
            rows.append(
                Click(
                    affiliate=affiliate,
                    created_at=min(at, now),
                    ip_hash=source,
                    user_agent="Mozilla/5.0 (Macintosh; Intel Mac OS X 14_6) AppleWebKit/605.1.15 Safari/605.1.15",
                    landing_page=rng.choice(["/", "/", "/pricing/"]),
                    referrer=rng.choice(["https://lena-berger.example/blog/hosting-tipps", "", ""]),
                    counted=n < 5,
                )
            )
    return Click.objects.bulk_create(rows)


def _referred_customer(affiliate: Affiliate, click: Click | None, operator_staff: User) -> None:
    """Studio Nord signed up through Lena's link three weeks ago and pays for hosting monthly."""
    if Organisation.objects.filter(slug=CUSTOMER_SLUG).exists():
        return
    from partnerhub.demo.seed import _user

    owner = _user(CUSTOMER_EMAIL, "Nora Nord", "de")
    now = timezone.now()
    since = now - timedelta(days=21)
    customer = Organisation.objects.create(name="Studio Nord", slug=CUSTOMER_SLUG, country="DE", created_at=since)
    Membership.objects.create(user=owner, org=customer, role=Role.OWNER)
    owner.active_org = customer
    owner.save(update_fields=["active_org"])
    Referral.objects.create(customer=customer, affiliate=affiliate, click=click, signed_up_by=owner, created_at=since)
    product = Product.objects.filter(sku="web-hosting").first()
    if product is None:
        return
    CustomerProduct.objects.create(org=customer, product=product, status=ProductStatus.ACTIVE)
    ingest_batch(
        Actor.system(operator_staff),
        payloads=[
            EventIn(
                external_id="demo-studio-nord-00",
                kind="payment",
                org=CUSTOMER_SLUG,
                currency="EUR",
                occurred_at=since + timedelta(hours=1),
                lines=[LineIn(sku="web-hosting", base_amount="119.00")],
            )
        ],
    )
    accrue_pending()


@transaction.atomic
def seed_affiliates(*, operator_staff: User, partner: Organisation) -> None:
    """Lena Berger Media applies and is approved (through the services), gets a month of clicks and a
    paying referred customer; the demo partner gets its affiliate account with its partner code."""
    org = Organisation.objects.filter(slug=AFFILIATE_SLUG).first()
    if org is None or Affiliate.objects.filter(org=org).exists():
        return
    owner = Membership.objects.filter(org=org, role=Role.OWNER).select_related("user").first()
    if owner is None:
        return
    operator = Actor.system(operator_staff)
    affiliate = accounts.apply(
        Actor.system(owner.user),
        org=org,
        website="https://lena-berger.example",
        message="Tech blog about web hosting for freelancers (about 8,000 readers a month) and a newsletter.",
    )
    if affiliate.status == AffiliateStatus.PENDING:
        accounts.approve(operator, affiliate=affiliate, note="Welcome aboard, Lena!")
    affiliate.refresh_from_db()
    clicks = _clicks(affiliate)
    cutoff = timezone.now() - timedelta(days=21)
    earlier = [c for c in clicks if c.counted and c.created_at <= cutoff]
    _referred_customer(affiliate, max(earlier, key=lambda c: c.created_at, default=None), operator_staff)

    profile = PartnerProfile.objects.filter(org=partner).first()
    if profile is not None and not Affiliate.objects.filter(org=partner).exists():
        accounts.grant_partner_affiliate(operator, org=partner, profile=profile, operator=get_program().operator)
