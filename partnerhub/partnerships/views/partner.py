"""The partner's side: requests it sent, invitations it received, ending, and the email link landing.

Everything here needs ``partner.customers.administer`` on the partner organisation (seed 000's
permission to administer customers); the managed customers themselves are listed in My customers.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from partnerhub.access.decorators import login_only, require_perm
from partnerhub.access.perms import Perm
from partnerhub.accounts.reauth import reauth_required
from partnerhub.core.errors import ServiceError
from partnerhub.core.paging import keyset_page
from partnerhub.partnerships import queries, services
from partnerhub.partnerships.forms import EndForm, RequestForm
from partnerhub.partnerships.models import Flow, Partnership, PartnershipStatus
from partnerhub.partnerships.views.common import history_page, int_param

PAGE_SIZE = 20


def _partnership(request: HttpRequest, partnership_id: int) -> Partnership:
    return queries.partner_partnership(request.org, partnership_id)  # type: ignore[attr-defined]


def _detail(partnership: Partnership) -> HttpResponse:
    return redirect("partner_partnership_detail", org_slug=partnership.partner.slug, partnership_id=partnership.pk)


def _back(partnership: Partnership) -> HttpResponse:
    return redirect("partner_partnerships", org_slug=partnership.partner.slug)


def _error(request: HttpRequest, exc: ServiceError) -> None:
    messages.error(request, " ".join(exc.messages))


@require_perm(Perm.PARTNER_CUSTOMERS_ADMINISTER)
def partner_partnerships(request: HttpRequest) -> HttpResponse:
    """Open requests and invitations, the active partnerships, and the history (ended, declined …)."""
    org = request.org  # type: ignore[attr-defined]
    rows = queries.of_partner(org)
    pending = rows.filter(status=PartnershipStatus.PENDING).order_by("-id")
    page = keyset_page(
        queries.closed(rows), before=int_param(request, "before"), after=int_param(request, "after"), size=PAGE_SIZE
    )
    context = {
        "org": org,
        "outgoing": [(p, queries.grant_view(p)) for p in pending.filter(flow=Flow.REQUESTED)[:100]],
        "incoming": [(p, queries.grant_view(p)) for p in pending.filter(flow=Flow.INVITED)[:100]],
        "active_count": rows.filter(status=PartnershipStatus.ACTIVE).count(),
        "page": page,
        "paged": "before" in request.GET or "after" in request.GET,
        "can_create": Perm.PARTNER_CUSTOMERS_CREATE in request.perms,  # type: ignore[attr-defined]
    }
    return render(request, "partnerships/partner_partnerships.html", context)


@require_perm(Perm.PARTNER_CUSTOMERS_ADMINISTER)
def partner_partnership_detail(request: HttpRequest, partnership_id: int) -> HttpResponse:
    partnership = _partnership(request, partnership_id)
    context = {
        "org": request.org,  # type: ignore[attr-defined]
        "p": partnership,
        "grant": queries.grant_view(partnership),
        **history_page(request, partnership),
    }
    return render(request, "partnerships/partner_partnership_detail.html", context)


@require_perm(Perm.PARTNER_CUSTOMERS_ADMINISTER)
def request_new(request: HttpRequest) -> HttpResponse:
    """Ask an existing customer for access by the email address of someone who manages its providers."""
    org = request.org  # type: ignore[attr-defined]
    form = RequestForm(request.POST or None, full_only=True)
    if request.method == "POST" and form.is_valid():
        try:
            partnership = services.request_management(
                request.actor,  # type: ignore[attr-defined]
                partner=org,
                email=form.cleaned_data["email"],
                grant=form.grant_input(),
                message=form.cleaned_data["message"],
                customer_slug=form.cleaned_data["customer_slug"],
            )
            messages.success(request, _("Your request has been sent to %(org)s.") % {"org": partnership.customer.name})
            return _back(partnership)
        except ServiceError as exc:
            form.add_error("customer_slug" if exc.code == services.AMBIGUOUS else None, exc)
    return render(request, "partnerships/request_new.html", {"org": org, "form": form})


def _answer(request: HttpRequest, partnership_id: int, *, accept: bool) -> HttpResponse:
    partnership = _partnership(request, partnership_id)
    if partnership.flow != Flow.INVITED:
        raise Http404
    try:
        services.answer_invitation(request.actor, partnership, accept=accept)  # type: ignore[attr-defined]
    except ServiceError as exc:
        _error(request, exc)
        return _detail(partnership)
    if accept:
        messages.success(request, _("You now manage %(org)s.") % {"org": partnership.customer.name})
        return _detail(partnership)
    messages.success(request, _("The invitation of %(org)s has been declined.") % {"org": partnership.customer.name})
    return _back(partnership)


@require_POST
@require_perm(Perm.PARTNER_CUSTOMERS_ADMINISTER)
def invitation_accept(request: HttpRequest, partnership_id: int) -> HttpResponse:
    return _answer(request, partnership_id, accept=True)


@require_POST
@require_perm(Perm.PARTNER_CUSTOMERS_ADMINISTER)
def invitation_decline(request: HttpRequest, partnership_id: int) -> HttpResponse:
    return _answer(request, partnership_id, accept=False)


def _request_action(request: HttpRequest, partnership_id: int, *, cancel: bool) -> HttpResponse:
    partnership = _partnership(request, partnership_id)
    if partnership.flow != Flow.REQUESTED:
        raise Http404
    try:
        if cancel:
            services.cancel(request.actor, partnership)  # type: ignore[attr-defined]
            messages.success(request, _("The request has been withdrawn."))
        else:
            services.resend(request.actor, partnership)  # type: ignore[attr-defined]
            messages.success(request, _("The request has been sent again."))
    except ServiceError as exc:
        _error(request, exc)
    return _back(partnership)


@require_POST
@require_perm(Perm.PARTNER_CUSTOMERS_ADMINISTER)
def request_resend(request: HttpRequest, partnership_id: int) -> HttpResponse:
    return _request_action(request, partnership_id, cancel=False)


@require_POST
@require_perm(Perm.PARTNER_CUSTOMERS_ADMINISTER)
def request_cancel(request: HttpRequest, partnership_id: int) -> HttpResponse:
    return _request_action(request, partnership_id, cancel=True)


@require_perm(Perm.PARTNER_CUSTOMERS_ADMINISTER)
@reauth_required
def partner_end(request: HttpRequest, partnership_id: int) -> HttpResponse:
    """End a partnership from the partner's side after the password was entered again."""
    partnership = _partnership(request, partnership_id)
    form = EndForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            services.end_partnership(
                request.actor,  # type: ignore[attr-defined]
                partnership,
                reason=form.cleaned_data["reason"],
                side="partner",
            )
            messages.success(request, _("The partnership with %(org)s has ended.") % {"org": partnership.customer.name})
            return _back(partnership)
        except ServiceError as exc:
            form.add_error(None, exc)
    context = {"org": request.org, "p": partnership, "form": form, "other": partnership.customer}  # type: ignore[attr-defined]
    return render(request, "partnerships/end.html", context)


@login_only
def answer_link(request: HttpRequest, token: str) -> HttpResponse:
    """The link in a request or invitation email: on to the page where the right side answers it."""
    partnership = queries.pending_by_token(token)
    if partnership is None:
        raise Http404
    if partnership.flow == Flow.REQUESTED:
        return redirect("request_review", org_slug=partnership.customer.slug, partnership_id=partnership.pk)
    return _detail(partnership)
