"""Reads of the catalog. The catalog is the installation's, not a tenant's: every logged-in user may
read what is on sale; retired products are shown to operator staff (and stay on customers' products).

Every list prefetches its prices, so it costs the same few queries whatever the number of products.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Prefetch, QuerySet
from django.http import Http404

from partnerhub.catalog.models import Category, Price, Product


def categories() -> QuerySet[Category]:
    """Every category in display order."""
    return Category.objects.order_by("position", "name", "id")


def category_by_id(category_id: int) -> Category:
    category = Category.objects.filter(pk=category_id).first()
    if category is None:
        raise Http404
    return category


def category_by_slug(slug: str) -> Category:
    category = Category.objects.filter(slug=slug).first()
    if category is None:
        raise Http404
    return category


def products(
    *,
    category: Category | None = None,
    kind: str | None = None,
    currency: str | None = None,
    active: bool | None = True,
) -> QuerySet[Product]:
    """Products with their category and all their prices prefetched (constant queries).

    `active`: True (default) only products on sale, False only retired ones, None both.
    `currency`: only products priced in that currency.
    """
    rows = Product.objects.select_related("category").prefetch_related(
        Prefetch("prices", queryset=Price.objects.order_by("currency"))
    )
    if active is not None:
        rows = rows.filter(is_active=active)
    if category is not None:
        rows = rows.filter(category=category)
    if kind:
        rows = rows.filter(kind=kind)
    if currency:
        rows = rows.filter(prices__currency=currency)
    return rows.order_by("category__position", "category__name", "name", "id")


def products_for_sale(currency: str) -> QuerySet[Product]:
    """What can be ordered in `currency`: active products with a price in it, prices prefetched."""
    return products(currency=currency, active=True)


def product_by_sku(sku: str, *, include_retired: bool = False) -> Product:
    """One product with its prices; 404 when absent (or retired, unless `include_retired`)."""
    rows = products(active=None if include_retired else True)
    product = rows.filter(sku=sku).first()
    if product is None:
        raise Http404
    return product


def price_of(product: Product, currency: str) -> Decimal | None:
    """The product's public price in `currency`, or None when it is not sold in it.

    Uses prefetched prices when the product came from one of the lists above (no query then).
    """
    for price in product.prices.all():
        if price.currency == currency:
            return price.amount
    return None


def prices_of(product: Product) -> dict[str, Decimal]:
    """Currency → public price (from prefetched prices when available)."""
    return {price.currency: price.amount for price in product.prices.all()}


@dataclass
class CategoryNode:
    """A category with its products, for pages that show the catalog grouped."""

    category: Category
    products: list[Product] = field(default_factory=list)


def catalog_tree(
    *,
    kind: str | None = None,
    category: Category | None = None,
    active: bool | None = True,
    keep_empty: bool = True,
) -> list[CategoryNode]:
    """Categories in display order with their products (filtered like :func:`products`), three queries.

    `keep_empty` keeps categories without matching products (a new category shows before it has any).
    """
    nodes = {c.pk: CategoryNode(c) for c in (categories() if category is None else [category])}
    for product in products(category=category, kind=kind, active=active):
        nodes[product.category_id].products.append(product)
    return [node for node in nodes.values() if node.products or keep_empty]
