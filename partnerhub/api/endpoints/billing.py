"""Customer products, orders and invoices; the operator's invoice actions (mark paid, refund, cancel)
and product actions (suspend, reactivate, cancel now).

Amounts are strings rounded to their currency's minor unit (never JSON numbers). A refusal caused
by the current state of a resource (an invoice already paid, a cancelled product) answers 409.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from typing import Any, ClassVar, Literal

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema, Status
from pydantic import BaseModel, Field, field_validator, model_validator

from partnerhub.access.perms import Perm
from partnerhub.api.endpoints import actor_of, org_of
from partnerhub.api.pagination import Page, PageParams, paginate
from partnerhub.api.problems import ApiProblem, from_validation_error, service_errors
from partnerhub.api.routing import operation, operator_operation
from partnerhub.api.schemas import Body, Moment
from partnerhub.billing import queries, services
from partnerhub.billing.models import (
    CustomerProduct,
    Invoice,
    InvoiceKind,
    InvoiceStatus,
    Order,
    OrderStatus,
    ProductStatus,
)
from partnerhub.billing.pdf import FontMissing, render_invoice
from partnerhub.billing.services.invoices import InvalidPaymentTime
from partnerhub.catalog.models import Product, ProductKind
from partnerhub.core.money import Currency, round_money
from partnerhub.orgs.models import Organisation

router = Router(tags=["billing"])

# --- schemas -----------------------------------------------------------------------------------------


class _Money(Schema):
    """Amount fields (named in AMOUNTS) leave as strings rounded to the row's currency."""

    AMOUNTS: ClassVar[tuple[str, ...]] = ()
    currency: str

    @field_validator("*", mode="before")
    @classmethod
    def _decimal_to_text(cls, value: Any) -> Any:
        return f"{value:f}" if isinstance(value, Decimal) else value

    @model_validator(mode="after")
    def _round(self) -> Any:
        for name in self.AMOUNTS:
            setattr(self, name, f"{round_money(Decimal(getattr(self, name)), self.currency):f}")
        return self


class CustomerProductOut(Schema):
    id: int
    product_id: int
    sku: str
    name: str
    kind: str
    licence_kind: str
    quantity: int
    status: ProductStatus
    term_months: int
    started_on: date
    renews_on: date | None
    trial_ends_on: date | None
    cancel_at_term_end: bool

    @staticmethod
    def resolve_sku(obj: Any) -> str:
        return str(obj.product.sku)

    @staticmethod
    def resolve_name(obj: Any) -> str:
        return str(obj.product.name)

    @staticmethod
    def resolve_kind(obj: Any) -> str:
        return str(obj.product.kind)

    @staticmethod
    def resolve_licence_kind(obj: Any) -> str:
        return str(obj.product.licence_kind)


class CustomerProductUpdate(Body):
    """Fields left out keep their value. ``status: "cancelled"`` cancels at the end of the term (trials
    and one-time products at once); ``cancel_at_term_end: false`` withdraws a pending cancellation."""

    quantity: int | None = Field(None, ge=1, le=100_000, description="Absolute licences only.")
    status: Literal["cancelled"] | None = None
    cancel_at_term_end: Literal[False] | None = None


class ProductFilter(BaseModel):
    status: ProductStatus | None = None
    kind: ProductKind | None = None


class OrderLineOut(_Money):
    AMOUNTS = ("unit_price", "list_total", "partner_discount", "volume_discount", "discount", "total", "cashback")
    line_no: int
    product_id: int
    kind: str
    description: str
    quantity: int
    term_months: int
    unit_price: str
    list_total: str
    partner_discount: str
    volume_discount: str
    discount: str
    total: str
    cashback: str

    @staticmethod
    def resolve_currency(obj: Any) -> str:
        return str(obj.order.currency)


