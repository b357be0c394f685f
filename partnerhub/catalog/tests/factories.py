"""Plain functions that build catalog and program rows for tests (import them, they are not fixtures).

They write rows directly (no actor, no audit entry), so any test can set up a catalog in one line::

    from partnerhub.catalog.tests.factories import make_category, make_product, make_program

    hosting = make_category(slug="shared-hosting")
    web = make_product(hosting, "web-hosting", prices={"CHF": "9.92", "EUR": "5.75"})
    program = make_program(operator_org, discount="20", tiers=[(10, "10"), (25, "20"), (30, "25")])

Amounts are given as strings (or Decimals), never floats, and are stored rounded to the currency.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal

from partnerhub.catalog.models import BillingPeriod, Category, LicenceKind, Price, Product, ProductKind
from partnerhub.core.money import parse_amount, round_money
from partnerhub.orgs.models import Organisation
from partnerhub.partners.models import Program, VolumeTier


def make_category(slug: str = "shared-hosting", name: str = "", position: int = 0) -> Category:
    """A category; reuses an existing one with the same slug so tests can call it repeatedly."""
    category, _created = Category.objects.get_or_create(
        slug=slug, defaults={"name": name or slug.replace("-", " ").capitalize(), "position": position}
    )
    return category


def make_product(
    category: Category | None = None,
    sku: str = "web-hosting",
    *,
    prices: Mapping[str, str | Decimal] | None = None,
    name: str = "",
    description: str = "",
    kind: str = ProductKind.SERVICE,
    billing_period: str = BillingPeriod.MONTHLY,
    licence_kind: str = LicenceKind.NONE,
    unit_label: str = "",
    trial_days: int = 0,
    is_active: bool = True,
) -> Product:
    """A product with the given prices per currency (default: CHF 9.92 and EUR 5.75)."""
    if category is None:
        category = make_category()
    product = Product.objects.create(
        category=category,
        sku=sku,
        name=name or sku.replace("-", " ").capitalize(),
        description=description,
        kind=kind,
        billing_period=billing_period,
        licence_kind=licence_kind,
        unit_label=unit_label,
        trial_days=trial_days,
        is_active=is_active,
    )
    for currency, amount in (prices if prices is not None else {"CHF": "9.92", "EUR": "5.75"}).items():
        make_price(product, currency, amount)
    return product


def make_price(product: Product, currency: str, amount: str | Decimal) -> Price:
    """Set (create or replace) the product's price in `currency`."""
    value = round_money(parse_amount(amount), currency)
    price, _created = Price.objects.update_or_create(product=product, currency=currency, defaults={"amount": value})
    return price


def make_program(
    operator_org: Organisation,
    *,
    discount: str | Decimal = "20",
    reseller_pricing: bool = True,
    tiers: Iterable[tuple[int, str | Decimal]] = (),
    name: str = "Partner program",
) -> Program:
    """The operator's program with its partner discount and volume tiers (replaces existing tiers)."""
    program, _created = Program.objects.update_or_create(
        operator=operator_org,
        defaults={
            "name": name,
            "partner_discount_percent": parse_amount(discount),
            "reseller_pricing": reseller_pricing,
        },
    )
    program.volume_tiers.all().delete()
    VolumeTier.objects.bulk_create(
        VolumeTier(program=program, min_quantity=quantity, percent=parse_amount(percent)) for quantity, percent in tiers
    )
    return program
