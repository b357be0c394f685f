"""Reads of the billing area. Every read starts from the organisation the access decorator resolved;
objects of other organisations are a 404 like missing ones."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.db.models import Exists, Model, OuterRef, QuerySet
from django.http import Http404

from partnerhub.billing.models import CustomerProduct, Invoice, Order, OrderLine
from partnerhub.catalog.models import Price, Product
from partnerhub.core.paging import Keyset, keyset_page
from partnerhub.orgs.models import Organisation

PAGE_SIZE = 30


@dataclass(frozen=True)
class Filters:
    """What a list is narrowed to (empty values filter nothing); dates are days in the current time zone."""

    status: str = ""
    kind: str = ""
    org: str = ""
    date_from: date | None = None
    date_to: date | None = None


def page_of[M: Model](rows: QuerySet[M], *, before: int | None, size: int = PAGE_SIZE) -> Keyset[M]:
    """The `size` rows with an id below `before` (or the newest), by id descending (forwards only:
    `older_than` is the ``?before=`` of the next page, None on the last page)."""
    return keyset_page(rows, before=before, size=size, look_back=False)


def _dated[M: Model](rows: QuerySet[M], field: str, filters: Filters) -> QuerySet[M]:
    # Days in the current time zone; "to" includes its whole day. Comparing dates (not the start of a
    # day as a datetime) keeps far-away days like 0001-01-01 from overflowing the time zone shift.
    if filters.date_from:
        rows = rows.filter(**{f"{field}__date__gte": filters.date_from})
    if filters.date_to:
        rows = rows.filter(**{f"{field}__date__lte": filters.date_to})
    return rows


# --- customer products ------------------------------------------------------------------------------


def products_for(org: Organisation, filters: Filters | None = None) -> QuerySet[CustomerProduct]:
    filters = filters or Filters()
    rows = CustomerProduct.objects.filter(org=org).select_related("product__category")
    if filters.status:
        rows = rows.filter(status=filters.status)
    if filters.kind:
        rows = rows.filter(product__kind=filters.kind)
    return rows.order_by("-id")


def customer_product_in(org: Organisation, product_id: int) -> CustomerProduct:
    found = products_for(org).filter(pk=product_id).select_related("org").first()
    if found is None:
        raise Http404
    return found


def all_products(filters: Filters | None = None) -> QuerySet[CustomerProduct]:
    """Every customer's products, for operator billing staff (the caller resolved that access)."""
    filters = filters or Filters()
    rows = CustomerProduct.objects.select_related("org", "product__category")
    if filters.status:
        rows = rows.filter(status=filters.status)
    if filters.kind:
        rows = rows.filter(product__kind=filters.kind)
    if filters.org:
        rows = rows.filter(org__slug=filters.org)
    return rows.order_by("-id")


def any_product(product_id: int) -> CustomerProduct:
    found = all_products().filter(pk=product_id).first()
    if found is None:
        raise Http404
    return found


# --- orders ------------------------------------------------------------------------------------------


def orders_for(org: Organisation, filters: Filters | None = None) -> QuerySet[Order]:
    """The customer's orders; kind filters orders having at least one line of that kind (seed 004)."""
    filters = filters or Filters()
    rows = Order.objects.filter(org=org).select_related("placed_by", "placed_by_org", "payer")
    if filters.kind:
        rows = rows.filter(Exists(OrderLine.objects.filter(order=OuterRef("pk"), kind=filters.kind)))
    if filters.status:
        rows = rows.filter(status=filters.status)
    return _dated(rows, "created_at", filters).order_by("-id")


def order_in(org: Organisation, order_id: int) -> Order:
    found = orders_for(org).filter(pk=order_id).first()
    if found is None:
        raise Http404
    return found


def lines_of(order: Order) -> QuerySet[OrderLine]:
    return order.lines.select_related("product__category").order_by("line_no")


# --- invoices ----------------------------------------------------------------------------------------


def _invoice_filters(rows: QuerySet[Invoice], filters: Filters) -> QuerySet[Invoice]:
    if filters.status:
        rows = rows.filter(status=filters.status)
    if filters.org:
        rows = rows.filter(org__slug=filters.org)
    return _dated(rows, "issued_at", filters).order_by("-id")


def invoices_for(org: Organisation, filters: Filters | None = None) -> QuerySet[Invoice]:
    """The invoices `org` pays (a partner paying with its own means gets them, not the customer)."""
    return _invoice_filters(Invoice.objects.filter(org=org).select_related("org", "order"), filters or Filters())


def invoice_in(org: Organisation, invoice_id: int) -> Invoice:
    found = invoices_for(org).filter(pk=invoice_id).first()
    if found is None:
        raise Http404
    return found


def all_invoices(filters: Filters | None = None) -> QuerySet[Invoice]:
    """Every invoice, for operator billing staff (the caller resolved that access)."""
    return _invoice_filters(Invoice.objects.select_related("org", "order"), filters or Filters())


def any_invoice(invoice_id: int) -> Invoice:
    found = all_invoices().filter(pk=invoice_id).first()
    if found is None:
        raise Http404
    return found


# --- catalog for ordering ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Offer:
    product: Product
    price: Price


def products_on_sale(currency: str) -> list[Offer]:
    """Products on sale with a price in `currency`, in catalog order."""
    prices = Price.objects.filter(currency=currency, product__is_active=True).select_related("product__category")
    offers = [Offer(product=price.product, price=price) for price in prices]
    return sorted(
        offers, key=lambda o: (o.product.category.position, o.product.category.name, o.product.name, o.product.pk)
    )


def product_on_sale(product_id: int) -> Product | None:
    return Product.objects.filter(pk=product_id).select_related("category").first()
