"""API shapes of the catalog and the partner program. Amounts and percentages cross JSON as strings
(a JSON number is refused: money never passes through a float)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from ninja import Schema
from pydantic import Field

from partnerhub.api.schemas import Body
from partnerhub.catalog.models import BillingPeriod, LicenceKind, ProductKind
from partnerhub.core.money import round_money

AMOUNT_PATTERN = r"^\s*-?\d+(\.\d+)?\s*$"
PERCENT_PATTERN = r"^\s*\d{1,3}(\.\d+)?\s*$"


def _percent(value: Decimal) -> str:
    """Percentages always with two decimals ("20.00"), also on a row not yet read back."""
    return str(Decimal(value).quantize(Decimal("0.01")))


class CategoryOut(Schema):
    slug: str
    name: str
    position: int


class CategoryCreate(Body):
    slug: str = Field(min_length=1, max_length=60, pattern=r"^[-a-zA-Z0-9_]+$")
    name: str = Field(min_length=1, max_length=120)
    position: int = Field(0, ge=0, le=2_147_483_647)


class CategoryUpdate(Body):
    """Fields left out keep their value."""

    slug: str | None = Field(None, min_length=1, max_length=60, pattern=r"^[-a-zA-Z0-9_]+$")
    name: str | None = Field(None, min_length=1, max_length=120)
    position: int | None = Field(None, ge=0, le=2_147_483_647)


class ProductOut(Schema):
    sku: str
    name: str
    description: str
    category: str = Field(description="The category's slug.")
    kind: ProductKind
    billing_period: BillingPeriod
    licence_kind: LicenceKind
    unit_label: str
    trial_days: int
    is_active: bool = Field(description="False: retired, no longer orderable.")
    prices: dict[str, str] = Field(
        description="Public price per billing period by ISO currency, as a decimal string. "
        "A currency that is missing is not sold (no conversion)."
    )

    @staticmethod
    def resolve_category(obj: Any) -> str:
        return str(obj.category.slug)

    @staticmethod
    def resolve_prices(obj: Any) -> dict[str, str]:
        # Prefetched by the catalog queries: no query per product.
        return {p.currency: str(round_money(p.amount, p.currency)) for p in obj.prices.all()}


Prices = dict[str, str | None]


class ProductCreate(Body):
    category: str = Field(description="The category's slug.")
    sku: str = Field(min_length=1, max_length=60, pattern=r"^[-a-zA-Z0-9_]+$")
    name: str = Field(min_length=1, max_length=160)
    description: str = ""
    kind: ProductKind = ProductKind.SERVICE
    billing_period: BillingPeriod = BillingPeriod.MONTHLY
    licence_kind: LicenceKind = LicenceKind.NONE
    unit_label: str = Field("", max_length=40)
    trial_days: int = Field(0, ge=0, le=365)
    prices: dict[str, str] = Field(
        default_factory=dict,
        description='ISO currency → price as a decimal string, e.g. {"CHF": "9.92", "EUR": "5.75"}; '
        "rounded half-up to the currency's minor unit.",
    )


class ProductUpdate(Body):
    """Fields left out keep their value; in `prices`, null stops selling in that currency."""

    category: str | None = None
    sku: str | None = Field(None, min_length=1, max_length=60, pattern=r"^[-a-zA-Z0-9_]+$")
    name: str | None = Field(None, min_length=1, max_length=160)
    description: str | None = None
    kind: ProductKind | None = None
    billing_period: BillingPeriod | None = None
    licence_kind: LicenceKind | None = None
    unit_label: str | None = Field(None, max_length=40)
    trial_days: int | None = Field(None, ge=0, le=365)
    is_active: bool | None = Field(None, description="false retires the product, true puts it on sale again.")
    prices: Prices | None = None


class PriceSet(Body):
    amount: str = Field(pattern=AMOUNT_PATTERN, description='A decimal string, e.g. "9.92".')


class PriceOut(Schema):
    sku: str
    currency: str
    amount: str

    @staticmethod
    def resolve_sku(obj: Any) -> str:
        return str(obj.product.sku)

    @staticmethod
    def resolve_amount(obj: Any) -> str:
        return str(round_money(obj.amount, obj.currency))


class VolumeTierOut(Schema):
    min_quantity: int
    percent: str

    @staticmethod
    def resolve_percent(obj: Any) -> str:
        return _percent(obj.percent)


class VolumeTierCreate(Body):
    min_quantity: int = Field(ge=1, le=1_000_000)
    percent: str = Field(pattern=PERCENT_PATTERN, description='A decimal string between 0 and 100, e.g. "25".')


class VolumeTierUpdate(Body):
    """Fields left out keep their value."""

    min_quantity: int | None = Field(None, ge=1, le=1_000_000)
    percent: str | None = Field(None, pattern=PERCENT_PATTERN)


class ProgramOut(Schema):
    name: str
    reseller_pricing: bool
    partner_discount_percent: str
    volume_tiers: list[VolumeTierOut]

    @staticmethod
    def resolve_partner_discount_percent(obj: Any) -> str:
        return _percent(obj.partner_discount_percent)

    @staticmethod
    def resolve_volume_tiers(obj: Any) -> list[Any]:
        return list(obj.volume_tiers.order_by("min_quantity"))


class ProgramUpdate(Body):
    """Fields left out keep their value."""

    name: str | None = Field(None, min_length=1, max_length=120)
    reseller_pricing: bool | None = None
    partner_discount_percent: str | None = Field(None, pattern=PERCENT_PATTERN)
