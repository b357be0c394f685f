"""The operator's review queue of partner applications: list (status filter, keyset paging), detail
with the unmet eligibility rules highlighted, approve, reject with a reason."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from partnerhub.access.decorators import require_perm
from partnerhub.access.perms import Perm
from partnerhub.core.errors import ServiceError
from partnerhub.core.htmx import render_page
from partnerhub.partners import queries
from partnerhub.partners.forms import DecisionForm, ReviewFilterForm
from partnerhub.partners.models import Application
from partnerhub.partners.services import applications as services
from partnerhub.partners.services import eligibility


@require_perm(Perm.OPERATOR_APPLICATIONS_REVIEW)
def application_list(request: HttpRequest) -> HttpResponse:
    """Every organisation's applications, newest first, filtered by status, keyset-paged."""
    form = ReviewFilterForm(request.GET)
    status = form.value("status") or ""
    before, after = form.value("before"), form.value("after")
    page = queries.review_page(status, before=before, after=after)
    context = {
        "org": request.org,  # type: ignore[attr-defined]
        "form": form,
        "page": page,
        "paged": before is not None or after is not None,
        "status": status,
    }
    return render_page(request, "partners/application_list.html", context, partial="rows")


def _detail(request: HttpRequest, application: Application, form: DecisionForm, status: int = 200) -> HttpResponse:
    context = {
        "org": request.org,  # type: ignore[attr-defined]
        "application": application,
        "unmet": [eligibility.rule_label(code) for code in application.unmet_rules],
        "form": form,
    }
    return render(request, "partners/application_detail.html", context, status=status)


@require_perm(Perm.OPERATOR_APPLICATIONS_REVIEW)
def application_detail(request: HttpRequest, application_id: int) -> HttpResponse:
    return _detail(request, queries.application_for_review(application_id), DecisionForm())


def _decide(request: HttpRequest, application_id: int, *, approve: bool) -> HttpResponse:
    org = request.org  # type: ignore[attr-defined]
    application = queries.application_for_review(application_id)
    form = DecisionForm(request.POST)
    if form.is_valid():
        reason = form.cleaned_data["reason"]
        try:
            if approve:
                services.approve_application(request.actor, application=application, note=reason)  # type: ignore[attr-defined]
            else:
                services.reject_application(request.actor, application=application, reason=reason)  # type: ignore[attr-defined]
        except ServiceError as exc:
            if hasattr(exc, "error_dict"):
                for field, errors in exc.message_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
            else:
                form.add_error(None, exc)
        else:
            message = (
                _("%(org)s is now a partner. The applicant was notified.")
                if approve
                else _("The request of %(org)s was rejected. The applicant was notified.")
            )
            messages.success(request, message % {"org": application.org.name})
            return redirect("application_detail", org_slug=org.slug, application_id=application.pk)
    return _detail(request, queries.application_for_review(application_id), form, status=400)


@require_POST
@require_perm(Perm.OPERATOR_APPLICATIONS_REVIEW)
def application_approve(request: HttpRequest, application_id: int) -> HttpResponse:
    return _decide(request, application_id, approve=True)


@require_POST
@require_perm(Perm.OPERATOR_APPLICATIONS_REVIEW)
def application_reject(request: HttpRequest, application_id: int) -> HttpResponse:
    return _decide(request, application_id, approve=False)
