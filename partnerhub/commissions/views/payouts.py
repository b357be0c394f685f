"""Payout pages. The beneficiary (``partner.portal.manage``): history, carried-over balance, a
statement with its entries and its downloads (CSV, XLSX, PDF), the payout details (saving them needs
the password again). The operator (``operator.payouts.manage``): the review queue with a status
filter, a payout's detail, approve, mark paid with a reference, cancel.

Thin views: the decorator resolves access, a form parses input, one service or query does the rest.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from partnerhub.access.decorators import require_perm
from partnerhub.access.perms import Perm
from partnerhub.accounts.reauth import reauth_required
from partnerhub.billing.pdf import FontMissing
from partnerhub.commissions.models import Payout, PayoutStatus
from partnerhub.commissions.payouts import exports, queries, services
from partnerhub.commissions.payouts.banking import format_iban, mask_iban
from partnerhub.commissions.payouts.forms import PageForm, PayoutDetailsForm, PayoutFilterForm, ReferenceForm
from partnerhub.core.errors import ServiceError
from partnerhub.core.htmx import render_page
from partnerhub.core.paging import keyset_page

PORTAL = Perm.PARTNER_PORTAL_MANAGE
PAYOUTS = Perm.OPERATOR_PAYOUTS_MANAGE
ENTRIES_PAGE = 100


def _form_errors(form: Any, exc: ServiceError) -> None:
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc)


def _entries(request: HttpRequest, payout: Payout) -> dict[str, Any]:
    form = PageForm(request.GET)
    before, after = form.value("before"), form.value("after")
    page = keyset_page(queries.entries_of(payout), before=before, after=after, size=ENTRIES_PAGE)
    return {"entries": page, "paged": before is not None or after is not None}


def _download(request: HttpRequest, payout: Payout, fmt: str, *, operator: bool = False) -> HttpResponseBase:
    if fmt not in ("csv", "xlsx", "pdf"):
        raise Http404
    services.record_statement_download(request.actor, payout=payout, fmt=fmt, operator=operator)  # type: ignore[attr-defined]
    if fmt == "csv":
        return exports.csv_response(payout)
    if fmt == "xlsx":
        return exports.xlsx_response(payout)
    if fmt == "pdf":
        try:
            return exports.pdf_response(payout)
        except FontMissing:
            return HttpResponse(_("PDF files cannot be made on this server right now."), status=503)
    raise Http404


# --- the beneficiary's side ------------------------------------------------------------------------------


@require_perm(PORTAL)
def payout_list(request: HttpRequest) -> HttpResponse:
    """Payout history (newest first, keyset-paged), the balance carried over, the payout details."""
    org = request.org  # type: ignore[attr-defined]
    form = PageForm(request.GET)
    before, after = form.value("before"), form.value("after")
    details = queries.details_of(org)
    context = {
        "org": org,
        "page": queries.payout_page(org, before=before, after=after),
        "paged": before is not None or after is not None,
        "balances": queries.carried_over(org),
        "details": details,
        "masked_iban": mask_iban(details.iban) if details else "",
    }
    return render_page(request, "commissions/payouts/list.html", context, partial="rows")


@require_perm(PORTAL)
def payout_detail(request: HttpRequest, payout_id: int) -> HttpResponse:
    org = request.org  # type: ignore[attr-defined]
    payout = queries.payout_of(org, payout_id)
    context = {"org": org, "payout": payout, "iban": format_iban(payout.iban), **_entries(request, payout)}
    return render_page(request, "commissions/payouts/detail.html", context, partial="entries")


@require_perm(PORTAL)
def payout_download(request: HttpRequest, payout_id: int) -> HttpResponseBase:
    """The statement as ``?format=csv`` (the default), ``xlsx`` or ``pdf``."""
    return _download(request, queries.payout_of(request.org, payout_id), request.GET.get("format", "csv"))  # type: ignore[attr-defined]


def _details_page(request: HttpRequest, form: PayoutDetailsForm, status: int = 200) -> HttpResponse:
    org = request.org  # type: ignore[attr-defined]
    details = queries.details_of(org)
    context = {"org": org, "form": form, "details": details, "iban": format_iban(details.iban) if details else ""}
    return render(request, "commissions/payouts/details.html", context, status=status)


@require_perm(PORTAL)
def payout_details(request: HttpRequest) -> HttpResponse:
    details = queries.details_of(request.org)  # type: ignore[attr-defined]
    initial = (
        {"account_holder": details.account_holder, "iban": format_iban(details.iban), "bic": details.bic}
        if details
        else {}
    )
    return _details_page(request, PayoutDetailsForm(initial=initial))


@require_POST
@require_perm(PORTAL)
@reauth_required
def payout_details_save(request: HttpRequest) -> HttpResponse:
    """Save the payout details after the password was entered again (a sensitive change)."""
    org = request.org  # type: ignore[attr-defined]
    form = PayoutDetailsForm(request.POST)
    if form.is_valid():
        data = services.DetailsData(**form.cleaned_data)
        try:
            services.set_payout_details(request.actor, org=org, data=data)  # type: ignore[attr-defined]
        except ServiceError as exc:
            _form_errors(form, exc)
        else:
            messages.success(request, _("Your payout details were saved. Future payouts go to this account."))
            return redirect("payout_list", org_slug=org.slug)
    return _details_page(request, form, status=400)


# --- the operator's review --------------------------------------------------------------------------------


@require_perm(PAYOUTS)
def payout_review(request: HttpRequest) -> HttpResponse:
    """Every beneficiary's payouts, newest first, filtered by status, keyset-paged."""
    form = PayoutFilterForm(request.GET)
    status = form.value("status") or ""
    before, after = form.value("before"), form.value("after")
    context = {
        "org": request.org,  # type: ignore[attr-defined]
        "form": form,
        "page": queries.review_page(status, before=before, after=after),
        "paged": before is not None or after is not None,
        "status": status,
    }
    return render_page(request, "commissions/payouts/review.html", context, partial="rows")


