"""What each export contains: its columns, the list query and filter form it reuses, the permission.

Datasets mirror the list pages (same filters, same order, newest first):

========================  ==========================  ====================================================
key                       permission                  rows
========================  ==========================  ====================================================
``products``              ``org.view``                the organisation's customer products
``orders``                ``billing.view``            its orders, one row per order (header totals)
``order_lines``           ``billing.view``            the lines of the same orders, one row per line
``invoices``              ``billing.view``            the invoices it pays
``events``                ``billing.view``            its billing events, one row per event line
``all_invoices``          operator billing            every invoice (operator organisation only)
``all_events``            ``operator.program.manage`` every billing event, one row per line (operator)
========================  ==========================  ====================================================

Orders come as two datasets rather than order rows repeated per line: a spreadsheet summing the
``orders`` totals or the ``order_lines`` totals gets the right figure either way, which repeated
header amounts would break.

Every cell is one of the :data:`Kind` values; the writers turn them into CSV text or typed XLSX
cells. Amounts carry their row's currency (its own column) and are rounded to its minor unit.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

from django import forms
from django.db.models import QuerySet
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from partnerhub.access.perms import Perm
from partnerhub.access.policy import Actor
from partnerhub.billing import queries
from partnerhub.billing.event_views import EventFilterForm
from partnerhub.billing.events import operator_events, org_events
from partnerhub.billing.forms import InvoiceFilterForm, OperatorInvoiceFilterForm, OrderFilterForm, ProductFilterForm
from partnerhub.billing.models import BillingEvent, BillingEventLine, Invoice, Order, OrderLine
from partnerhub.billing.services.common import OPERATOR_BILLING
from partnerhub.orgs.models import Organisation

Kind = Literal["text", "int", "amount", "date", "datetime"]
Label = str | Promise


@dataclass(frozen=True, slots=True)
class Column:
    """One column: its translated header, its kind and how to read it from a row object."""

    header: Label
    kind: Kind
    get: Callable[[Any], Any]
    # Amount columns: the currency of the row (amounts are rounded to its minor unit).
    currency: Callable[[Any], str] | None = None


@dataclass(frozen=True, slots=True)
class Dataset:
    key: str
    label: Label
    perm: Perm
    form: type[forms.Form]
    # The filters of the list page (fields of `form`; paging fields are never filters).
    filters: tuple[str, ...]
    columns: tuple[Column, ...]
    # The rows for an actor whose access to `org` was checked, narrowed by a valid filter form.
    rows: Callable[[Actor, Organisation, Any], QuerySet[Any]]
    # URL names: the list page and this dataset's export view.
    list_url: str
    export_url: str
    operator: bool = False

    @property
    def headers(self) -> list[str]:
        """The column headers in the active language."""
        return [str(column.header) for column in self.columns]


def _text(header: Label, get: Callable[[Any], Any]) -> Column:
    return Column(header, "text", get)


def _amount(header: Label, get: Callable[[Any], Decimal], currency: Callable[[Any], str]) -> Column:
    return Column(header, "amount", get, currency)


def _day(header: Label, get: Callable[[Any], date | None]) -> Column:
    return Column(header, "date", get)


def _moment(header: Label, get: Callable[[Any], datetime | None]) -> Column:
    return Column(header, "datetime", get)


def _number(header: Label, get: Callable[[Any], int | None]) -> Column:
    return Column(header, "int", get)


# --- customer products ------------------------------------------------------------------------------


def _products(actor: Actor, org: Organisation, form: Any) -> QuerySet[Any]:
    return queries.products_for(org, form.filters()).select_related("org", "product__category")


PRODUCTS = Dataset(
    key="products",
    label=_("Products"),
    perm=Perm.ORG_VIEW,
    form=ProductFilterForm,
    filters=("status", "kind"),
    columns=(
        _text(pgettext_lazy("export column", "Organisation"), lambda cp: cp.org.name),
        _text(pgettext_lazy("export column", "Product"), lambda cp: cp.product.name),
        _text(pgettext_lazy("export column", "Article number"), lambda cp: cp.product.sku),
        _text(pgettext_lazy("export column", "Category"), lambda cp: cp.product.category.name),
        _text(pgettext_lazy("export column", "Kind"), lambda cp: cp.product.get_kind_display()),
        _number(pgettext_lazy("export column", "Quantity"), lambda cp: cp.quantity),
        _text(pgettext_lazy("export column", "Status"), lambda cp: cp.get_status_display()),
        _day(pgettext_lazy("export column", "Start"), lambda cp: cp.started_on),
        _day(pgettext_lazy("export column", "Renewal date"), lambda cp: cp.renews_on),
        _day(pgettext_lazy("export column", "Trial ends"), lambda cp: cp.trial_ends_on),
    ),
    rows=_products,
    list_url="product_list",
    export_url="export_products",
)


# --- orders ------------------------------------------------------------------------------------------


def _orders(actor: Actor, org: Organisation, form: Any) -> QuerySet[Any]:
    return queries.orders_for(org, form.filters()).select_related("org")


def _order_currency(order: Order) -> str:
    return order.currency


ORDERS = Dataset(
    key="orders",
    label=_("Orders"),
    perm=Perm.BILLING_VIEW,
    form=OrderFilterForm,
    filters=("kind", "status", "date_from", "date_to"),
    columns=(
        _text(pgettext_lazy("export column", "Number"), str),
        _moment(pgettext_lazy("export column", "Date"), lambda o: o.created_at),
        _text(pgettext_lazy("export column", "Organisation"), lambda o: o.org.name),
        _text(pgettext_lazy("export column", "Placed by"), lambda o: o.placed_by.email),
        _text(pgettext_lazy("export column", "Placed by organisation"), lambda o: o.placed_by_org.name),
        _text(pgettext_lazy("export column", "Payer"), lambda o: o.payer.name),
        _text(pgettext_lazy("export column", "Currency"), _order_currency),
        _amount(pgettext_lazy("export column", "Subtotal"), lambda o: o.subtotal, _order_currency),
        _amount(pgettext_lazy("export column", "Discount"), lambda o: o.discount_total, _order_currency),
        _amount(pgettext_lazy("export column", "Total"), lambda o: o.total, _order_currency),
        _amount(pgettext_lazy("export column", "Cashback"), lambda o: o.cashback_total, _order_currency),
        _text(pgettext_lazy("export column", "Status"), lambda o: o.get_status_display()),
    ),
    rows=_orders,
    list_url="order_list",
    export_url="export_orders",
)


def _order_lines(actor: Actor, org: Organisation, form: Any) -> QuerySet[Any]:
    orders = queries.orders_for(org, form.filters()).values("pk")
    return (
        OrderLine.objects.filter(order__in=orders)
        .select_related("order__org", "order__placed_by", "order__placed_by_org", "order__payer", "product__category")
        .order_by("-order_id", "line_no")
    )


def _line_currency(line: OrderLine) -> str:
    return line.order.currency


ORDER_LINES = Dataset(
    key="order_lines",
    label=_("Order lines"),
    perm=Perm.BILLING_VIEW,
    form=OrderFilterForm,
    filters=("kind", "status", "date_from", "date_to"),
    columns=(
        _text(pgettext_lazy("export column", "Order"), lambda line: str(line.order)),
        _moment(pgettext_lazy("export column", "Date"), lambda line: line.order.created_at),
        _text(pgettext_lazy("export column", "Organisation"), lambda line: line.order.org.name),
        _text(pgettext_lazy("export column", "Placed by"), lambda line: line.order.placed_by.email),
        _text(pgettext_lazy("export column", "Placed by organisation"), lambda line: line.order.placed_by_org.name),
        _text(pgettext_lazy("export column", "Payer"), lambda line: line.order.payer.name),
        _text(pgettext_lazy("export column", "Order status"), lambda line: line.order.get_status_display()),
        _number(pgettext_lazy("export column", "Line"), lambda line: line.line_no),
        _text(pgettext_lazy("export column", "Article number"), lambda line: line.product.sku),
        _text(pgettext_lazy("export column", "Category"), lambda line: line.product.category.name),
        _text(pgettext_lazy("export column", "Kind"), lambda line: line.get_kind_display()),
        _text(pgettext_lazy("export column", "Description"), lambda line: line.description),
        _number(pgettext_lazy("export column", "Quantity"), lambda line: line.quantity),
        _number(pgettext_lazy("export column", "Term (months)"), lambda line: line.term_months),
        _text(pgettext_lazy("export column", "Currency"), _line_currency),
        _amount(pgettext_lazy("export column", "Unit price"), lambda line: line.unit_price, _line_currency),
        _amount(pgettext_lazy("export column", "Public price"), lambda line: line.list_total, _line_currency),
        _amount(pgettext_lazy("export column", "Discount"), lambda line: line.discount, _line_currency),
        _amount(pgettext_lazy("export column", "Total"), lambda line: line.total, _line_currency),
        _amount(pgettext_lazy("export column", "Cashback"), lambda line: line.cashback, _line_currency),
    ),
    rows=_order_lines,
    list_url="order_list",
    export_url="export_order_lines",
)


# --- invoices ----------------------------------------------------------------------------------------


def _invoice_currency(invoice: Invoice) -> str:
    return invoice.currency


INVOICE_COLUMNS = (
    _text(pgettext_lazy("export column", "Number"), lambda i: i.display_number),
    _text(pgettext_lazy("export column", "Organisation"), lambda i: i.org.name),
    _moment(pgettext_lazy("export column", "Issued"), lambda i: i.issued_at),
    _day(pgettext_lazy("export column", "Due"), lambda i: i.due_on),
    _text(pgettext_lazy("export column", "Status"), lambda i: i.get_status_display()),
    _text(pgettext_lazy("export column", "Currency"), _invoice_currency),
    _amount(pgettext_lazy("export column", "Subtotal"), lambda i: i.subtotal, _invoice_currency),
    _amount(pgettext_lazy("export column", "Discount"), lambda i: i.discount_total, _invoice_currency),
    _amount(pgettext_lazy("export column", "Total"), lambda i: i.total, _invoice_currency),
    _amount(pgettext_lazy("export column", "Refunded"), lambda i: i.refunded_amount, _invoice_currency),
    _moment(pgettext_lazy("export column", "Paid at"), lambda i: i.paid_at),
)


def _invoices(actor: Actor, org: Organisation, form: Any) -> QuerySet[Any]:
    return queries.invoices_for(org, form.filters())


def _all_invoices(actor: Actor, org: Organisation, form: Any) -> QuerySet[Any]:
    return queries.all_invoices(form.filters())


INVOICES = Dataset(
    key="invoices",
    label=_("Invoices"),
    perm=Perm.BILLING_VIEW,
    form=InvoiceFilterForm,
    filters=("status", "date_from", "date_to"),
    columns=INVOICE_COLUMNS,
    rows=_invoices,
    list_url="invoice_list",
    export_url="export_invoices",
)

ALL_INVOICES = Dataset(
    key="all_invoices",
    label=_("All invoices"),
    perm=OPERATOR_BILLING,
    form=OperatorInvoiceFilterForm,
    filters=("org", "status", "date_from", "date_to"),
    columns=INVOICE_COLUMNS,
    rows=_all_invoices,
    list_url="operator_invoice_list",
    export_url="export_all_invoices",
    operator=True,
)


# --- billing events ----------------------------------------------------------------------------------


def _event_currency(line: BillingEventLine) -> str:
    return line.event.currency


EVENT_COLUMNS = (
    _text(pgettext_lazy("export column", "External id"), lambda line: line.event.external_id),
    _text(pgettext_lazy("export column", "Kind"), lambda line: line.event.get_kind_display()),
    _text(pgettext_lazy("export column", "Organisation"), lambda line: line.event.org.name),
    _text(pgettext_lazy("export column", "Currency"), _event_currency),
    _moment(pgettext_lazy("export column", "Occurred at"), lambda line: line.event.occurred_at),
    _text(pgettext_lazy("export column", "Refers to"), lambda line: line.event.refers_to),
    _number(pgettext_lazy("export column", "Line"), lambda line: line.line_no),
    _text(pgettext_lazy("export column", "Article number"), lambda line: line.product_sku),
    _text(pgettext_lazy("export column", "Category"), lambda line: line.category_slug),
    _amount(pgettext_lazy("export column", "Base amount"), lambda line: line.base_amount, _event_currency),
)


def _lines_of(events: QuerySet[BillingEvent]) -> QuerySet[Any]:
    """One row per event line, events in the list's order (newest received first)."""
    return (
        BillingEventLine.objects.filter(event__in=events.values("pk"))
        .select_related("event__org")
        .order_by("-event_id", "line_no")
    )