class OrderOut(_Money):
    AMOUNTS = ("subtotal", "discount_total", "total", "cashback_total")
    id: int
    number: str
    status: OrderStatus
    placed_by: str
    placed_by_org: str
    payer: str
    subtotal: str
    discount_total: str
    total: str
    cashback_total: str
    created_at: datetime
    lines: list[OrderLineOut]

    @staticmethod
    def resolve_number(obj: Any) -> str:
        return str(obj)

    @staticmethod
    def resolve_placed_by(obj: Any) -> str:
        return str(obj.placed_by.email)

    @staticmethod
    def resolve_placed_by_org(obj: Any) -> str:
        return str(obj.placed_by_org.slug)

    @staticmethod
    def resolve_payer(obj: Any) -> str:
        return str(obj.payer.slug)

    @staticmethod
    def resolve_lines(obj: Any) -> list[Any]:
        return list(obj.lines.all())


# The largest id a database's bigint holds: larger ids would overflow the query (SQLite: OverflowError).
MAX_ID = 2**63 - 1


class OrderLineIn(BaseModel):
    product_id: int = Field(ge=1, le=MAX_ID)
    quantity: int = Field(ge=1, le=100_000)
    term_months: int | None = Field(None, ge=1, le=60, description="Default: one billing period.")


class OrderCreate(Body):
    currency: Currency
    lines: list[OrderLineIn] = Field(min_length=1, max_length=50)


class OrderFilter(BaseModel):
    kind: ProductKind | None = Field(None, description="Orders with at least one line of this kind.")
    status: OrderStatus | None = None
    date_from: date | None = None
    date_to: date | None = None


class InvoiceLineOut(_Money):
    AMOUNTS = ("unit_price", "discount", "total")
    line_no: int
    product_id: int | None
    description: str
    quantity: int
    unit_price: str
    discount: str
    total: str

    @staticmethod
    def resolve_currency(obj: Any) -> str:
        return str(obj.invoice.currency)


class InvoiceOut(_Money):
    AMOUNTS = ("subtotal", "discount_total", "total", "refunded_amount")
    id: int
    number: str
    org: str
    order_id: int | None
    kind: InvoiceKind = Field(description="order, or renewal (the next term of products already held)")
    status: InvoiceStatus
    issued_at: datetime
    due_on: date
    paid_at: datetime | None
    subtotal: str
    discount_total: str
    total: str
    refunded_amount: str
    lines: list[InvoiceLineOut]

    @staticmethod
    def resolve_number(obj: Any) -> str:
        return str(obj.display_number)

    @staticmethod
    def resolve_org(obj: Any) -> str:
        return str(obj.org.slug)

    @staticmethod
    def resolve_lines(obj: Any) -> list[Any]:
        return list(obj.lines.all())


class InvoiceFilter(BaseModel):
    status: InvoiceStatus | None = None
    date_from: date | None = None
    date_to: date | None = None


class OperatorProductOut(CustomerProductOut):
    org: str

    @staticmethod
    def resolve_org(obj: Any) -> str:
        return str(obj.org.slug)


class OperatorProductFilter(ProductFilter):
    org: str | None = Field(None, max_length=60, description="The organisation's short name.")


class OperatorInvoiceFilter(InvoiceFilter):
    org: str | None = Field(None, max_length=60, description="The organisation's short name.")


class InvoicePay(Body):
    paid_at: Moment | None = Field(
        None, description="Default: now. With a time zone; not in the future, not before the invoice was issued."
    )


class InvoiceRefund(Body):
    amount: str = Field(pattern=r"^\d{1,12}(\.\d{1,4})?$", description="A positive amount as a string, e.g. 12.50.")


def _filters(data: BaseModel) -> queries.Filters:
    values = data.model_dump()
    return queries.Filters(
        status=str(values.get("status") or ""),
        kind=str(values.get("kind") or ""),
        org=str(values.get("org") or ""),
        date_from=values.get("date_from"),
        date_to=values.get("date_to"),
    )


# --- customer products -------------------------------------------------------------------------------


