"""The customer's side: "My service providers" (seed 000 "Mein Dienstleister", seed 001 "Zugriffsrechte").

Everybody who sees the organisation sees the list; choosing, inviting, answering, changing a grant
and ending need ``providers.manage`` and a recently entered password. Partner staff working in a
management session never see this page: who else serves the customer is the customer's business.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from partnerhub.access.decorators import require_perm
from partnerhub.access.perms import Perm
from partnerhub.accounts.reauth import reauth_required
from partnerhub.core.errors import ServiceError
from partnerhub.core.paging import keyset_page
from partnerhub.partnerships import queries, services
from partnerhub.partnerships.forms import EndForm, ExtendForm, GrantForm, MessageForm, PartnerSearchForm
from partnerhub.partnerships.models import Flow, Partnership, PartnershipStatus
from partnerhub.partnerships.services import GrantInput
from partnerhub.partnerships.views.common import history_page, int_param

PAGE_SIZE = 20


def _own_member(request: HttpRequest) -> None:
    """Only the customer's own people see its providers (not a partner acting in a session)."""
    if request.access.delegated:  # type: ignore[attr-defined]
        raise PermissionDenied


def _partnership(request: HttpRequest, partnership_id: int) -> Partnership:
    _own_member(request)
    return queries.customer_partnership(request.org, partnership_id)  # type: ignore[attr-defined]


def _detail(partnership: Partnership) -> HttpResponse:
    return redirect("provider_detail", org_slug=partnership.customer.slug, partnership_id=partnership.pk)


def _error(request: HttpRequest, exc: ServiceError) -> None:
    messages.error(request, " ".join(exc.messages))


@require_perm(Perm.ORG_VIEW)
def providers(request: HttpRequest) -> HttpResponse:
    """The customer's active and pending partnerships with their grants, and the ended ones."""
    _own_member(request)
    org = request.org  # type: ignore[attr-defined]
    rows = [(p, queries.grant_view(p)) for p in queries.open_of_customer(org)]
    page = keyset_page(
        queries.closed(queries.of_customer(org)),
        before=int_param(request, "before"),
        after=int_param(request, "after"),
        size=PAGE_SIZE,
    )
    context = {
        "org": org,
        "rows": rows,
        "page": page,
        "paged": "before" in request.GET or "after" in request.GET,
        "manage": Perm.PROVIDERS_MANAGE in request.perms,  # type: ignore[attr-defined]
    }
    return render(request, "partnerships/providers.html", context)


@require_perm(Perm.ORG_VIEW)
def provider_detail(request: HttpRequest, partnership_id: int) -> HttpResponse:
    """One partnership: its grant (requested and granted), the actions, and its history."""
    partnership = _partnership(request, partnership_id)
    context = {
        "org": request.org,  # type: ignore[attr-defined]
        "p": partnership,
        "grant": queries.grant_view(partnership),
        "manage": Perm.PROVIDERS_MANAGE in request.perms,  # type: ignore[attr-defined]
        "extend_form": ExtendForm(),
        **history_page(request, partnership),
    }
    return render(request, "partnerships/provider_detail.html", context)


def _pick_partner(request: HttpRequest, *, invite: bool) -> HttpResponse:
    """Search partners by name or email, pick one, choose the access; then choose or invite it."""
    _own_member(request)
    org = request.org  # type: ignore[attr-defined]
    search = PartnerSearchForm(request.GET)
    query = search.cleaned_data["q"] if search.is_valid() else ""
    partner = None
    if request.GET.get("partner") or request.method == "POST":
        partner = queries.partner_by_id(int_param(request, "partner"), exclude=org)
    products = list(queries.products_of(org))
    form = GrantForm(request.POST or None, products=products)
    message_form = MessageForm(request.POST or None)
    if request.method == "POST" and form.is_valid() and (not invite or message_form.is_valid()):
        assert partner is not None
        try:
            if invite:
                partnership = services.invite_partner(
                    request.actor,  # type: ignore[attr-defined]
                    customer=org,
                    partner=partner,
                    grant=form.grant_input(),
                    message=message_form.cleaned_data["message"],
                )
                messages.success(request, _("%(partner)s has been invited.") % {"partner": partner.name})
            else:
                partnership = services.choose_partner(
                    request.actor,  # type: ignore[attr-defined]
                    customer=org,
                    partner=partner,
                    grant=form.grant_input(),
                )
                messages.success(request, _("%(partner)s is now your service provider.") % {"partner": partner.name})
            return _detail(partnership)
        except ServiceError as exc:
            form.add_error(None, exc)
    context: dict[str, Any] = {
        "org": org,
        "invite": invite,
        "search": search,
        "results": queries.search_partners(query, exclude=org) if partner is None else [],
        "searched": bool(query),
        "partner": partner,
        "form": form,
        "message_form": message_form,
    }
    return render(request, "partnerships/provider_pick.html", context)


@require_perm(Perm.PROVIDERS_MANAGE)
@reauth_required
def provider_choose(request: HttpRequest) -> HttpResponse:
    """Set a partner as the service provider at once (origin self)."""
    return _pick_partner(request, invite=False)


@require_perm(Perm.PROVIDERS_MANAGE)
@reauth_required
def provider_invite(request: HttpRequest) -> HttpResponse:
    """Invite a partner; it accepts or declines."""
    return _pick_partner(request, invite=True)


