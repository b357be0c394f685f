"""Building managed customers for the tests of My customers (rows, not flows: the flows are tested by
the partnerships area)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils import timezone

from partnerhub.access.perms import Perm
from partnerhub.access.policy import DELEGABLE_PERMS
from partnerhub.billing.models import CustomerProduct
from partnerhub.catalog.models import Category, Product
from partnerhub.orgs.models import Organisation
from partnerhub.partnerships.models import CustomProperty, CustomValue, Grant, GrantProduct, Partnership

ALL_SCOPES = sorted(str(p) for p in DELEGABLE_PERMS)


def customer(name: str, slug: str | None = None, **fields: Any) -> Organisation:
    return Organisation.objects.create(name=name, slug=slug or name.lower().replace(" ", "-"), **fields)


def manage(
    partner: Organisation,
    org: Organisation,
    *,
    mode: str = "full",
    scopes: list[str] | None = None,
    origin: str = "partner",
    status: str = "active",
    days: int = 365,
    revoked: bool = False,
    activated_days_ago: int = 10,
    products: list[CustomerProduct] | None = None,
) -> Partnership:
    now = timezone.now()
    partnership = Partnership.objects.create(
        partner=partner,
        customer=org,
        flow="created" if origin == "partner" else "chosen",
        origin=origin,
        status=status,
        activated_at=now - timedelta(days=activated_days_ago),
    )
    grant = Grant.objects.create(
        partnership=partnership,
        mode=mode,
        scopes=ALL_SCOPES if scopes is None else scopes,
        valid_from=now - timedelta(days=1),
        valid_until=now + timedelta(days=days),
        revoked_at=now if revoked else None,
    )
    for cp in products or []:
        GrantProduct.objects.create(grant=grant, customer_product=cp)
    return partnership


_product_counter = [0]


def product(name: str = "Web hosting") -> Product:
    category, _ = Category.objects.get_or_create(slug="hosting", defaults={"name": "Hosting"})
    _product_counter[0] += 1
    return Product.objects.create(category=category, sku=f"sku-{_product_counter[0]}", name=name)


def holding(org: Organisation, item: Product, *, quantity: int = 1, status: str = "active") -> CustomerProduct:
    return CustomerProduct.objects.create(org=org, product=item, quantity=quantity, status=status)


def prop(
    partner: Organisation, name: str, kind: str, *, choices: list[str] | None = None, position: int = 0
) -> CustomProperty:
    key = name.lower().replace(" ", "-")
    return CustomProperty.objects.create(
        partner=partner, name=name, key=key, kind=kind, choices=choices or [], position=position
    )


def value(p: CustomProperty, org: Organisation, **column: Any) -> CustomValue:
    return CustomValue.objects.create(prop=p, customer=org, **column)


BILLING = [str(Perm.BILLING_VIEW)]