def _events(actor: Actor, org: Organisation, form: Any) -> QuerySet[Any]:
    return _lines_of(org_events(actor, org=org, filters=form.filters(with_org=False)))


def _all_events(actor: Actor, org: Organisation, form: Any) -> QuerySet[Any]:
    return _lines_of(operator_events(actor, filters=form.filters(with_org=True)))


EVENTS = Dataset(
    key="events",
    label=_("Billing events"),
    perm=Perm.BILLING_VIEW,
    form=EventFilterForm,
    filters=("kind", "date_from", "date_to"),
    columns=EVENT_COLUMNS,
    rows=_events,
    list_url="billing_event_list",
    export_url="export_events",
)

ALL_EVENTS = Dataset(
    key="all_events",
    label=_("All billing events"),
    perm=Perm.OPERATOR_PROGRAM_MANAGE,
    form=EventFilterForm,
    filters=("org", "kind", "date_from", "date_to"),
    columns=EVENT_COLUMNS,
    rows=_all_events,
    list_url="operator_billing_event_list",
    export_url="export_all_events",
    operator=True,
)


DATASETS: dict[str, Dataset] = {
    ds.key: ds for ds in (PRODUCTS, ORDERS, ORDER_LINES, INVOICES, EVENTS, ALL_INVOICES, ALL_EVENTS)
}
DATASET_KEYS = tuple(DATASETS)


def dataset_label(key: str) -> str:
    """The translated name of a dataset (the key itself for an unknown one)."""
    found = DATASETS.get(key)
    return str(found.label) if found else key
