"""My customers, a customer's detail and its custom values, the export, and "New client" (seeds 002, 004).

The organisation in the URL is the partner; the customers are those ``policy.managed_partnerships``
returns for the user (a customer outside it answers 404, whatever its id).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from partnerhub.access.decorators import require_perm
from partnerhub.access.perms import Perm
from partnerhub.access.policy import partner_access, products_for
from partnerhub.billing.models import CustomerProduct, Invoice, Order
from partnerhub.core.errors import ServiceError
from partnerhub.core.htmx import render_page
from partnerhub.customers import detail, exports, queries, services
from partnerhub.customers.forms import ClientForm, CustomerFilterForm, ValuesForm
from partnerhub.orgs.models import Membership

DETAIL_ROWS = 10
HISTORY_ROWS = 50


def reverse_or_none(name: str, *args: Any) -> str | None:
    """A URL of another area, or None while that area has not registered it yet."""
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return None


def _list_state(request: HttpRequest) -> tuple[CustomerFilterForm, list[Any], queries.Sort]:
    org = request.org  # type: ignore[attr-defined]
    props = queries.properties_of(org)
    form = CustomerFilterForm(request.GET or None, props=props)
    return form, props, form.sort_order()


@require_perm(Perm.PARTNER_CUSTOMERS_ADMINISTER)
@require_GET
def customer_list(request: HttpRequest) -> HttpResponse:
    """The customers the user manages for the partner: search, filters, sort, keyset pages."""
    org = request.org  # type: ignore[attr-defined]
    form, props, sort = _list_state(request)
    filters = form.filters()
    rows = queries.customer_rows(request.user, org, filters=filters, sort=sort)  # type: ignore[arg-type]
    cursor = form.cursor_value()
    bad_cursor = False
    try:
        page = queries.page_of(rows, sort, cursor=cursor or None, size=queries.PAGE_SIZE)
    except queries.BadCursor:
        bad_cursor = True
        page = queries.page_of(rows, sort, size=queries.PAGE_SIZE)
    links = _sort_links(sort, props)
    context = {
        "org": org,
        "form": form,
        "props": props,
        "sort": sort,
        "rows": queries.columns_for(page.rows, props),
        "page": page,
        "paged": bool(cursor) and not bad_cursor,
        "bad_cursor": bad_cursor,
        "filtering": form.filtering,
        "sort_links": links,
        "prop_headers": [(prop, links[queries.PROP_PREFIX + prop.key]) for prop in props],
        "can_create": Perm.PARTNER_CUSTOMERS_CREATE in request.perms,  # type: ignore[attr-defined]
        "can_define": Perm.PARTNER_PORTAL_MANAGE in request.perms,  # type: ignore[attr-defined]
        "partnerships_url": reverse_or_none("partner_partnerships", org.slug),
    }
    return render_page(request, "customers/customer_list.html", context, partial="rows")


def _sort_links(sort: queries.Sort, props: list[Any]) -> dict[str, dict[str, Any]]:
    """For each sortable column: the sort parameter its header link sets and its current direction."""
    keys = [*queries.BASE_SORTS, *(queries.PROP_PREFIX + p.key for p in props)]
    links = {}
    for key in keys:
        current = sort.key == key
        links[key] = {
            "param": ("" if current and sort.descending else "-") + key if current else key,
            "state": ("descending" if sort.descending else "ascending") if current else "none",
        }
    return links


@require_perm(Perm.PARTNER_CUSTOMERS_ADMINISTER)
@require_GET
def customer_export(request: HttpRequest) -> HttpResponseBase:
    """My customers with the list's filters and sort as CSV or XLSX (direct download up to the limit)."""
    org = request.org  # type: ignore[attr-defined]
    form, props, sort = _list_state(request)
    fmt = request.GET.get("format", "csv")
    if fmt not in exports.FORMATS:
        fmt = "csv"
    rows = queries.customer_rows(request.user, org, filters=form.filters(), sort=sort)  # type: ignore[arg-type]
    count = rows.count()
    limit = int(settings.EXPORT_SYNC_MAX_ROWS)
    if count > limit:
        context = {"org": org, "count": count, "limit": limit, "query": request.GET.urlencode()}
        return render(request, "customers/export_too_large.html", context, status=400)
    services.record_export(request.actor, partner=org, fmt=fmt, rows=count)  # type: ignore[attr-defined]
    return exports.response(fmt, org.slug, rows, sort, props)