def _granted_product(request: HttpRequest, product_id: int) -> CustomerProduct:
    """One of the organisation's products; a restricted grant reaches only the products it names (the
    others answer 404, like a product of another organisation)."""
    access = getattr(request, "access", None)
    if access is not None and access.product_ids is not None and product_id not in access.product_ids:
        raise ApiProblem(404, _("No such product."))
    return queries.customer_product_in(org_of(request), product_id)


@operation(
    router,
    "GET",
    "/orgs/{org_slug}/products",
    perm=Perm.ORG_VIEW,
    response=Page[CustomerProductOut],
    summary="List the organisation's products",
)
def list_products(
    request: HttpRequest, org_slug: str, page: Query[PageParams], filters: Query[ProductFilter]
) -> Page[CustomerProductOut]:
    return paginate(queries.products_for(org_of(request), _filters(filters)), page, CustomerProductOut)


@operation(
    router,
    "GET",
    "/orgs/{org_slug}/products/{product_id}",
    perm=Perm.ORG_VIEW,
    response=CustomerProductOut,
    summary="Get one of the organisation's products",
)
def get_product(request: HttpRequest, org_slug: str, product_id: int) -> CustomerProduct:
    return _granted_product(request, product_id)


@operation(
    router,
    "PATCH",
    "/orgs/{org_slug}/products/{product_id}",
    perm=Perm.PRODUCTS_MANAGE,
    response=CustomerProductOut,
    summary="Change a product's quantity or cancel it",
    description="Quantities apply to absolute licences (more units also need `billing.order`). A change the "
    "product's state does not allow (cancelled, suspended, not a licence) answers 409.",
)
def update_product(
    request: HttpRequest, org_slug: str, product_id: int, data: CustomerProductUpdate
) -> CustomerProduct:
    cp = _granted_product(request, product_id)
    actor = actor_of(request)
    with service_errors(409):
        if data.quantity is not None:
            cp = services.change_quantity(actor, customer_product=cp, quantity=data.quantity)
        if data.status == "cancelled":
            cp = services.cancel_customer_product(actor, customer_product=cp)
        if data.cancel_at_term_end is False:
            cp = services.resume_customer_product(actor, customer_product=cp)
    return queries.customer_product_in(org_of(request), cp.pk)


@operation(
    router,
    "POST",
    "/orgs/{org_slug}/products/{product_id}/convert",
    perm=Perm.BILLING_ORDER,
    response={201: OrderOut},
    summary="Buy a trial product",
    description="Places an order at current prices; the product becomes active. Not a trial: 409.",
)
def convert_product(request: HttpRequest, org_slug: str, product_id: int) -> Status[Order]:
    cp = queries.customer_product_in(org_of(request), product_id)
    with service_errors(409):
        order = services.convert_trial(actor_of(request), customer_product=cp)
    return Status(201, queries.order_in(org_of(request), order.pk))


# --- orders ------------------------------------------------------------------------------------------


@operation(
    router,
    "GET",
    "/orgs/{org_slug}/orders",
    perm=Perm.BILLING_VIEW,
    response=Page[OrderOut],
    summary="List the organisation's orders",
)
def list_orders(
    request: HttpRequest, org_slug: str, page: Query[PageParams], filters: Query[OrderFilter]
) -> Page[OrderOut]:
    orders = queries.orders_for(org_of(request), _filters(filters)).prefetch_related("lines")
    return paginate(orders, page, OrderOut)


@operation(
    router,
    "GET",
    "/orgs/{org_slug}/orders/{order_id}",
    perm=Perm.BILLING_VIEW,
    response=OrderOut,
    summary="Get an order",
)
def get_order(request: HttpRequest, org_slug: str, order_id: int) -> Order:
    return queries.order_in(org_of(request), order_id)


