"""The audit log page and its CSV export, both for the organisation in the URL."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, HttpResponseBase
from django.utils import timezone

from partnerhub.access.decorators import require_perm
from partnerhub.access.perms import Perm
from partnerhub.audit import exports
from partnerhub.audit.changes import changes_of
from partnerhub.audit.forms import AuditFilterForm
from partnerhub.audit.queries import acting_partners_for, actions_for, entries_for, page_of
from partnerhub.core.exports import streaming_csv_response
from partnerhub.core.htmx import render_page


@require_perm(Perm.AUDIT_VIEW)
def audit_list(request: HttpRequest) -> HttpResponse:
    """The organisation's audit log, newest first, filtered and paged by id."""
    org = request.org  # type: ignore[attr-defined]
    form = AuditFilterForm(request.GET, actions=actions_for(org), partners=acting_partners_for(org))
    filters = form.filters()
    before, after = form.cleaned_data.get("before"), form.cleaned_data.get("after")
    page = page_of(org, filters=filters, before=before, after=after)
    rows = [(entry, changes_of(entry)) for entry in page.rows]
    context = {
        "org": org,
        "form": form,
        "page": page,
        "rows": rows,
        "paged": before is not None or after is not None,
        "show_partner": any(entry.on_behalf_of_partner_id for entry in page.rows),
        "show_session": any(entry.management_session_id for entry in page.rows),
    }
    return render_page(request, "audit/audit_list.html", context, partial="rows")


@require_perm(Perm.AUDIT_VIEW)
def audit_export(request: HttpRequest) -> HttpResponseBase:
    """The organisation's audit log with the page's filters as a streamed CSV file."""
    org = request.org  # type: ignore[attr-defined]
    form = AuditFilterForm(request.GET, actions=actions_for(org), partners=acting_partners_for(org))
    if not form.is_valid():
        return HttpResponseBadRequest(form.errors.as_text(), content_type="text/plain; charset=utf-8")
    entries = entries_for(org, filters=form.filters())
    filename = f"audit-{org.slug}-{timezone.localdate():%Y-%m-%d}.csv"
    return streaming_csv_response(filename, exports.HEADER, exports.rows(entries))
