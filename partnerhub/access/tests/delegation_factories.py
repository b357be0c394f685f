"""Plain functions that build delegation rows for the access-rule proofs (matrix, model, sweep).

They write rows with the ORM directly (no service, no audit entry): what is under test is the rule in
``partnerhub.access.policy``, which reads only these rows. Import them; they are not fixtures::

    partner = make_partner("bergwerk")
    staff = add_staff(partner, "member_admin")
    partnership = link(partner, customer, scopes=[Perm.BILLING_VIEW], mode="restricted", products=[cp])
    set_grant_state(partnership, "expired", now=timezone.now())
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.contrib.sessions.backends.base import SessionBase
from django.test import Client
from django.utils import timezone

from conftest import add_member, make_user
from partnerhub.access.decorators import SESSIONS_KEY
from partnerhub.access.perms import Perm, Role
from partnerhub.accounts.models import User
from partnerhub.api.models import ApiKey
from partnerhub.billing.models import CustomerProduct, Invoice, Order
from partnerhub.catalog.models import Product
from partnerhub.catalog.tests.factories import make_category, make_product
from partnerhub.delegation.models import ManagementSession, SupportAccess
from partnerhub.orgs.models import Membership, Organisation
from partnerhub.partnerships.models import Grant, GrantProduct, Partnership, StaffAssignment

# The partner staff the proofs vary (DESIGN §2: roles, extra permissions, assigned customers).
STAFF_KINDS = ("owner", "admin", "member_admin", "member_plain", "assigned_yes", "assigned_no")
# The grant states of one partner → customer link (none: no partnership at all).
GRANT_STATES = ("none", "pending", "active", "expiring_today", "expired", "revoked", "ended")

ADMINISTER = Perm.PARTNER_CUSTOMERS_ADMINISTER.value


def make_org(slug: str, *, is_partner: bool = False, name: str = "") -> Organisation:
    return Organisation.objects.create(name=name or slug.replace("-", " ").title(), slug=slug, is_partner=is_partner)


def make_partner(slug: str) -> Organisation:
    return make_org(slug, is_partner=True)


def add_staff(partner: Organisation, kind: str, *, email: str = "") -> User:
    """A member of `partner` of one of :data:`STAFF_KINDS` (assigned staff: assign them with :func:`assign`)."""
    user = make_user(email or f"{kind}@{partner.slug}.test", kind.replace("_", " ").title())
    if kind == "owner":
        add_member(user, partner, Role.OWNER)
    elif kind == "admin":
        add_member(user, partner, Role.ADMIN)
    elif kind == "member_plain":
        add_member(user, partner, Role.MEMBER)
    elif kind in ("member_admin", "assigned_yes", "assigned_no"):
        membership = add_member(user, partner, Role.MEMBER, [ADMINISTER])
        if kind != "member_admin":
            membership.assigned_customers_only = True
            membership.save(update_fields=["assigned_customers_only"])
    else:
        raise ValueError(f"unknown staff kind {kind!r}")
    return user


def membership_of(user: User, org: Organisation) -> Membership:
    return Membership.objects.get(user=user, org=org)


def assign(user: User, partner: Organisation, customers: Iterable[Organisation]) -> None:
    membership = membership_of(user, partner)
    StaffAssignment.objects.bulk_create([StaffAssignment(membership=membership, customer=c) for c in customers])


def catalog_product(sku: str = "matrix-hosting") -> Product:
    """A sellable catalog product (CHF 9.92 / EUR 5.75 a month); reused when it exists."""
    found = Product.objects.filter(sku=sku).first()
    return found or make_product(make_category("shared-hosting"), sku, prices={"CHF": "9.92", "EUR": "5.75"})


def customer_product(org: Organisation, product: Product | None = None, **fields: Any) -> CustomerProduct:
    return CustomerProduct.objects.create(org=org, product=product or catalog_product(), **fields)


def link(
    partner: Organisation,
    customer: Organisation,
    *,
    scopes: Iterable[Perm | str] = (),
    mode: str = "full",
    products: Iterable[CustomerProduct] = (),
    payment_means: str = "customer",
    state: str = "active",
    now: datetime | None = None,
) -> Partnership:
    """A partnership with its grant in `state` (any of :data:`GRANT_STATES` but "none")."""
    now = now or timezone.now()
    partnership = Partnership.objects.create(
        partner=partner, customer=customer, flow="chosen", origin="self", status="active", activated_at=now
    )
    grant = Grant.objects.create(
        partnership=partnership,
        mode=mode,
        scopes=sorted(str(p) for p in scopes),
        payment_means=payment_means if mode == "full" else "customer",
        valid_from=now,
        valid_until=now + timedelta(days=365),
    )
    GrantProduct.objects.bulk_create([GrantProduct(grant=grant, customer_product=cp) for cp in products])
    set_grant_state(partnership, state, now=now)
    return partnership


def set_grant_state(partnership: Partnership, state: str, *, now: datetime) -> None:
    """Move one partnership and its grant to `state` by updating the rows (the rule reads them)."""
    later = now + timedelta(days=365)
    status, valid_until, revoked_at, ended_at = "active", later, None, None
    if state == "pending":
        status = "pending"
    elif state == "expiring_today":
        valid_until = now + timedelta(hours=6)
    elif state == "expired":
        valid_until = now - timedelta(hours=1)
    elif state == "revoked":
        revoked_at = now - timedelta(minutes=5)
    elif state == "ended":
        status, ended_at = "ended", now - timedelta(minutes=5)
    elif state != "active":
        raise ValueError(f"unknown grant state {state!r}")
    Partnership.objects.filter(pk=partnership.pk).update(
        status=status, ended_at=ended_at, expires_at=now + timedelta(days=30) if status == "pending" else None
    )
    Grant.objects.filter(partnership_id=partnership.pk).update(valid_until=valid_until, revoked_at=revoked_at)


def support_access(
    customer: Organisation, *, scopes: Iterable[Perm | str] = (), until: datetime, revoked: bool = False
) -> SupportAccess:
    return SupportAccess.objects.create(
        customer=customer,
        scopes=sorted(str(p) for p in scopes),
        valid_until=until,
        revoked_at=timezone.now() if revoked else None,
    )


def management_session(user: User, partnership: Partnership, *, reason: str = "matrix") -> ManagementSession:
    return ManagementSession.objects.create(
        user=user,
        customer_id=partnership.customer_id,
        via="partner",
        acting_org_id=partnership.partner_id,
        partnership=partnership,
        reason=reason,
    )


def support_session(user: User, access: SupportAccess, operator: Organisation) -> ManagementSession:
    return ManagementSession.objects.create(
        user=user,
        customer_id=access.customer_id,
        via="support",
        acting_org=operator,
        support_access=access,
        reason="support",
    )


def open_in_browser(client: Client, sessions: Iterable[ManagementSession]) -> None:
    """Put management sessions into the browser session, as opening them from My customers does."""
    session: SessionBase = client.session
    session[SESSIONS_KEY] = {str(s.customer_id): s.pk for s in sessions}
    session.save()


def api_key(org: Organisation, user: User, scopes: Iterable[Perm | str] | None = None) -> tuple[ApiKey, str]:
    """A usable key of `org` created by `user` (scopes default: every permission) and its secret."""
    secret = ApiKey.generate()
    key = ApiKey.objects.create(
        org=org,
        name="proof",
        prefix=secret[:8],
        key_hash=ApiKey.hash(secret),
        scopes=sorted(str(p) for p in (Perm if scopes is None else scopes)),
        created_by=user,
    )
    return key, secret


def make_order(org: Organisation, user: User, *, currency: str = "CHF") -> Order:
    return Order.objects.create(
        org=org,
        placed_by=user,
        placed_by_org=org,
        payer=org,
        currency=currency,
        subtotal=Decimal("10"),
        discount_total=Decimal("0"),
        total=Decimal("10"),
    )


def make_invoice(org: Organisation, *, order: Order | None = None, currency: str = "CHF") -> Invoice:
    number = (
        Invoice.objects.filter(currency=currency).order_by("-number").values_list("number", flat=True).first()
    ) or 0
    return Invoice.objects.create(
        number=number + 1,
        currency=currency,
        org=org,
        order=order,
        due_on=date(2030, 1, 31),
        subtotal=Decimal("10"),
        total=Decimal("10"),
    )