@operation(
    router,
    "POST",
    "/orgs/{org_slug}/orders",
    perm=Perm.BILLING_ORDER,
    response={201: OrderOut},
    summary="Place an order",
    description="Every line is priced at the current price in `currency`. An unknown or retired product, a "
    "product without a price in that currency or an invalid term answers 422.",
)
def create_order(request: HttpRequest, org_slug: str, data: OrderCreate) -> Status[Order]:
    customer = org_of(request)
    products = Product.objects.in_bulk({line.product_id for line in data.lines})
    missing = sorted({line.product_id for line in data.lines} - set(products))
    if missing:
        raise ApiProblem(
            422,
            "Unknown product.",
            errors=[{"loc": ["body", "lines"], "msg": f"Unknown product {pk}.", "type": "product"} for pk in missing],
        )
    lines = [(products[line.product_id], line.quantity, line.term_months) for line in data.lines]
    # Partner staff acting through their grant order as the partner; the partnership prices the order.
    from partnerhub.partnerships.services import ordering_for

    ordered_by, partnership = ordering_for(request.access, customer, list(products))  # type: ignore[attr-defined]
    order = services.place_order(
        actor_of(request),
        customer=customer,
        lines=lines,
        currency=str(data.currency),
        ordered_by=ordered_by,
        partnership=partnership,
    )
    return Status(201, queries.order_in(customer, order.pk))


# --- invoices ----------------------------------------------------------------------------------------


@operation(
    router,
    "GET",
    "/orgs/{org_slug}/invoices",
    perm=Perm.BILLING_VIEW,
    response=Page[InvoiceOut],
    summary="List the invoices the organisation pays",
)
def list_invoices(
    request: HttpRequest, org_slug: str, page: Query[PageParams], filters: Query[InvoiceFilter]
) -> Page[InvoiceOut]:
    invoices = queries.invoices_for(org_of(request), _filters(filters)).prefetch_related("lines")
    return paginate(invoices, page, InvoiceOut)


@operation(
    router,
    "GET",
    "/orgs/{org_slug}/invoices/{invoice_id}",
    perm=Perm.BILLING_VIEW,
    response=InvoiceOut,
    summary="Get an invoice",
)
def get_invoice(request: HttpRequest, org_slug: str, invoice_id: int) -> Invoice:
    return queries.invoice_in(org_of(request), invoice_id)


def _pdf_response(invoice: Invoice) -> HttpResponse:
    try:
        content = render_invoice(invoice, seller=Organisation.objects.filter(is_operator=True).first())
    except FontMissing as exc:
        raise ApiProblem(503, "The PDF font is not installed on the server.") from exc
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="invoice-{invoice.display_number}.pdf"'
    return response


PDF_DOC = {"responses": {"200": {"description": "The invoice as PDF.", "content": {"application/pdf": {}}}}}


@operation(
    router,
    "GET",
    "/orgs/{org_slug}/invoices/{invoice_id}/pdf",
    perm=Perm.BILLING_VIEW,
    response={200: None, 503: None},
    summary="Download an invoice as PDF",
    openapi_extra=PDF_DOC,
)
def invoice_pdf(request: HttpRequest, org_slug: str, invoice_id: int) -> HttpResponse:
    return _pdf_response(queries.invoice_in(org_of(request), invoice_id))


# --- operator ----------------------------------------------------------------------------------------


@operation(
    router,
    "GET",
    "/orgs/{org_slug}/billing/invoices",
    perm=services.OPERATOR_BILLING,
    response=Page[InvoiceOut],
    summary="List every customer's invoices (operator)",
)
def operator_list_invoices(
    request: HttpRequest, org_slug: str, page: Query[PageParams], filters: Query[OperatorInvoiceFilter]
) -> Page[InvoiceOut]:
    return paginate(queries.all_invoices(_filters(filters)).prefetch_related("lines"), page, InvoiceOut)