def _detail_context(request: HttpRequest, customer_id: int) -> dict[str, Any]:
    org = request.org  # type: ignore[attr-defined]
    partnership = services.managed_customer(request.actor, org, customer_id)  # type: ignore[attr-defined]
    customer = partnership.customer
    access = partner_access(request.user, org, customer)  # type: ignore[arg-type]
    products = list(CustomerProduct.objects.filter(org=customer).select_related("product").order_by("-id"))
    covered = set(products_for(request.user, customer, Perm.ORG_VIEW, access=access).values_list("pk", flat=True))  # type: ignore[arg-type]
    props = queries.properties_of(org)
    cells = detail.values_of(customer, props)
    billing = Perm.BILLING_VIEW in access.perms
    scopes = [perm for perm in Perm if perm.value in (partnership.grant.scopes or [])]
    return {
        "org": org,
        "partnership": partnership,
        "customer": customer,
        "grant": partnership.grant,
        "access": access,
        "scopes": scopes,
        "products": [(cp, cp.pk in covered) for cp in products],
        "members": list(Membership.objects.filter(org=customer).select_related("user").order_by("role", "user__email")),
        "cells": cells,
        "values_form": ValuesForm(props=props, initial={cell.prop.key: cell.raw for cell in cells}),
        "can_fill": bool(props),
        "billing": billing,
        "orders": list(Order.objects.filter(org=customer).order_by("-id")[:DETAIL_ROWS]) if billing else [],
        "invoices": list(Invoice.objects.filter(org=customer).order_by("-id")[:DETAIL_ROWS]) if billing else [],
        "history": list(detail.grant_history(org, customer)[:HISTORY_ROWS]),
        "pricing_plan": getattr(customer, "pricing_plan", None),
        "partnerships_url": reverse_or_none("partner_partnerships", org.slug),
    }


@require_perm(Perm.PARTNER_CUSTOMERS_ADMINISTER)
@require_GET
def customer_detail(request: HttpRequest, customer_id: int) -> HttpResponse:
    """One managed customer: data, values, members, products (what the grant leaves out marked), billing, grant."""
    return render(request, "customers/customer_detail.html", _detail_context(request, customer_id))


@require_perm(Perm.PARTNER_CUSTOMERS_ADMINISTER)
@require_POST
def customer_values(request: HttpRequest, customer_id: int) -> HttpResponse:
    """Save a customer's custom values (all or nothing); errors are shown next to the fields."""
    org = request.org  # type: ignore[attr-defined]
    context = _detail_context(request, customer_id)
    props = [cell.prop for cell in context["cells"]]
    form = ValuesForm(request.POST, props=props)
    if form.is_valid():
        try:
            services.set_values(
                request.actor,  # type: ignore[attr-defined]
                partner=org,
                customer=context["customer"],
                values=form.raw_values(),
            )
        except ServiceError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, _("The additional fields are saved."))
            return redirect("customer_detail", org.slug, customer_id)
    context["values_form"] = form
    return render(request, "customers/customer_detail.html", context, status=400)


def _add_errors(form: Any, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for key, errors in exc.message_dict.items():
            form.add_error(key if key in form.fields else None, errors)
    else:
        form.add_error(None, exc)


@require_perm(Perm.PARTNER_CUSTOMERS_CREATE)
@require_http_methods(["GET", "POST"])
def client_new(request: HttpRequest) -> HttpResponse:
    """New client (seed 004): general data, address, additional fields; creates the organisation."""
    org = request.org  # type: ignore[attr-defined]
    props = queries.properties_of(org)
    if request.method == "POST":
        form = ClientForm(request.POST)
        values_form = ValuesForm(request.POST, props=props)
        if form.is_valid() and values_form.is_valid():
            try:
                partnership = services.create_client(
                    request.actor,  # type: ignore[attr-defined]
                    partner=org,
                    values=values_form.raw_values(),
                    **form.service_kwargs(),
                )
            except ServiceError as exc:
                rest = _split(exc, props, values_form)
                if rest is not None:
                    _add_errors(form, rest)
            else:
                messages.success(
                    request,
                    _("%(name)s is created. %(email)s got an email with a registration link.")
                    % {"name": partnership.customer.name, "email": form.cleaned_data["contact_email"]},
                )
                return redirect("customer_detail", org.slug, partnership.customer_id)
    else:
        form = ClientForm(initial={"language": request.LANGUAGE_CODE})
        values_form = ValuesForm(props=props)
    context = {"org": org, "form": form, "values_form": values_form}
    return render(
        request, "customers/client_new.html", context, status=400 if form.errors or values_form.errors else 200
    )


def _split(exc: ValidationError, props: list[Any], values_form: ValuesForm) -> ValidationError | None:
    """Errors about custom values go to the additional fields; the rest (if any) is for the client form."""
    if not hasattr(exc, "error_dict"):
        return exc
    keys = {p.key for p in props}
    rest: dict[str, list[str]] = {}
    for key, errors in exc.message_dict.items():
        if key in keys:
            values_form.add_error(key, errors)
        else:
            rest[key] = errors
    return ValidationError(rest) if rest else None
