"""An approved partner's own pages: its profile and its staff's partner permissions."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from partnerhub.access.decorators import check, require_perm
from partnerhub.access.perms import Perm
from partnerhub.core.errors import ServiceError
from partnerhub.orgs.models import Organisation
from partnerhub.partners import queries
from partnerhub.partners.forms import ProfileForm, StaffForm
from partnerhub.partners.services import partner as services

PROFILE_FIELDS = (
    "company_name",
    "register_number",
    "country",
    "website",
    "description",
    "contact_email",
    "contact_phone",
    "listed_in_directory",
)


def _add_errors(form: ProfileForm | StaffForm, exc: ServiceError) -> None:
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc)


@require_perm(Perm.ORG_VIEW)
def partner_profile(request: HttpRequest) -> HttpResponse:
    """The partner's profile; those with partner.portal.manage change it (others see it)."""
    org = request.org  # type: ignore[attr-defined]
    profile = services.profile_of(org)
    may_edit = Perm.PARTNER_PORTAL_MANAGE in request.perms  # type: ignore[attr-defined]
    form = None
    if request.method == "POST":
        check(request, Perm.PARTNER_PORTAL_MANAGE)
        form = ProfileForm(request.POST)
        if form.is_valid():
            try:
                services.update_profile(request.actor, org=org, **form.cleaned_data)  # type: ignore[attr-defined]
            except ServiceError as exc:
                _add_errors(form, exc)
            else:
                messages.success(request, _("Partner profile saved."))
                return redirect("partner_profile", org_slug=org.slug)
    elif may_edit:
        form = ProfileForm(initial={name: getattr(profile, name) for name in PROFILE_FIELDS})
    context = {"org": org, "profile": profile, "form": form, "may_edit": may_edit}
    return render(request, "partners/partner_profile.html", context, status=400 if request.method == "POST" else 200)


def _customer_choices(org: Organisation) -> list[tuple[int, str]]:
    return [(customer.pk, customer.name) for customer in services.active_customers(org)]


def _staff_forms(org: Organisation, bound: tuple[int, StaffForm] | None = None) -> list[tuple[Any, StaffForm]]:
    customers = _customer_choices(org)
    rows = []
    for row in queries.staff_rows(org):
        if bound is not None and bound[0] == row.membership.pk:
            form = bound[1]
        else:
            initial = {
                "perms": [str(p) for p in row.perms],
                "assigned_customers_only": row.membership.assigned_customers_only,
                "customers": sorted(row.customer_ids),
            }
            form = StaffForm(prefix=f"m{row.membership.pk}", initial=initial, customers=customers)
        rows.append((row, form))
    return rows


@require_perm(Perm.PARTNER_PORTAL_MANAGE)
def partner_staff(request: HttpRequest) -> HttpResponse:
    """The partner's members with their partner permissions, assigned-only switch and customers."""
    org = request.org  # type: ignore[attr-defined]
    return _staff_page(request, org)


def _staff_page(
    request: HttpRequest, org: Organisation, bound: tuple[int, StaffForm] | None = None, status: int = 200
) -> HttpResponse:
    context = {
        "org": org,
        "rows": _staff_forms(org, bound),
        "has_customers": bool(services.active_customers(org)),
        "partner_perms": [p for p in Perm if p.side == "partner"],
    }
    return render(request, "partners/partner_staff.html", context, status=status)


@require_POST
@require_perm(Perm.PARTNER_PORTAL_MANAGE)
def partner_staff_change(request: HttpRequest, membership_id: int) -> HttpResponse:
    org = request.org  # type: ignore[attr-defined]
    membership = queries.staff_member(org, membership_id)
    form = StaffForm(request.POST, prefix=f"m{membership.pk}", customers=_customer_choices(org))
    if form.is_valid():
        # Permissions the role gives are shown checked but disabled: browsers do not send them.
        by_role = services.role_partner_perms(membership)
        change = services.StaffChange(
            perms={*form.cleaned_data["perms"], *(str(p) for p in by_role)},
            assigned_customers_only=form.cleaned_data["assigned_customers_only"],
            customer_ids=form.cleaned_data["customers"],
        )
        try:
            services.update_staff(request.actor, membership=membership, change=change)  # type: ignore[attr-defined]
        except ServiceError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, _("Partner rights of %(name)s saved.") % {"name": membership.user.display_name})
            return redirect("partner_staff", org_slug=org.slug)
    return _staff_page(request, org, bound=(membership.pk, form), status=400)