@operation(
    router,
    "POST",
    "/orgs/{org_slug}/billing/invoices/{invoice_id}/pay",
    perm=services.OPERATOR_BILLING,
    response=InvoiceOut,
    summary="Mark an invoice paid (operator)",
    description=(
        "Emits the payment's billing event. An invoice that is not open or overdue answers 409; "
        "a payment time in the future or before the invoice was issued answers 422."
    ),
)
def pay_invoice(request: HttpRequest, org_slug: str, invoice_id: int, data: InvoicePay) -> Invoice:
    invoice = queries.any_invoice(invoice_id)
    with service_errors(409):
        try:
            services.mark_invoice_paid(actor_of(request), invoice=invoice, paid_at=data.paid_at)
        except InvalidPaymentTime as exc:
            raise from_validation_error(exc, 422) from exc
    return queries.any_invoice(invoice_id)


@operation(
    router,
    "POST",
    "/orgs/{org_slug}/billing/invoices/{invoice_id}/refund",
    perm=services.OPERATOR_BILLING,
    response=InvoiceOut,
    summary="Refund part or all of a paid invoice (operator)",
    description="Emits the refund's billing event. Not paid, or more than is left to refund: 409.",
)
def refund(request: HttpRequest, org_slug: str, invoice_id: int, data: InvoiceRefund) -> Invoice:
    invoice = queries.any_invoice(invoice_id)
    with service_errors(409):
        services.refund_invoice(actor_of(request), invoice=invoice, amount=data.amount)
    return queries.any_invoice(invoice_id)


@operation(
    router,
    "POST",
    "/orgs/{org_slug}/billing/invoices/{invoice_id}/cancel",
    perm=services.OPERATOR_BILLING,
    response=InvoiceOut,
    summary="Cancel an open or overdue invoice (operator)",
    description="A paid, refunded or cancelled invoice answers 409.",
)
def cancel(request: HttpRequest, org_slug: str, invoice_id: int) -> Invoice:
    invoice = queries.any_invoice(invoice_id)
    with service_errors(409):
        services.cancel_invoice(actor_of(request), invoice=invoice)
    return queries.any_invoice(invoice_id)


@operator_operation(
    router,
    "GET",
    "/billing/customer-products",
    perm=services.OPERATOR_BILLING,
    response=Page[OperatorProductOut],
    summary="List every customer's products (operator)",
)
def operator_list_products(
    request: HttpRequest, page: Query[PageParams], filters: Query[OperatorProductFilter]
) -> Page[OperatorProductOut]:
    return paginate(queries.all_products(_filters(filters)), page, OperatorProductOut)


def _act_on_product(
    request: HttpRequest, product_id: int, action: Callable[..., Any], **options: Any
) -> CustomerProduct:
    """Run an operator `action` on a customer product; a refused transition answers 409."""
    cp = queries.any_product(product_id)
    with service_errors(409):
        action(actor_of(request), customer_product=cp, **options)
    return queries.any_product(product_id)  # re-read with what the answer shows (org, product)


@operator_operation(
    router,
    "POST",
    "/billing/customer-products/{product_id}/suspend",
    perm=services.OPERATOR_BILLING,
    response=OperatorProductOut,
    summary="Suspend a customer's product (operator)",
    description="Active and trial products only; any other status answers 409.",
)
def suspend_product(request: HttpRequest, product_id: int) -> CustomerProduct:
    return _act_on_product(request, product_id, services.suspend_customer_product)


@operator_operation(
    router,
    "POST",
    "/billing/customer-products/{product_id}/reactivate",
    perm=services.OPERATOR_BILLING,
    response=OperatorProductOut,
    summary="Reactivate a suspended product (operator)",
    description="A product that is not suspended answers 409.",
)
def reactivate_product(request: HttpRequest, product_id: int) -> CustomerProduct:
    return _act_on_product(request, product_id, services.reactivate_customer_product)


@operator_operation(
    router,
    "POST",
    "/billing/customer-products/{product_id}/cancel",
    perm=services.OPERATOR_BILLING,
    response=OperatorProductOut,
    summary="Cancel a customer's product at once (operator)",
    description="Ends the product now, not at the end of its term. An already cancelled product answers 409.",
)
def cancel_product_now(request: HttpRequest, product_id: int) -> CustomerProduct:
    return _act_on_product(request, product_id, services.cancel_customer_product, immediately=True)
