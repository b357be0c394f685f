"""Pages of the delegated-access area: thin views over partnerhub.delegation.services and queries."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from partnerhub.access.decorators import browser_sessions, login_only, require_perm
from partnerhub.access.perms import Perm
from partnerhub.access.policy import DELEGABLE_PERMS
from partnerhub.core.errors import ServiceError
from partnerhub.delegation import queries, services
from partnerhub.delegation.browser import forget, remember
from partnerhub.delegation.forms import (
    DeskSearchForm,
    NotificationsForm,
    SessionListForm,
    StartSessionForm,
    SupportAccessForm,
)
from partnerhub.delegation.models import ManagementSession, Via
from partnerhub.orgs.models import Organisation
from partnerhub.orgs.queries import ordered

HISTORY_SIZE = 50

# --- starting and ending sessions ------------------------------------------------------------------------


def _session_start(request: HttpRequest, *, acting_org: Organisation, customer: Organisation) -> HttpResponse:
    form = StartSessionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            session = services.start_session(
                request.actor,  # type: ignore[attr-defined]
                acting_org=acting_org,
                customer=customer,
                reason=form.cleaned_data["reason"],
            )
        except ServiceError as exc:
            form.add_error(None, exc)
        else:
            remember(request, session)
            messages.success(request, _("You are now acting for %(customer)s.") % {"customer": customer.name})
            return redirect(_next_in(request, customer))
    here = browser_sessions(request).get(str(customer.pk))
    open_here = queries.open_sessions(request.user, [here] if here else [])  # type: ignore[arg-type]
    context = {
        "org": acting_org,
        "customer": customer,
        "form": form,
        "via_support": acting_org.is_operator,
        "perms": ordered(queries.session_scopes(request.user, acting_org, customer)),  # type: ignore[arg-type]
        "open_session": open_here[0] if open_here else None,
        "next": _next_in(request, customer),
    }
    return render(request, "delegation/session_start.html", context)


def _next_in(request: HttpRequest, customer: Organisation) -> str:
    """Where the session begins: a page of the customer named by ``next`` (e.g. "Order for client"),
    else its overview. Nothing outside the customer's pages is followed."""
    overview = reverse("org_overview", kwargs={"org_slug": customer.slug})
    wanted = request.POST.get("next") or request.GET.get("next") or ""
    if wanted.startswith(overview) and url_has_allowed_host_and_scheme(wanted, allowed_hosts=None):
        return wanted
    return overview


@require_perm(Perm.PARTNER_CUSTOMERS_ADMINISTER)
def partner_session_start(request: HttpRequest, customer_id: int) -> HttpResponse:
    """Partner staff open a customer they administer (a grant in force) in a management session."""
    partner = request.org  # type: ignore[attr-defined]
    customer = queries.managed_customer(request.user, partner, customer_id)  # type: ignore[arg-type]
    return _session_start(request, acting_org=partner, customer=customer)


@require_perm(Perm.OPERATOR_SUPPORT_ACCESS)
def support_session_start(request: HttpRequest, customer_id: int) -> HttpResponse:
    """Operator support staff open a customer that granted support access in a management session."""
    operator = request.org  # type: ignore[attr-defined]
    customer = queries.supported_customer(customer_id)
    return _session_start(request, acting_org=operator, customer=customer)


def _after_end(session: ManagementSession) -> str:
    acting = session.acting_org
    if session.via == Via.SUPPORT:
        return reverse("support_desk", kwargs={"org_slug": acting.slug})
    try:
        return reverse("customer_list", kwargs={"org_slug": acting.slug})
    except NoReverseMatch:
        return reverse("org_overview", kwargs={"org_slug": acting.slug})


@require_POST
@login_only
def session_end(request: HttpRequest, session_id: int) -> HttpResponse:
    """The session's own user ends it (anyone else: 404); back to where they came from."""
    session = queries.own_session(request.user, session_id)  # type: ignore[arg-type]
    session = services.end_session(request.actor, session)  # type: ignore[attr-defined]
    forget(request, session.customer_id)
    messages.success(
        request, _("Your management session for %(customer)s has ended.") % {"customer": session.customer.name}
    )
    return redirect(_after_end(session))


@require_perm(Perm.AUDIT_VIEW)
def session_list(request: HttpRequest) -> HttpResponse:
    """Who acted for this organisation (or, for a partner or the operator, where its staff acted)."""
    org = request.org  # type: ignore[attr-defined]
    form = SessionListForm(request.GET)
    form.is_valid()
    data = form.cleaned_data
    side = data.get("side") or queries.SIDE_CUSTOMER
    before, after = data.get("before"), data.get("after")
    page = queries.sessions_page(org, side=side, before=before, after=after)
    context = {
        "org": org,
        "side": side,
        "show_sides": org.is_partner or org.is_operator,
        "page": page,
        "paged": before is not None or after is not None,
        "can_terminate": side == queries.SIDE_CUSTOMER and Perm.PROVIDERS_MANAGE in request.perms,  # type: ignore[attr-defined]
    }
    return render(request, "delegation/session_list.html", context)


@require_POST
@require_perm(Perm.PROVIDERS_MANAGE)
def session_terminate(request: HttpRequest, session_id: int) -> HttpResponse:
    """The customer ends a partner's or support's open session in its organisation at once."""
    org = request.org  # type: ignore[attr-defined]
    session = queries.session_in(org, session_id)
    try:
        services.terminate_session(request.actor, session)  # type: ignore[attr-defined]
    except ServiceError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("The session of %(user)s has ended.") % {"user": session.user.display_name})
    return redirect("management_session_list", org_slug=org.slug)