def _review_detail(request: HttpRequest, payout: Payout, form: ReferenceForm, status: int = 200) -> HttpResponse:
    context = {
        "org": request.org,  # type: ignore[attr-defined]
        "payout": payout,
        "iban": format_iban(payout.iban),
        "details": queries.details_of(payout.beneficiary),
        "form": form,
        "statuses": PayoutStatus,
        **_entries(request, payout),
    }
    if status != 200:
        return render(request, "commissions/payouts/review_detail.html", context, status=status)
    return render_page(request, "commissions/payouts/review_detail.html", context, partial="entries")


@require_perm(PAYOUTS)
def payout_review_detail(request: HttpRequest, payout_id: int) -> HttpResponse:
    return _review_detail(request, queries.payout_for_review(payout_id), ReferenceForm())


@require_perm(PAYOUTS)
def payout_review_download(request: HttpRequest, payout_id: int) -> HttpResponseBase:
    return _download(request, queries.payout_for_review(payout_id), request.GET.get("format", "csv"), operator=True)


def _act(request: HttpRequest, payout_id: int, action: Any, done: str, **kwargs: Any) -> HttpResponse:
    org = request.org  # type: ignore[attr-defined]
    payout = queries.payout_for_review(payout_id)
    try:
        action(request.actor, payout=payout, **kwargs)  # type: ignore[attr-defined]
    except ServiceError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, done % {"payout": payout, "org": payout.beneficiary.name})
    return redirect("payout_review_detail", org_slug=org.slug, payout_id=payout.pk)


@require_POST
@require_perm(PAYOUTS)
def payout_approve(request: HttpRequest, payout_id: int) -> HttpResponse:
    done = _("Payout %(payout)s to %(org)s approved. The partner was notified.")
    return _act(request, payout_id, services.approve_payout, done)


@require_POST
@require_perm(PAYOUTS)
def payout_pay(request: HttpRequest, payout_id: int) -> HttpResponse:
    payout = queries.payout_for_review(payout_id)
    form = ReferenceForm(request.POST)
    if form.is_valid():
        try:
            services.mark_payout_paid(request.actor, payout=payout, reference=form.cleaned_data["reference"])  # type: ignore[attr-defined]
        except ServiceError as exc:
            _form_errors(form, exc)
        else:
            done = _("Payout %(payout)s to %(org)s marked paid. The partner was notified.")
            messages.success(request, done % {"payout": payout, "org": payout.beneficiary.name})
            return redirect("payout_review_detail", org_slug=request.org.slug, payout_id=payout.pk)  # type: ignore[attr-defined]
    return _review_detail(request, queries.payout_for_review(payout_id), form, status=400)


@require_POST
@require_perm(PAYOUTS)
def payout_cancel(request: HttpRequest, payout_id: int) -> HttpResponse:
    done = _("Payout %(payout)s to %(org)s cancelled. Its commissions go into the next statement.")
    return _act(request, payout_id, services.cancel_payout, done)
