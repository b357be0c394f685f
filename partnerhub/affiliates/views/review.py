"""The operator's queue of affiliate applications: list (status filter, keyset paging), detail, approve,
reject with a reason, suspend and reactivate."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from partnerhub.access.decorators import require_perm
from partnerhub.access.perms import Perm
from partnerhub.affiliates import queries
from partnerhub.affiliates.forms import DecisionForm, ReviewFilterForm
from partnerhub.affiliates.models import Affiliate
from partnerhub.affiliates.services import accounts
from partnerhub.core.errors import ServiceError
from partnerhub.core.htmx import render_page


@require_perm(Perm.OPERATOR_APPLICATIONS_REVIEW)
def review_list(request: HttpRequest) -> HttpResponse:
    form = ReviewFilterForm(request.GET)
    status = form.value("status") or ""
    before, after = form.value("before"), form.value("after")
    context = {
        "org": request.org,  # type: ignore[attr-defined]
        "form": form,
        "page": queries.review_page(status, before=before, after=after),
        "paged": before is not None or after is not None,
        "status": status,
    }
    return render_page(request, "affiliates/review_list.html", context, partial="rows")


def _detail(request: HttpRequest, affiliate: Affiliate, form: DecisionForm, status: int = 200) -> HttpResponse:
    context = {
        "org": request.org,  # type: ignore[attr-defined]
        "affiliate": affiliate,
        "form": form,
        "stats": queries.stats(affiliate),
    }
    return render(request, "affiliates/review_detail.html", context, status=status)


@require_perm(Perm.OPERATOR_APPLICATIONS_REVIEW)
def review_detail(request: HttpRequest, affiliate_id: int) -> HttpResponse:
    return _detail(request, queries.for_review_by_id(affiliate_id), DecisionForm())


Decision = Callable[..., Affiliate]


def _decide(request: HttpRequest, affiliate_id: int, decide: Decision, keyword: str, done: str) -> HttpResponse:
    org = request.org  # type: ignore[attr-defined]
    affiliate = queries.for_review_by_id(affiliate_id)
    form = DecisionForm(request.POST)
    if form.is_valid():
        try:
            decide(request.actor, affiliate=affiliate, **{keyword: form.cleaned_data["reason"]})  # type: ignore[attr-defined]
        except ServiceError as exc:
            if hasattr(exc, "error_dict"):
                for field, errors in exc.message_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
            else:
                form.add_error(None, exc)
        else:
            messages.success(request, done % {"org": affiliate.org.name})
            return redirect("affiliate_review_detail", org_slug=org.slug, affiliate_id=affiliate.pk)
    return _detail(request, queries.for_review_by_id(affiliate_id), form, status=400)


@require_POST
@require_perm(Perm.OPERATOR_APPLICATIONS_REVIEW)
def review_approve(request: HttpRequest, affiliate_id: int) -> HttpResponse:
    done = _("%(org)s is now an affiliate. The applicant was notified.")
    return _decide(request, affiliate_id, accounts.approve, "note", done)


@require_POST
@require_perm(Perm.OPERATOR_APPLICATIONS_REVIEW)
def review_reject(request: HttpRequest, affiliate_id: int) -> HttpResponse:
    done = _("The affiliate application of %(org)s was rejected. The applicant was notified.")
    return _decide(request, affiliate_id, accounts.reject, "reason", done)


@require_POST
@require_perm(Perm.OPERATOR_APPLICATIONS_REVIEW)
def review_suspend(request: HttpRequest, affiliate_id: int) -> HttpResponse:
    done = _("The affiliate account of %(org)s is suspended.")
    return _decide(request, affiliate_id, accounts.suspend, "reason", done)


@require_POST
@require_perm(Perm.OPERATOR_APPLICATIONS_REVIEW)
def review_reactivate(request: HttpRequest, affiliate_id: int) -> HttpResponse:
    done = _("The affiliate account of %(org)s is active again.")
    return _decide(request, affiliate_id, accounts.reactivate, "note", done)
