"""Custom columns of My customers (seed 002 "Tabelle bearbeiten"): define, rename, reorder, delete.

Defining needs ``partner.portal.manage`` on the partner (filling values is on the customer pages).
"""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from partnerhub.access.decorators import require_perm
from partnerhub.access.perms import Perm
from partnerhub.core.errors import ServiceError
from partnerhub.customers import queries, services
from partnerhub.customers.forms import PropertyEditForm, PropertyForm
from partnerhub.customers.views import _add_errors
from partnerhub.partnerships.models import CustomProperty, CustomValue, PropertyKind

GET_OR_POST = require_http_methods(["GET", "POST"])


def _property(request: HttpRequest, prop_id: int) -> CustomProperty:
    """One of the partner's properties (another partner's id answers 404)."""
    prop = CustomProperty.objects.filter(partner=request.org, pk=prop_id).first()  # type: ignore[attr-defined]
    if prop is None:
        raise Http404
    return prop


@require_perm(Perm.PARTNER_PORTAL_MANAGE)
@GET_OR_POST
def property_list(request: HttpRequest) -> HttpResponse:
    """The partner's custom columns in order, and the form for a new one."""
    org = request.org  # type: ignore[attr-defined]
    form = PropertyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            prop = services.create_property(
                request.actor,  # type: ignore[attr-defined]
                partner=org,
                name=form.cleaned_data["name"],
                kind=form.cleaned_data["kind"],
                choices=form.cleaned_data["choices"],
            )
        except ServiceError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, _("The column %(name)s is added.") % {"name": prop.name})
            return redirect("customer_property_list", org.slug)
    props = queries.properties_of(org)
    context = {"org": org, "form": form, "props": props, "kinds": dict(PropertyKind.choices)}
    return render(request, "customers/property_list.html", context, status=400 if form.errors else 200)


@require_perm(Perm.PARTNER_PORTAL_MANAGE)
@GET_OR_POST
def property_edit(request: HttpRequest, prop_id: int) -> HttpResponse:
    """Rename a column or change its choices (the key and the type stay)."""
    org = request.org  # type: ignore[attr-defined]
    prop = _property(request, prop_id)
    initial = {"name": prop.name, "choices": "\n".join(prop.choices)}
    form = PropertyEditForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_property(
                request.actor,  # type: ignore[attr-defined]
                prop,
                name=form.cleaned_data["name"],
                choices=form.cleaned_data["choices"] if prop.kind == PropertyKind.CHOICE else None,
            )
        except ServiceError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, _("The column is saved."))
            return redirect("customer_property_list", org.slug)
    context = {"org": org, "prop": prop, "form": form, "is_choice": prop.kind == PropertyKind.CHOICE}
    return render(request, "customers/property_edit.html", context, status=400 if form.errors else 200)


@require_perm(Perm.PARTNER_PORTAL_MANAGE)
@require_POST
def property_move(request: HttpRequest, prop_id: int) -> HttpResponse:
    """Move a column one place up (left) or down (right)."""
    org = request.org  # type: ignore[attr-defined]
    prop = _property(request, prop_id)
    services.move_property(request.actor, prop, up=request.POST.get("direction") == "up")  # type: ignore[attr-defined]
    return redirect("customer_property_list", org.slug)


@require_perm(Perm.PARTNER_PORTAL_MANAGE)
@GET_OR_POST
def property_delete(request: HttpRequest, prop_id: int) -> HttpResponse:
    """Ask, then delete a column with every customer's value of it."""
    org = request.org  # type: ignore[attr-defined]
    prop = _property(request, prop_id)
    if request.method == "POST":
        count = services.delete_property(request.actor, prop)  # type: ignore[attr-defined]
        messages.success(
            request,
            _("The column %(name)s and its %(count)d values are deleted.") % {"name": prop.name, "count": count},
        )
        return redirect("customer_property_list", org.slug)
    context = {"org": org, "prop": prop, "count": CustomValue.objects.filter(prop=prop).count()}
    return render(request, "customers/property_delete.html", context)
