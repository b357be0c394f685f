"""Operator pages of the catalog: thin views over partnerhub.catalog.services and queries.

Only the operator organisation can hold ``operator.program.manage``, so these pages exist only under
the operator's ``o/<org_slug>/``; anybody else gets 403 (their own organisation) or 404.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from partnerhub.access.decorators import require_perm
from partnerhub.access.perms import Perm
from partnerhub.catalog import queries, services
from partnerhub.catalog.forms import PRICE_CURRENCIES, CategoryForm, ProductFilterForm, ProductForm, price_field_name
from partnerhub.catalog.models import Product
from partnerhub.core.errors import ServiceError
from partnerhub.core.money import round_money

STATUS_FILTER: dict[str, bool | None] = {"": None, "active": True, "retired": False}


def _price_columns(nodes: list[queries.CategoryNode]) -> list[str]:
    """CHF and EUR always, other currencies only when some listed product is priced in them."""
    used = {price.currency for node in nodes for product in node.products for price in product.prices.all()}
    return [c for c in PRICE_CURRENCIES if c in {"CHF", "EUR"} or c in used]


def _product_rows(products: list[Product], columns: list[str]) -> list[dict[str, Any]]:
    rows = []
    for product in products:
        prices = queries.prices_of(product)
        shown = [round_money(prices[c], c) if c in prices else None for c in columns]
        rows.append({"product": product, "prices": shown})
    return rows


@require_perm(Perm.OPERATOR_PROGRAM_MANAGE)
def product_list(request: HttpRequest) -> HttpResponse:
    org = request.org  # type: ignore[attr-defined]
    form = ProductFilterForm(request.GET or None)
    filters: dict[str, Any] = {"category": None, "kind": None, "status": ""}
    if form.is_valid():
        filters.update({k: v for k, v in form.cleaned_data.items() if v})
    nodes = queries.catalog_tree(
        category=filters["category"],
        kind=filters["kind"] or None,
        active=STATUS_FILTER[filters["status"]],
        keep_empty=not any(form.is_bound and v for v in filters.values()),
    )
    columns = _price_columns(nodes)
    groups = [{"category": node.category, "rows": _product_rows(node.products, columns)} for node in nodes]
    context = {
        "org": org,
        "form": form,
        "groups": groups,
        "columns": columns,
        "has_categories": queries.categories().exists(),
    }
    return render(request, "catalog/product_list.html", context)


def _product_initial(product: Product) -> dict[str, Any]:
    initial: dict[str, Any] = {
        "category": product.category_id,
        "name": product.name,
        "sku": product.sku,
        "description": product.description,
        "kind": product.kind,
        "billing_period": product.billing_period,
        "licence_kind": product.licence_kind,
        "unit_label": product.unit_label,
        "trial_days": product.trial_days,
    }
    for currency, amount in queries.prices_of(product).items():
        # Stored with four decimals; shown with the currency's own (9.9200 → 9.92).
        initial[price_field_name(currency)] = round_money(amount, currency)
    return initial


@require_perm(Perm.OPERATOR_PROGRAM_MANAGE)
def product_create(request: HttpRequest) -> HttpResponse:
    org = request.org  # type: ignore[attr-defined]
    if not queries.categories().exists():
        messages.warning(request, _("Create a category first: every product belongs to one."))
        return redirect("catalog_category_create", org_slug=org.slug)
    form = ProductForm(request.POST or None, initial={"trial_days": 0})
    if request.method == "POST" and form.is_valid():
        try:
            product = services.create_product(
                request.actor,  # type: ignore[attr-defined]
                prices=form.prices(),
                **form.product_data(),
            )
        except ServiceError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("Product %(name)s created.") % {"name": product.name})
            return redirect("catalog_product_list", org_slug=org.slug)
    return render(request, "catalog/product_form.html", {"org": org, "form": form, "product": None})


@require_perm(Perm.OPERATOR_PROGRAM_MANAGE)
def product_edit(request: HttpRequest, sku: str) -> HttpResponse:
    org = request.org  # type: ignore[attr-defined]
    product = queries.product_by_sku(sku, include_retired=True)
    form = ProductForm(request.POST or None, initial=_product_initial(product))
    if request.method == "POST" and form.is_valid():
        try:
            product = services.update_product(
                request.actor,  # type: ignore[attr-defined]
                product=product,
                prices=form.prices(),
                **form.product_data(),
            )
        except ServiceError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("Saved the changes to %(name)s.") % {"name": product.name})
            return redirect("catalog_product_list", org_slug=org.slug)
    return render(request, "catalog/product_form.html", {"org": org, "form": form, "product": product})


@require_POST
@require_perm(Perm.OPERATOR_PROGRAM_MANAGE)
def product_retire(request: HttpRequest, sku: str) -> HttpResponse:
    org = request.org  # type: ignore[attr-defined]
    product = queries.product_by_sku(sku, include_retired=True)
    try:
        services.retire_product(request.actor, product=product)  # type: ignore[attr-defined]
    except ServiceError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(
            request,
            _("%(name)s is retired: it can no longer be ordered; customers who have it keep it.")
            % {"name": product.name},
        )
    return redirect("catalog_product_list", org_slug=org.slug)


@require_POST
@require_perm(Perm.OPERATOR_PROGRAM_MANAGE)
def product_reactivate(request: HttpRequest, sku: str) -> HttpResponse:
    org = request.org  # type: ignore[attr-defined]
    product = queries.product_by_sku(sku, include_retired=True)
    try:
        services.reactivate_product(request.actor, product=product)  # type: ignore[attr-defined]
    except ServiceError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("%(name)s is on sale again.") % {"name": product.name})
    return redirect("catalog_product_list", org_slug=org.slug)


@require_perm(Perm.OPERATOR_PROGRAM_MANAGE)
def category_list(request: HttpRequest) -> HttpResponse:
    org = request.org  # type: ignore[attr-defined]
    rows = queries.categories().annotate(product_count=Count("products"))
    return render(request, "catalog/category_list.html", {"org": org, "categories": rows})


@require_perm(Perm.OPERATOR_PROGRAM_MANAGE)
def category_create(request: HttpRequest) -> HttpResponse:
    org = request.org  # type: ignore[attr-defined]
    form = CategoryForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            category = services.create_category(request.actor, **form.cleaned_data)  # type: ignore[attr-defined]
        except ServiceError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("Category %(name)s created.") % {"name": category.name})
            return redirect("catalog_category_list", org_slug=org.slug)
    return render(request, "catalog/category_form.html", {"org": org, "form": form, "category": None})


@require_perm(Perm.OPERATOR_PROGRAM_MANAGE)
def category_edit(request: HttpRequest, category_id: int) -> HttpResponse:
    org = request.org  # type: ignore[attr-defined]
    category = queries.category_by_id(category_id)
    initial = {"name": category.name, "slug": category.slug, "position": category.position}
    form = CategoryForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            category = services.update_category(
                request.actor,  # type: ignore[attr-defined]
                category=category,
                **form.cleaned_data,
            )
        except ServiceError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("Saved the changes to %(name)s.") % {"name": category.name})
            return redirect("catalog_category_list", org_slug=org.slug)
    return render(request, "catalog/category_form.html", {"org": org, "form": form, "category": category})
