"""Requesting partner status (seed 000 "Partnerstatus anfragen"): the form with its live eligibility
check, the organisation's applications, withdrawing a pending one — and the two explicit errors of the
seed: an account without an organisation, a member without ``partner_status.request``.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, cast

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from partnerhub.access.checks import resolve_access
from partnerhub.access.decorators import browser_sessions, login_only, require_perm
from partnerhub.access.perms import Perm, Role
from partnerhub.access.policy import visible_orgs
from partnerhub.core.errors import ServiceError
from partnerhub.orgs import queries as org_queries
from partnerhub.orgs.models import Membership, Organisation
from partnerhub.partners import queries
from partnerhub.partners.forms import ApplicationForm
from partnerhub.partners.models import Application, PartnerProfile, Program
from partnerhub.partners.services import applications as services
from partnerhub.partners.services import eligibility, get_program

View = Callable[..., HttpResponseBase]


@login_only
def partner_status_entry(request: HttpRequest) -> HttpResponse:
    """The way in from anywhere: the working organisation's page, or why there is none yet."""
    orgs = list(visible_orgs(request.user))  # type: ignore[arg-type]
    if not orgs:
        return render(request, "partners/no_organisation.html", status=200)
    active = next((org for org in orgs if org.pk == request.user.active_org_id), orgs[0])  # type: ignore[union-attr]
    return redirect("partner_status", org_slug=active.slug)


def _who_may_request(org: Organisation) -> list[Membership]:
    """The owners and admins of `org` (whom a member asks for partner status), by role then name."""
    rows = org_queries.members(org).filter(role__in=[Role.OWNER, Role.ADMIN])
    return sorted(rows, key=lambda m: (m.role != Role.OWNER, m.user.display_name.lower()))


def explain_refusal(view: View) -> View:
    """A member who may not request partner status reads who can (403), instead of a bare refusal."""

    @wraps(view)
    def wrapper(request: HttpRequest, org_slug: str, *args: Any, **kwargs: Any) -> HttpResponseBase:
        try:
            return view(request, org_slug, *args, **kwargs)
        except PermissionDenied:
            org, access = resolve_access(request.user, org_slug, sessions=browser_sessions(request), web=True)  # type: ignore[arg-type]
            request.org, request.perms = org, access.perms  # type: ignore[attr-defined]
            member = org_queries.membership_of(request.user, org)  # type: ignore[arg-type]
            context = {"org": org, "admins": _who_may_request(org) if member else [], "member": member}
            return render(request, "partners/partner_status_forbidden.html", context, status=403)

    return cast(View, wrapper)


def _status_context(request: HttpRequest, org: Organisation, form: ApplicationForm | None) -> dict[str, Any]:
    program = get_program()
    pending = queries.pending_application(org)
    profile = PartnerProfile.objects.filter(org=org).first() if org.is_partner else None
    if form is None and pending is None and not org.is_partner and not org.is_operator:
        form = ApplicationForm(initial=_initial(request, org))
    return {
        "org": org,
        "form": form,
        "pending": pending,
        "pending_rules": [eligibility.rule_label(code) for code in pending.unmet_rules] if pending else [],
        "profile": profile,
        "history": list(queries.applications_of(org)[:20]),
        **_rules_context(program, form),
    }


def _rules_context(program: Program, form: ApplicationForm | None) -> dict[str, Any]:
    rules = eligibility.evaluate(program, form.candidate()) if form is not None else []
    return {"rules": rules, "any_unmet": any(not rule.met for rule in rules), "has_rules": _has_rules(program)}


def _has_rules(program: Program) -> bool:
    return bool(
        program.registered_company_required or program.active_website_required or eligibility.volumes_of(program)
    )


def _initial(request: HttpRequest, org: Organisation) -> dict[str, Any]:
    user = request.user
    return {
        "company_name": org.name,
        "country": org.country,
        "website": org.website,
        "contact_name": getattr(user, "name", ""),
        "contact_email": getattr(user, "email", ""),
        "currency": "EUR" if org.country not in ("CH", "LI") else "CHF",
    }


@explain_refusal
@require_perm(Perm.PARTNER_STATUS_REQUEST)
def partner_status(request: HttpRequest) -> HttpResponse:
    """The organisation's partner status: the request form, the pending request, or the partnership."""
    org = request.org  # type: ignore[attr-defined]
    form = None
    if request.method == "POST":
        form = ApplicationForm(request.POST)
        if form.is_valid():
            try:
                services.submit_application(
                    request.actor,  # type: ignore[attr-defined]
                    org=org,
                    data=services.ApplicationData(**{k: str(v) for k, v in form.cleaned_data.items()}),
                )
            except ServiceError as exc:
                _add_errors(form, exc)
            else:
                messages.success(request, _("Thank you: your request was sent. Our partner team reviews it shortly."))
                return redirect("partner_status", org_slug=org.slug)
    status = 400 if form is not None else 200
    return render(request, "partners/partner_status.html", _status_context(request, org, form), status=status)


def _add_errors(form: ApplicationForm, exc: ServiceError) -> None:
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc)


@require_POST
@explain_refusal
@require_perm(Perm.PARTNER_STATUS_REQUEST)
def partner_status_check(request: HttpRequest) -> HttpResponse:
    """The live check (htmx, on every input): which eligibility rules the form's values do not meet."""
    form = ApplicationForm(request.POST)
    form.is_valid()
    return render(request, "partners/partner_status.html#eligibility", _rules_context(get_program(), form))


@require_POST
@explain_refusal
@require_perm(Perm.PARTNER_STATUS_REQUEST)
def application_withdraw(request: HttpRequest, application_id: int) -> HttpResponse:
    org = request.org  # type: ignore[attr-defined]
    application: Application = queries.application_of(org, application_id)
    try:
        services.withdraw_application(request.actor, application=application)  # type: ignore[attr-defined]
    except ServiceError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("Your request for partner status was withdrawn."))
    return redirect("partner_status", org_slug=org.slug)