# --- the customer's support access page -------------------------------------------------------------------


def _support_page(request: HttpRequest, form: SupportAccessForm | None = None) -> HttpResponse:
    org = request.org  # type: ignore[attr-defined]
    perms = request.perms  # type: ignore[attr-defined]
    manage = Perm.PROVIDERS_MANAGE in perms
    if manage and form is None:
        form = SupportAccessForm(perms=ordered(DELEGABLE_PERMS & perms))
    history = list(queries.support_history(org)[:HISTORY_SIZE])
    context = {
        "org": org,
        "manage": manage,
        "form": form,
        "in_force": next((s for s in history if s.is_in_force), None),
        "history": history,
        "can_notify": Perm.ORG_SETTINGS_MANAGE in perms,
        "notify_form": NotificationsForm(initial={"notify": org.notify_management_sessions}),
    }
    return render(request, "delegation/support_access.html", context, status=400 if form and form.errors else 200)


@require_perm(Perm.ORG_VIEW)
def support_access(request: HttpRequest) -> HttpResponse:
    """Support access in force and its history, the VIP code, the session emails; the grant form for
    members with ``providers.manage``. The customer's own business: not shown inside a management session."""
    if request.access.delegated:  # type: ignore[attr-defined]
        raise Http404
    return _support_page(request)


@require_POST
@require_perm(Perm.PROVIDERS_MANAGE)
def support_access_grant(request: HttpRequest) -> HttpResponse:
    org = request.org  # type: ignore[attr-defined]
    form = SupportAccessForm(request.POST, perms=ordered(DELEGABLE_PERMS & request.perms))  # type: ignore[attr-defined]
    if form.is_valid():
        try:
            support = services.grant_support_access(
                request.actor,  # type: ignore[attr-defined]
                customer=org,
                days=form.cleaned_data["days"],
                note=form.cleaned_data["note"],
                scopes=form.cleaned_data["scopes"],
            )
        except ServiceError as exc:
            form.add_error(None, exc)
        else:
            until = date_format(timezone.localtime(support.valid_until), "DATETIME_FORMAT")
            messages.success(request, _("Support access granted until %(until)s.") % {"until": until})
            return redirect("support_access", org_slug=org.slug)
    return _support_page(request, form)


@require_POST
@require_perm(Perm.PROVIDERS_MANAGE)
def support_access_revoke(request: HttpRequest, support_id: int) -> HttpResponse:
    org = request.org  # type: ignore[attr-defined]
    support = queries.support_access_in(org, support_id)
    try:
        services.revoke_support_access(request.actor, support=support)  # type: ignore[attr-defined]
    except ServiceError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("Support access revoked. Support can no longer act in your organisation."))
    return redirect("support_access", org_slug=org.slug)


@require_POST
@require_perm(Perm.ORG_SETTINGS_MANAGE)
def session_notifications(request: HttpRequest) -> HttpResponse:
    org = request.org  # type: ignore[attr-defined]
    form = NotificationsForm(request.POST)
    form.is_valid()
    enabled = bool(form.cleaned_data.get("notify"))
    services.set_session_notifications(request.actor, customer=org, enabled=enabled)  # type: ignore[attr-defined]
    if enabled:
        messages.success(request, _("Your owners and admins will be emailed when a management session starts."))
    else:
        messages.success(request, _("No more emails when a management session starts."))
    return redirect("support_access", org_slug=org.slug)


# --- the operator's support desk -----------------------------------------------------------------------------


@require_perm(Perm.OPERATOR_SUPPORT_ACCESS)
def support_desk(request: HttpRequest) -> HttpResponse:
    """Find a caller's organisation by support code, VIP code or name; open a session where allowed."""
    org = request.org  # type: ignore[attr-defined]
    form = DeskSearchForm(request.GET or None)
    result = queries.desk_search(form.query()) if form.is_bound else None
    return render(request, "delegation/support_desk.html", {"org": org, "form": form, "result": result})


def _back_to_desk(request: HttpRequest, org: Organisation) -> HttpResponse:
    query = request.POST.get("q", "")[:200]
    url = reverse("support_desk", kwargs={"org_slug": org.slug})
    return redirect(f"{url}?{urlencode({'q': query})}" if query else url)


@require_POST
@require_perm(Perm.OPERATOR_SUPPORT_ACCESS)
def vip_code_assign(request: HttpRequest, customer_id: int) -> HttpResponse:
    org = request.org  # type: ignore[attr-defined]
    customer = queries.desk_org(customer_id)
    try:
        customer = services.assign_vip_code(request.actor, customer=customer)  # type: ignore[attr-defined]
    except ServiceError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(
            request, _("%(org)s now has the VIP code %(code)s.") % {"org": customer.name, "code": customer.vip_code}
        )
    return _back_to_desk(request, org)


@require_POST
@require_perm(Perm.OPERATOR_SUPPORT_ACCESS)
def vip_code_remove(request: HttpRequest, customer_id: int) -> HttpResponse:
    org = request.org  # type: ignore[attr-defined]
    customer = queries.desk_org(customer_id)
    try:
        services.remove_vip_code(request.actor, customer=customer)  # type: ignore[attr-defined]
    except ServiceError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("The VIP code of %(org)s was removed.") % {"org": customer.name})
    return _back_to_desk(request, org)
