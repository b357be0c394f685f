"""Pages of the billing area: customer products, orders, invoices, and the operator's invoice and product desks.

Thin views: the decorator resolves access, a form parses input, one service or query does the rest.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from partnerhub.access.decorators import require_perm
from partnerhub.access.perms import Perm
from partnerhub.billing import queries, services
from partnerhub.billing.forms import (
    CurrencyForm,
    InvoiceFilterForm,
    OperatorInvoiceFilterForm,
    OperatorProductFilterForm,
    OrderFilterForm,
    OrderForm,
    ProductFilterForm,
    QuantityForm,
    RefundForm,
)
from partnerhub.billing.models import Invoice, InvoiceStatus, ProductStatus
from partnerhub.billing.pdf import FontMissing, render_invoice
from partnerhub.catalog.models import LicenceKind
from partnerhub.core.errors import ServiceError
from partnerhub.orgs.models import Organisation

OPERATOR_BILLING = services.OPERATOR_BILLING


def _list(request: HttpRequest, template: str, context: dict[str, Any]) -> HttpResponse:
    """Render a list page, or only its table for htmx (``#rows``); caches keep both apart."""
    if request.htmx:  # type: ignore[attr-defined]
        template += "#rows"
    response = render(request, template, context)
    patch_vary_headers(response, ("HX-Request",))
    return response


def _error(request: HttpRequest, exc: ServiceError) -> None:
    messages.error(request, " ".join(exc.messages))


# --- customer products ------------------------------------------------------------------------------


@require_perm(Perm.ORG_VIEW)
def product_list(request: HttpRequest) -> HttpResponse:
    """The organisation's products; members with products.manage / billing.order get the actions."""
    org = request.org  # type: ignore[attr-defined]
    form = ProductFilterForm(request.GET)
    page = queries.page_of(queries.products_for(org, form.filters()), before=form.position())
    perms = request.perms  # type: ignore[attr-defined]
    context = {
        "org": org,
        "form": form,
        "page": page,
        "paged": form.position() is not None,
        "manage": Perm.PRODUCTS_MANAGE in perms,
        "can_order": Perm.BILLING_ORDER in perms,
        "absolute": LicenceKind.ABSOLUTE,
        "statuses": ProductStatus,
    }
    return _list(request, "billing/product_list.html", context)


def _product_action(request: HttpRequest, product_id: int, action: Any, done: str, **kwargs: Any) -> HttpResponse:
    org = request.org  # type: ignore[attr-defined]
    cp = queries.customer_product_in(org, product_id)
    try:
        action(request.actor, customer_product=cp, **kwargs)  # type: ignore[attr-defined]
    except ServiceError as exc:
        _error(request, exc)
    else:
        messages.success(request, done % {"product": cp.product.name})
    return redirect("product_list", org_slug=org.slug)


@require_POST
@require_perm(Perm.PRODUCTS_MANAGE)
def product_quantity(request: HttpRequest, product_id: int) -> HttpResponse:
    form = QuantityForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Enter a quantity between 1 and 100000."))
        return redirect("product_list", org_slug=request.org.slug)  # type: ignore[attr-defined]
    done = _("The quantity of %(product)s was changed.")
    return _product_action(request, product_id, services.change_quantity, done, quantity=form.cleaned_data["quantity"])


@require_POST
@require_perm(Perm.PRODUCTS_MANAGE)
def product_cancel(request: HttpRequest, product_id: int) -> HttpResponse:
    done = _("%(product)s was cancelled.")
    return _product_action(request, product_id, services.cancel_customer_product, done)


@require_POST
@require_perm(Perm.PRODUCTS_MANAGE)
def product_resume(request: HttpRequest, product_id: int) -> HttpResponse:
    done = _("The cancellation of %(product)s was withdrawn.")
    return _product_action(request, product_id, services.resume_customer_product, done)


@require_POST
@require_perm(Perm.BILLING_ORDER)
def product_convert(request: HttpRequest, product_id: int) -> HttpResponse:
    done = _("%(product)s is now a paid product. The invoice is on its way.")
    return _product_action(request, product_id, services.convert_trial, done)


# --- orders ------------------------------------------------------------------------------------------


@require_perm(Perm.BILLING_VIEW)
def order_list(request: HttpRequest) -> HttpResponse:
    org = request.org  # type: ignore[attr-defined]
    form = OrderFilterForm(request.GET)
    page = queries.page_of(queries.orders_for(org, form.filters()), before=form.position())
    context = {
        "org": org,
        "form": form,
        "page": page,
        "paged": form.position() is not None,
        "can_order": Perm.BILLING_ORDER in request.perms,  # type: ignore[attr-defined]
    }
    return _list(request, "billing/order_list.html", context)


@require_perm(Perm.BILLING_VIEW)
def order_detail(request: HttpRequest, order_id: int) -> HttpResponse:
    org = request.org  # type: ignore[attr-defined]
    order = queries.order_in(org, order_id)
    context = {
        "org": org,
        "order": order,
        "lines": list(queries.lines_of(order)),
        # Invoices paid with a partner's means belong to the partner: the customer sees only its own.
        "invoices": list(order.invoices.filter(org=org).order_by("id")),
    }
    return render(request, "billing/order_detail.html", context)


def _previewed_total(value: str | None) -> Decimal | None:
    """The total the preview showed (a hidden field); an unreadable one counts as a changed price."""
    if value is None:
        return None
    try:
        return Decimal(value)
    except (InvalidOperation, ValueError):
        return Decimal(-1)


@require_perm(Perm.BILLING_ORDER)
def order_new(request: HttpRequest) -> HttpResponse:
    """Two steps: quantities → preview of the priced breakdown → confirm (places the order)."""
    org = request.org  # type: ignore[attr-defined]
    currency_form = CurrencyForm(request.POST or request.GET or None)
    currency = currency_form.cleaned_data["currency"] if currency_form.is_valid() else "CHF"
    offers = queries.products_on_sale(currency)
    form = OrderForm(request.POST or None, offers=offers, initial={"currency": currency})
    preview = None
    if request.method == "POST" and form.is_valid():
        lines = form.lines()
        try:
            # Partner staff in a management session order as the partner; the partnership prices it.
            from partnerhub.partnerships.services import ordering_for

            ordered_by, partnership = ordering_for(request.access, org, [line[0].pk for line in lines])  # type: ignore[attr-defined]
            if request.POST.get("confirm"):
                order = services.place_order(
                    request.actor,  # type: ignore[attr-defined]
                    customer=org,
                    lines=lines,
                    currency=currency,
                    ordered_by=ordered_by,
                    partnership=partnership,
                    expected_total=_previewed_total(request.POST.get("expected_total")),
                )
                messages.success(request, _("Order %(order)s placed.") % {"order": order})
                return redirect("order_detail", org_slug=org.slug, order_id=order.pk)
            preview = services.preview_order(
                request.actor,  # type: ignore[attr-defined]
                customer=org,
                lines=lines,
                currency=currency,
                ordered_by=ordered_by,
                partnership=partnership,
            )
        except ServiceError as exc:
            form.add_error(None, exc)
    context = {"org": org, "form": form, "currency_form": currency_form, "currency": currency, "preview": preview}
    return render(request, "billing/order_new.html", context)


# --- invoices ----------------------------------------------------------------------------------------


@require_perm(Perm.BILLING_VIEW)
def invoice_list(request: HttpRequest) -> HttpResponse:
    org = request.org  # type: ignore[attr-defined]
    form = InvoiceFilterForm(request.GET)
    page = queries.page_of(queries.invoices_for(org, form.filters()), before=form.position())
    context = {"org": org, "form": form, "page": page, "paged": form.position() is not None}
    return _list(request, "billing/invoice_list.html", context)


@require_perm(Perm.BILLING_VIEW)
def invoice_detail(request: HttpRequest, invoice_id: int) -> HttpResponse:
    org = request.org  # type: ignore[attr-defined]
    invoice = queries.invoice_in(org, invoice_id)
    context = {"org": org, "invoice": invoice, "lines": list(invoice.lines.order_by("line_no"))}
    return render(request, "billing/invoice_detail.html", context)


def _print(request: HttpRequest, invoice: Invoice) -> HttpResponse:
    context = {
        "invoice": invoice,
        "lines": list(invoice.lines.order_by("line_no")),
        "seller": Organisation.objects.filter(is_operator=True).first(),
    }
    return render(request, "billing/invoice_print.html", context)


def _pdf(request: HttpRequest, invoice: Invoice) -> HttpResponse:
    seller = Organisation.objects.filter(is_operator=True).first()
    try:
        content = render_invoice(invoice, seller=seller)
    except FontMissing as exc:
        context = {"invoice": invoice, "font": str(exc)}
        return render(request, "billing/invoice_pdf_unavailable.html", context, status=503)
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="invoice-{invoice.display_number}.pdf"'
    return response


@require_perm(Perm.BILLING_VIEW)
def invoice_print(request: HttpRequest, invoice_id: int) -> HttpResponse:
    return _print(request, queries.invoice_in(request.org, invoice_id))  # type: ignore[attr-defined]


@require_perm(Perm.BILLING_VIEW)
def invoice_pdf(request: HttpRequest, invoice_id: int) -> HttpResponse:
    return _pdf(request, queries.invoice_in(request.org, invoice_id))  # type: ignore[attr-defined]


# --- operator ----------------------------------------------------------------------------------------


@require_perm(OPERATOR_BILLING)
def operator_invoice_list(request: HttpRequest) -> HttpResponse:
    """Every customer's invoices with the actions mark paid, refund, cancel."""
    org = request.org  # type: ignore[attr-defined]
    form = OperatorInvoiceFilterForm(request.GET)
    page = queries.page_of(queries.all_invoices(form.filters()), before=form.position())
    context = {
        "org": org,
        "form": form,
        "page": page,
        "paged": form.position() is not None,
        "payable": (InvoiceStatus.OPEN, InvoiceStatus.OVERDUE),
        "paid": InvoiceStatus.PAID,
        "refund_form": RefundForm(),
    }
    return _list(request, "billing/operator_invoice_list.html", context)


def _invoice_action(request: HttpRequest, invoice_id: int, action: Any, done: str, **kwargs: Any) -> HttpResponse:
    invoice = queries.any_invoice(invoice_id)
    try:
        action(request.actor, invoice=invoice, **kwargs)  # type: ignore[attr-defined]
    except ServiceError as exc:
        _error(request, exc)
    else:
        messages.success(request, done % {"number": invoice.display_number})
    return redirect("operator_invoice_list", org_slug=request.org.slug)  # type: ignore[attr-defined]


@require_POST
@require_perm(OPERATOR_BILLING)
def operator_invoice_pay(request: HttpRequest, invoice_id: int) -> HttpResponse:
    return _invoice_action(request, invoice_id, services.mark_invoice_paid, _("Invoice %(number)s marked paid."))


@require_POST
@require_perm(OPERATOR_BILLING)
def operator_invoice_refund(request: HttpRequest, invoice_id: int) -> HttpResponse:
    form = RefundForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Enter the amount to refund, e.g. 12.50."))
        return redirect("operator_invoice_list", org_slug=request.org.slug)  # type: ignore[attr-defined]
    done = _("A refund on invoice %(number)s was recorded.")
    return _invoice_action(request, invoice_id, services.refund_invoice, done, amount=form.cleaned_data["amount"])


@require_POST
@require_perm(OPERATOR_BILLING)
def operator_invoice_cancel(request: HttpRequest, invoice_id: int) -> HttpResponse:
    return _invoice_action(request, invoice_id, services.cancel_invoice, _("Invoice %(number)s cancelled."))


@require_perm(OPERATOR_BILLING)
def operator_invoice_print(request: HttpRequest, invoice_id: int) -> HttpResponse:
    return _print(request, queries.any_invoice(invoice_id))


@require_perm(OPERATOR_BILLING)
def operator_invoice_pdf(request: HttpRequest, invoice_id: int) -> HttpResponse:
    return _pdf(request, queries.any_invoice(invoice_id))


@require_perm(OPERATOR_BILLING)
def operator_product_list(request: HttpRequest) -> HttpResponse:
    """Every customer's products with the actions suspend, reactivate, cancel now."""
    org = request.org  # type: ignore[attr-defined]
    form = OperatorProductFilterForm(request.GET)
    page = queries.page_of(queries.all_products(form.filters()), before=form.position())
    context = {
        "org": org,
        "form": form,
        "page": page,
        "paged": form.position() is not None,
        "suspendable": (ProductStatus.ACTIVE, ProductStatus.TRIAL),
        "suspended": ProductStatus.SUSPENDED,
        "cancelled": ProductStatus.CANCELLED,
    }
    return _list(request, "billing/operator_product_list.html", context)


def _operator_product_action(
    request: HttpRequest, product_id: int, action: Any, done: str, **kwargs: Any
) -> HttpResponse:
    cp = queries.any_product(product_id)
    try:
        action(request.actor, customer_product=cp, **kwargs)  # type: ignore[attr-defined]
    except ServiceError as exc:
        _error(request, exc)
    else:
        messages.success(request, done % {"product": cp.product.name, "org": cp.org.name})
    return redirect("operator_product_list", org_slug=request.org.slug)  # type: ignore[attr-defined]


@require_POST
@require_perm(OPERATOR_BILLING)
def operator_product_suspend(request: HttpRequest, product_id: int) -> HttpResponse:
    done = _("%(product)s of %(org)s was suspended.")
    return _operator_product_action(request, product_id, services.suspend_customer_product, done)


@require_POST
@require_perm(OPERATOR_BILLING)
def operator_product_reactivate(request: HttpRequest, product_id: int) -> HttpResponse:
    done = _("%(product)s of %(org)s was reactivated.")
    return _operator_product_action(request, product_id, services.reactivate_customer_product, done)


@require_POST
@require_perm(OPERATOR_BILLING)
def operator_product_cancel(request: HttpRequest, product_id: int) -> HttpResponse:
    done = _("%(product)s of %(org)s was cancelled.")
    return _operator_product_action(request, product_id, services.cancel_customer_product, done, immediately=True)
