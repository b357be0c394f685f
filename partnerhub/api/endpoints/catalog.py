"""The catalog (read by everybody logged in) and the operator's writes: products, prices, categories,
the partner program's settings and volume tiers. Amounts and percentages are decimal strings."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Query, Router, Status
from pydantic import BaseModel, Field

from partnerhub.access.operator import holds_operator_perm
from partnerhub.access.perms import Perm
from partnerhub.api.endpoints import actor_of
from partnerhub.api.pagination import Page, PageParams, paginate
from partnerhub.api.problems import ApiProblem, from_validation_error, service_errors
from partnerhub.api.routing import LOGIN, operation
from partnerhub.catalog import queries
from partnerhub.catalog import services as catalog
from partnerhub.catalog.models import Category, Price, Product, ProductKind
from partnerhub.catalog.schemas import (
    CategoryCreate,
    CategoryOut,
    CategoryUpdate,
    PriceOut,
    PriceSet,
    ProductCreate,
    ProductOut,
    ProductUpdate,
    ProgramOut,
    ProgramUpdate,
    VolumeTierCreate,
    VolumeTierOut,
    VolumeTierUpdate,
)
from partnerhub.core.money import Currency
from partnerhub.partners import queries as program_queries
from partnerhub.partners import services as program
from partnerhub.partners.models import Program, VolumeTier

router = Router(tags=["catalog"])


@contextmanager
def _conflicts() -> Iterator[None]:
    """A taken article number, short name or tier quantity answers 409; other refusals 422."""
    try:
        yield
    except (catalog.AlreadyTaken, program.TierTaken) as exc:
        raise from_validation_error(exc, 409) from exc


def _category(slug: str) -> Category:
    category = Category.objects.filter(slug=slug).first()
    if category is None:
        raise ApiProblem(
            422,
            _("There is no category “%(slug)s”.") % {"slug": slug},
            errors=[{"loc": ["body", "category"], "msg": _("Unknown category."), "type": "service"}],
        )
    return category


# --- reading the catalog (everybody logged in) -----------------------------------------------------


class ProductFilters(BaseModel):
    category: str | None = Field(None, description="A category's slug.")
    kind: ProductKind | None = None
    currency: Currency | None = Field(None, description="Only products sold in this currency.")
    active: bool | None = Field(
        None,
        description="Operator staff: true on sale, false retired, omitted both. Others only ever see what is on "
        "sale (false gives an empty list).",
    )


@operation(
    router,
    "GET",
    "/catalog/categories",
    perm=LOGIN,
    response=Page[CategoryOut],
    summary="List the product categories",
    description="In display order.",
)
def list_categories(request: HttpRequest, page: Query[PageParams]) -> Page[CategoryOut]:
    return paginate(queries.categories(), page, CategoryOut, order_by="position")


@operation(
    router,
    "GET",
    "/catalog/products",
    perm=LOGIN,
    response=Page[ProductOut],
    summary="List the products",
    description="By article number. Retired products are listed only for operator staff. "
    "An unknown category gives an empty list.",
)
def list_products(request: HttpRequest, filters: Query[ProductFilters], page: Query[PageParams]) -> Page[ProductOut]:
    staff = holds_operator_perm(actor_of(request), Perm.OPERATOR_PROGRAM_MANAGE)
    rows = queries.products(kind=filters.kind, currency=filters.currency, active=filters.active if staff else True)
    if not staff and filters.active is False:
        # Retired products exist only for operator staff.
        rows = rows.none()
    if filters.category is not None:
        rows = rows.filter(category__slug=filters.category)
    return paginate(rows, page, ProductOut, order_by="sku")


@operation(
    router,
    "GET",
    "/catalog/products/{sku}",
    perm=LOGIN,
    response=ProductOut,
    summary="Read a product",
    description="A retired product answers 404, except for operator staff.",
)
def get_product(request: HttpRequest, sku: str) -> Product:
    return queries.product_by_sku(
        sku, include_retired=holds_operator_perm(actor_of(request), Perm.OPERATOR_PROGRAM_MANAGE)
    )


# --- the operator's writes ----------------------------------------------------------------------------


@operation(
    router,
    "POST",
    "/orgs/{org_slug}/catalog/categories",
    perm=Perm.OPERATOR_PROGRAM_MANAGE,
    response={201: CategoryOut},
    summary="Create a product category",
    description="A taken slug answers 409.",
)
def create_category(request: HttpRequest, org_slug: str, data: CategoryCreate) -> Status[Category]:
    with _conflicts():
        category = catalog.create_category(actor_of(request), slug=data.slug, name=data.name, position=data.position)
    return Status(201, category)


@operation(
    router,
    "PATCH",
    "/orgs/{org_slug}/catalog/categories/{slug}",
    perm=Perm.OPERATOR_PROGRAM_MANAGE,
    response=CategoryOut,
    summary="Change a product category",
    description="Fields left out keep their value. A taken slug answers 409.",
)
def update_category(request: HttpRequest, org_slug: str, slug: str, data: CategoryUpdate) -> Category:
    category = queries.category_by_slug(slug)
    with _conflicts():
        return catalog.update_category(
            actor_of(request),
            category=category,
            slug=category.slug if data.slug is None else data.slug,
            name=category.name if data.name is None else data.name,
            position=category.position if data.position is None else data.position,
        )


@operation(
    router,
    "POST",
    "/orgs/{org_slug}/catalog/products",
    perm=Perm.OPERATOR_PROGRAM_MANAGE,
    response={201: ProductOut},
    summary="Create a product",
    description="On sale from the start, in the currencies it has prices in. A taken article number answers 409.",
)
def create_product(request: HttpRequest, org_slug: str, data: ProductCreate) -> Status[Product]:
    with _conflicts():
        product = catalog.create_product(
            actor_of(request),
            category=_category(data.category),
            sku=data.sku,
            name=data.name,
            description=data.description,
            kind=data.kind,
            billing_period=data.billing_period,
            licence_kind=data.licence_kind,
            unit_label=data.unit_label,
            trial_days=data.trial_days,
            prices=data.prices,
        )
    return Status(201, queries.product_by_sku(product.sku, include_retired=True))


@operation(
    router,
    "PATCH",
    "/orgs/{org_slug}/catalog/products/{sku}",
    perm=Perm.OPERATOR_PROGRAM_MANAGE,
    response=ProductOut,
    summary="Change, retire or reactivate a product",
    description="Fields left out keep their value; `is_active: false` retires the product (customers who have "
    "it keep it). In `prices`, a currency set to null is no longer sold. A taken article number answers 409.",
)
def update_product(request: HttpRequest, org_slug: str, sku: str, data: ProductUpdate) -> Product:
    product = queries.product_by_sku(sku, include_retired=True)
    with _conflicts():
        updated = catalog.update_product(
            actor_of(request),
            product=product,
            category=product.category if data.category is None else _category(data.category),
            sku=product.sku if data.sku is None else data.sku,
            name=product.name if data.name is None else data.name,
            description=product.description if data.description is None else data.description,
            kind=product.kind if data.kind is None else data.kind,
            billing_period=product.billing_period if data.billing_period is None else data.billing_period,
            licence_kind=product.licence_kind if data.licence_kind is None else data.licence_kind,
            unit_label=product.unit_label if data.unit_label is None else data.unit_label,
            trial_days=product.trial_days if data.trial_days is None else data.trial_days,
            prices=data.prices,
            is_active=data.is_active,
        )
    return queries.product_by_sku(updated.sku, include_retired=True)


@operation(
    router,
    "PUT",
    "/orgs/{org_slug}/catalog/products/{sku}/prices/{currency}",
    perm=Perm.OPERATOR_PROGRAM_MANAGE,
    response=PriceOut,
    summary="Set a product's price in a currency",
    description='The amount is a decimal string ("9.92"), at least 0, rounded half-up to the currency\'s minor '
    "unit. Prices in other currencies are not touched (no conversion).",
)
def put_price(request: HttpRequest, org_slug: str, sku: str, currency: Currency, data: PriceSet) -> Price:
    product = queries.product_by_sku(sku, include_retired=True)
    return catalog.set_price(actor_of(request), product=product, currency=currency, amount=data.amount)


@operation(
    router,
    "DELETE",
    "/orgs/{org_slug}/catalog/products/{sku}/prices/{currency}",
    perm=Perm.OPERATOR_PROGRAM_MANAGE,
    response={204: None},
    summary="Stop selling a product in a currency",
    description="A product without a price in that currency answers 404.",
)
def delete_price(request: HttpRequest, org_slug: str, sku: str, currency: Currency) -> Status[None]:
    product = queries.product_by_sku(sku, include_retired=True)
    with service_errors(404):
        catalog.remove_price(actor_of(request), product=product, currency=currency)
    return Status(204, None)


# --- the partner program --------------------------------------------------------------------------------


@operation(
    router,
    "GET",
    "/orgs/{org_slug}/program",
    perm=Perm.OPERATOR_PROGRAM_MANAGE,
    response=ProgramOut,
    summary="Read the partner program's pricing settings",
    description="Partner discount and volume tiers are percentages as decimal strings.",
)
def get_program(request: HttpRequest, org_slug: str) -> Program:
    return program.get_program()


@operation(
    router,
    "PATCH",
    "/orgs/{org_slug}/program",
    perm=Perm.OPERATOR_PROGRAM_MANAGE,
    response=ProgramOut,
    summary="Change the partner discount or reseller pricing",
    description="Fields left out keep their value. The partner discount is a decimal string from 0 to 100.",
)
def update_program(request: HttpRequest, org_slug: str, data: ProgramUpdate) -> Program:
    current = program.get_program()
    return program.update_program(
        actor_of(request),
        name=data.name,
        reseller_pricing=current.reseller_pricing if data.reseller_pricing is None else data.reseller_pricing,
        partner_discount_percent=(
            current.partner_discount_percent if data.partner_discount_percent is None else data.partner_discount_percent
        ),
    )


@operation(
    router,
    "POST",
    "/orgs/{org_slug}/program/volume-tiers",
    perm=Perm.OPERATOR_PROGRAM_MANAGE,
    response={201: VolumeTierOut},
    summary="Add a volume tier",
    description="From `min_quantity` units of one product in an order, `percent` off the partner price. "
    "A tier at the same quantity answers 409.",
)
def add_volume_tier(request: HttpRequest, org_slug: str, data: VolumeTierCreate) -> Status[VolumeTier]:
    with _conflicts():
        tier = program.add_volume_tier(actor_of(request), min_quantity=data.min_quantity, percent=data.percent)
    return Status(201, tier)


@operation(
    router,
    "PATCH",
    "/orgs/{org_slug}/program/volume-tiers/{min_quantity}",
    perm=Perm.OPERATOR_PROGRAM_MANAGE,
    response=VolumeTierOut,
    summary="Change a volume tier",
    description="Fields left out keep their value. Moving it onto another tier's quantity answers 409.",
)
def change_volume_tier(request: HttpRequest, org_slug: str, min_quantity: int, data: VolumeTierUpdate) -> VolumeTier:
    tier = program_queries.volume_tier_at(min_quantity)
    with _conflicts():
        return program.change_volume_tier(
            actor_of(request), tier=tier, min_quantity=data.min_quantity, percent=data.percent
        )


@operation(
    router,
    "DELETE",
    "/orgs/{org_slug}/program/volume-tiers/{min_quantity}",
    perm=Perm.OPERATOR_PROGRAM_MANAGE,
    response={204: None},
    summary="Remove a volume tier",
)
def remove_volume_tier(request: HttpRequest, org_slug: str, min_quantity: int) -> Status[None]:
    program.remove_volume_tier(actor_of(request), tier=program_queries.volume_tier_at(min_quantity))
    return Status(204, None)
