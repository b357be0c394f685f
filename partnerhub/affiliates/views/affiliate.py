"""The public click route ``/r/<code>/``, the affiliate page of an organisation (its link, figures and
the recommend form), and applying as affiliate."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from partnerhub.access.decorators import client_ip, public, require_perm
from partnerhub.access.perms import Perm
from partnerhub.affiliates import queries
from partnerhub.affiliates.forms import ApplyForm, RecommendForm
from partnerhub.affiliates.models import Affiliate, AffiliateStatus
from partnerhub.affiliates.services import accounts, binding, recommend, tracking
from partnerhub.core.errors import ServiceError
from partnerhub.orgs.models import Organisation
from partnerhub.partners.services import get_program


@require_safe
@public
def affiliate_click(request: HttpRequest, code: str) -> HttpResponse:
    """Record the visit, set the attribution cookie and go on to the landing page (``?to=/path``).

    An unknown or inactive code, a bot, a flood from one address or a HEAD request (link checkers and
    previews) still redirects: no click, no cookie.
    """
    if request.method == "HEAD":
        return HttpResponseRedirect(tracking.safe_landing(request.GET.get("to")))
    outcome = tracking.follow(
        code,
        ip=client_ip(request),
        user_agent=request.META.get("HTTP_USER_AGENT", ""),
        referrer=request.META.get("HTTP_REFERER", ""),
        to=request.GET.get("to"),
        cookie=request.COOKIES.get(tracking.COOKIE_NAME),
    )
    response = HttpResponseRedirect(outcome.location)
    response["Cache-Control"] = "no-store"
    response["Referrer-Policy"] = "same-origin"
    if outcome.cookie is not None:
        response.set_cookie(
            tracking.COOKIE_NAME,
            outcome.cookie,
            max_age=outcome.max_age,
            **tracking.cookie_settings(),  # type: ignore[arg-type]
        )
    if outcome.click is not None and request.user.is_authenticated:
        # A logged-in visitor's next organisation counts too (by the program's attribution model).
        value = outcome.cookie or request.COOKIES.get(tracking.COOKIE_NAME)
        attribution = tracking.read_cookie(value)
        if attribution is not None:
            binding.claim(request.user, attribution)
    return response


def _errors(form: Any, exc: ServiceError) -> None:
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc)


def _page_context(request: HttpRequest, org: Organisation, affiliate: Affiliate | None, **extra: Any) -> dict[str, Any]:
    program = get_program()
    perms = {str(p) for p in request.perms}  # type: ignore[attr-defined]
    may_apply = (
        affiliate is None or affiliate.status == AffiliateStatus.REJECTED
    ) and "partner_status.request" in perms
    blocked = org.is_partner and program.partner_affiliate_exclusive
    context: dict[str, Any] = {
        "org": org,
        "affiliate": affiliate,
        "program": program,
        "blocked": blocked,
        "apply_form": ApplyForm() if may_apply and not blocked else None,
        "recommend_form": RecommendForm(),
        "link": recommend.referral_link(affiliate) if affiliate is not None else "",
        "stats": queries.stats(affiliate) if affiliate is not None and affiliate.status in _TRACKED else None,
        "recommend_max": recommend.MESSAGE_MAX_LENGTH,
    }
    context.update(extra)
    return context


_TRACKED = (AffiliateStatus.APPROVED, AffiliateStatus.SUSPENDED)


@require_perm(Perm.PARTNER_PORTAL_MANAGE)
def affiliate_page(request: HttpRequest) -> HttpResponse:
    """The referral link and code, clicks per day, signups, conversion, commissions, recommend."""
    org = request.org  # type: ignore[attr-defined]
    return render(request, "affiliates/affiliate.html", _page_context(request, org, queries.affiliate_of(org)))


@require_POST
@require_perm(Perm.PARTNER_PORTAL_MANAGE)
def affiliate_recommend(request: HttpRequest) -> HttpResponse:
    org = request.org  # type: ignore[attr-defined]
    form = RecommendForm(request.POST)
    if form.is_valid():
        try:
            recommend.recommend(
                request.actor,  # type: ignore[attr-defined]
                org=org,
                email=form.cleaned_data["email"],
                message=form.cleaned_data["message"],
                language=translation.get_language(),
            )
        except ServiceError as exc:
            _errors(form, exc)
        else:
            messages.success(
                request, _("Your recommendation was sent to %(email)s.") % {"email": form.cleaned_data["email"]}
            )
            return redirect("affiliate_page", org_slug=org.slug)
    context = _page_context(request, org, queries.affiliate_of(org), recommend_form=form)
    return render(request, "affiliates/affiliate.html", context, status=400)


@require_perm(Perm.PARTNER_STATUS_REQUEST)
def affiliate_apply(request: HttpRequest) -> HttpResponse:
    """The application as affiliate: the form, or the state of the organisation's application."""
    org = request.org  # type: ignore[attr-defined]
    affiliate = queries.affiliate_of(org)
    program = get_program()
    blocked = org.is_operator or (org.is_partner and program.partner_affiliate_exclusive)
    may_apply = not blocked and (affiliate is None or affiliate.status == AffiliateStatus.REJECTED)
    form = ApplyForm(request.POST or None) if may_apply else None
    status = 200
    if request.method == "POST":
        status = 400
        if form is not None and form.is_valid():
            try:
                created = accounts.apply(
                    request.actor,  # type: ignore[attr-defined]
                    org=org,
                    website=form.cleaned_data["website"],
                    message=form.cleaned_data["message"],
                )
            except ServiceError as exc:
                _errors(form, exc)
            else:
                if created.status == AffiliateStatus.APPROVED:
                    messages.success(request, _("Welcome to the affiliate program: your referral link is ready."))
                    return redirect("affiliate_page", org_slug=org.slug)
                messages.success(request, _("Thank you: your application was sent. We review it shortly."))
                return redirect("affiliate_apply", org_slug=org.slug)
        elif form is None:
            messages.error(request, _("%(org)s cannot apply as affiliate now.") % {"org": org.name})
            return redirect("affiliate_apply", org_slug=org.slug)
    perms = {str(p) for p in request.perms}  # type: ignore[attr-defined]
    context = {
        "org": org,
        "affiliate": affiliate,
        "form": form,
        "blocked": blocked,
        "program": program,
        "may_open_page": "partner.portal.manage" in perms,
    }
    return render(request, "affiliates/apply.html", context, status=status)