@require_perm(Perm.PROVIDERS_MANAGE)
@reauth_required
def request_review(request: HttpRequest, partnership_id: int) -> HttpResponse:
    """A partner's request: the requested access, and a form to grant it or different access."""
    partnership = _partnership(request, partnership_id)
    if partnership.flow != Flow.REQUESTED:
        raise Http404
    answerable = partnership.is_pending
    requested = GrantInput.requested_by(partnership.grant)
    form = GrantForm(request.POST or None, products=list(queries.products_of(request.org)), grant=requested)  # type: ignore[attr-defined]
    if request.method == "POST" and answerable and form.is_valid():
        try:
            services.answer_request(request.actor, partnership, accept=True, grant=form.grant_input())  # type: ignore[attr-defined]
            messages.success(
                request, _("%(partner)s now manages your organisation.") % {"partner": partnership.partner.name}
            )
            return _detail(partnership)
        except ServiceError as exc:
            form.add_error(None, exc)
    context = {
        "org": request.org,  # type: ignore[attr-defined]
        "p": partnership,
        "grant": queries.grant_view(partnership),
        "form": form,
        "answerable": answerable,
    }
    return render(request, "partnerships/request_review.html", context)


@require_POST
@require_perm(Perm.PROVIDERS_MANAGE)
def request_decline(request: HttpRequest, partnership_id: int) -> HttpResponse:
    partnership = _partnership(request, partnership_id)
    if partnership.flow != Flow.REQUESTED:
        raise Http404
    try:
        services.answer_request(request.actor, partnership, accept=False)  # type: ignore[attr-defined]
        messages.success(
            request, _("The request of %(partner)s has been declined.") % {"partner": partnership.partner.name}
        )
    except ServiceError as exc:
        _error(request, exc)
    return redirect("providers", org_slug=partnership.customer.slug)


@require_perm(Perm.PROVIDERS_MANAGE)
@reauth_required
def grant_edit(request: HttpRequest, partnership_id: int) -> HttpResponse:
    """Change the grant: mode, permissions, products, payment means, validity (a new version)."""
    partnership = _partnership(request, partnership_id)
    if partnership.status != PartnershipStatus.ACTIVE:
        raise Http404
    current = GrantInput.current(partnership.grant)
    form = GrantForm(request.POST or None, products=list(queries.products_of(request.org)), grant=current)  # type: ignore[attr-defined]
    if request.method == "POST" and form.is_valid():
        try:
            services.change_grant(request.actor, partnership, form.grant_input())  # type: ignore[attr-defined]
            messages.success(
                request, _("The access of %(partner)s has been changed.") % {"partner": partnership.partner.name}
            )
            return _detail(partnership)
        except ServiceError as exc:
            form.add_error(None, exc)
    context = {"org": request.org, "p": partnership, "form": form}  # type: ignore[attr-defined]
    return render(request, "partnerships/grant_edit.html", context)


@require_POST
@require_perm(Perm.PROVIDERS_MANAGE)
@reauth_required
def grant_extend(request: HttpRequest, partnership_id: int) -> HttpResponse:
    partnership = _partnership(request, partnership_id)
    form = ExtendForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
        return _detail(partnership)
    try:
        grant = services.extend_grant(request.actor, partnership, days=form.cleaned_data["days"])  # type: ignore[attr-defined]
        messages.success(
            request, _("The access now runs until %(date)s.") % {"date": grant.valid_until and grant.valid_until.date()}
        )
    except ServiceError as exc:
        _error(request, exc)
    return _detail(partnership)


@require_POST
@require_perm(Perm.PROVIDERS_MANAGE)
@reauth_required
def grant_revoke(request: HttpRequest, partnership_id: int) -> HttpResponse:
    partnership = _partnership(request, partnership_id)
    try:
        services.revoke_grant(request.actor, partnership)  # type: ignore[attr-defined]
        messages.success(
            request, _("The access of %(partner)s has been revoked.") % {"partner": partnership.partner.name}
        )
    except ServiceError as exc:
        _error(request, exc)
    return _detail(partnership)


@require_perm(Perm.PROVIDERS_MANAGE)
@reauth_required
def provider_end(request: HttpRequest, partnership_id: int) -> HttpResponse:
    """End the partnership after the password was entered again (seed 001)."""
    partnership = _partnership(request, partnership_id)
    form = EndForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            services.end_partnership(
                request.actor,  # type: ignore[attr-defined]
                partnership,
                reason=form.cleaned_data["reason"],
                side="customer",
            )
            messages.success(
                request, _("The partnership with %(partner)s has ended.") % {"partner": partnership.partner.name}
            )
            return redirect("providers", org_slug=partnership.customer.slug)
        except ServiceError as exc:
            form.add_error(None, exc)
    context = {"org": request.org, "p": partnership, "form": form, "other": partnership.partner}  # type: ignore[attr-defined]
    return render(request, "partnerships/end.html", context)


@require_POST
@require_perm(Perm.PROVIDERS_MANAGE)
def invitation_resend(request: HttpRequest, partnership_id: int) -> HttpResponse:
    partnership = _partnership(request, partnership_id)
    if partnership.flow != Flow.INVITED:
        raise Http404
    try:
        services.resend(request.actor, partnership)  # type: ignore[attr-defined]
        messages.success(request, _("The invitation has been sent again."))
    except ServiceError as exc:
        _error(request, exc)
    return redirect("providers", org_slug=partnership.customer.slug)


@require_POST
@require_perm(Perm.PROVIDERS_MANAGE)
def invitation_cancel(request: HttpRequest, partnership_id: int) -> HttpResponse:
    partnership = _partnership(request, partnership_id)
    if partnership.flow != Flow.INVITED:
        raise Http404
    try:
        services.cancel(request.actor, partnership)  # type: ignore[attr-defined]
        messages.success(request, _("The invitation has been withdrawn."))
    except ServiceError as exc:
        _error(request, exc)
    return redirect("providers", org_slug=partnership.customer.slug)
