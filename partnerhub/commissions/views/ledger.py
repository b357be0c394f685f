"""The commission ledger of a partner or affiliate: filters, keyset pages newest first, CSV/XLSX export."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, HttpResponseBase

from partnerhub.access.decorators import require_perm
from partnerhub.access.perms import Perm
from partnerhub.commissions import exports, queries, services
from partnerhub.commissions.forms import LedgerFilterForm
from partnerhub.core.htmx import render_page
from partnerhub.core.paging import keyset_page

PAGE_SIZE = 50


@require_perm(Perm.PARTNER_PORTAL_MANAGE)
def ledger(request: HttpRequest) -> HttpResponse:
    org = request.org  # type: ignore[attr-defined]
    form = LedgerFilterForm(request.GET)
    rows = queries.ledger_entries(org, form.filters())
    before, after = form.value("before"), form.value("after")
    page = keyset_page(rows, before=before, after=after, size=PAGE_SIZE)
    names = queries.product_names(page.rows)
    export_query = request.GET.copy()
    for key in ("before", "after", "format"):
        export_query.pop(key, None)
    context = {
        "org": org,
        "form": form,
        "page": page,
        "rows": [(entry, names.get(entry.product_sku, entry.product_sku)) for entry in page.rows],
        "paged": before is not None or after is not None,
        "filtered": form.filtered,
        "export_query": export_query.urlencode(),
        "hx_target": "#ledger-rows",
    }
    return render_page(request, "commissions/ledger.html", context, partial="rows")


@require_perm(Perm.PARTNER_PORTAL_MANAGE)
def ledger_export(request: HttpRequest) -> HttpResponseBase:
    org = request.org  # type: ignore[attr-defined]
    fmt = request.GET.get("format", "csv")
    if fmt not in exports.FORMATS:
        fmt = "csv"
    form = LedgerFilterForm(request.GET)
    filters = {name: str(form.value(name)) for name in form.FILTERS if form.value(name)}
    services.record_ledger_export(request.actor, org=org, fmt=fmt, filters=filters)  # type: ignore[attr-defined]
    return exports.response(fmt, org.slug, queries.ledger_entries(org, form.filters()))
