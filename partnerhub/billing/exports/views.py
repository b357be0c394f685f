"""Export pages: one export URL per list (same filters as the list), the exports page, the download.

An export URL answers, by request:

- ``GET`` without ``format``: the options page (the list's filters, CSV or XLSX, now or in the background);
- ``GET ?format=csv|xlsx&<filters>`` (or the options form, ``POST mode=now``): the file at once, or the
  options page saying it is too large;
- ``POST mode=background``: a background export is queued; then the exports page, which follows its
  progress.

List pages link to it with their query string: ``{% url 'export_invoices' org.slug %}?{{ request.GET.urlencode }}``
(``billing/exports_links.html`` renders those links).
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable, Iterator
from typing import Any

from django.contrib import messages
from django.http import FileResponse, HttpRequest, HttpResponse, HttpResponseBase, QueryDict
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from partnerhub.access.decorators import require_perm
from partnerhub.access.perms import Perm
from partnerhub.billing import queries
from partnerhub.billing.exports import jobs
from partnerhub.billing.exports.columns import ALL_EVENTS, ALL_INVOICES, DATASETS, Dataset
from partnerhub.billing.exports.forms import ExportOptionsForm
from partnerhub.billing.exports.models import ExportFormat
from partnerhub.billing.exports.writers import XLSX_CONTENT_TYPE, csv_rows, rows_of, write_xlsx
from partnerhub.core.errors import ServiceError
from partnerhub.core.exports import streaming_csv_response
from partnerhub.core.htmx import render_page

GET_OR_POST = require_http_methods(["GET", "POST"])


def _filters(dataset: Dataset, data: QueryDict) -> dict[str, str]:
    """The dataset's filters present in a query string or form (format, paging etc. are not filters)."""
    return {name: value for name in jobs.filter_names(dataset) if (value := data.get(name, ""))}


def _in_language(language: str, rows: Iterable[list[Any]]) -> Iterator[list[Any]]:
    """Rows rendered in `language`: a streamed body is written after the view has returned."""
    with translation.override(language):
        yield from rows


def _file(download: jobs.Download) -> HttpResponseBase:
    plan = download.plan
    if plan.format == ExportFormat.CSV:
        rows = _in_language(translation.get_language(), csv_rows(plan.dataset, rows_of(plan.rows)))
        return streaming_csv_response(download.filename, plan.dataset.headers, rows)
    spool = tempfile.TemporaryFile()  # noqa: SIM115 (FileResponse closes it once sent)
    try:
        write_xlsx(spool, plan.dataset, rows_of(plan.rows))
        spool.seek(0)
    except BaseException:
        spool.close()
        raise
    response = FileResponse(spool, as_attachment=True, filename=download.filename, content_type=XLSX_CONTENT_TYPE)
    response["Cache-Control"] = "no-store"
    return response


def _options(
    request: HttpRequest, dataset: Dataset, data: QueryDict, *, error: str = "", too_large: int | None = None
) -> HttpResponse:
    org = request.org  # type: ignore[attr-defined]
    filter_form = dataset.form(data)
    filter_form.is_valid()
    context = {
        "org": org,
        "dataset": dataset,
        "filter_form": filter_form,
        "filter_fields": [filter_form[name] for name in jobs.filter_names(dataset)],
        "options": ExportOptionsForm(data if data.get("format") else None),
        "error": error,
        "too_large": too_large,
        "limit": jobs.sync_limit(),
    }
    return render(request, "billing/exports_options.html", context, status=400 if error else 200)


def _export(request: HttpRequest, key: str) -> HttpResponseBase:
    """The export of one list: options, a direct download, or a queued background export."""
    org = request.org  # type: ignore[attr-defined]
    actor = request.actor  # type: ignore[attr-defined]
    dataset = DATASETS[key]
    data = request.POST if request.method == "POST" else request.GET
    fmt = data.get("format", "")
    filters = _filters(dataset, data)
    if request.method == "POST" and data.get("mode") == "background":
        try:
            job = jobs.request_export(actor, org=org, dataset=key, fmt=fmt, filters=filters)
        except ServiceError as exc:
            return _options(request, dataset, data, error=" ".join(exc.messages))
        messages.success(request, _("Export %(job)s is queued. You will get an email when it is ready.") % {"job": job})
        return redirect("export_list", org.slug)
    if not fmt:
        return _options(request, dataset, data)
    try:
        download = jobs.export_now(actor, org=org, dataset=key, fmt=fmt, filters=filters)
    except jobs.TooLarge as exc:
        return _options(request, dataset, data, too_large=exc.rows)
    except ServiceError as exc:
        return _options(request, dataset, data, error=" ".join(exc.messages))
    return _file(download)


@require_perm(Perm.ORG_VIEW)
@GET_OR_POST
def export_products(request: HttpRequest) -> HttpResponseBase:
    """The organisation's products as CSV or XLSX."""
    return _export(request, "products")


@require_perm(Perm.BILLING_VIEW)
@GET_OR_POST
def export_orders(request: HttpRequest) -> HttpResponseBase:
    return _export(request, "orders")


@require_perm(Perm.BILLING_VIEW)
@GET_OR_POST
def export_order_lines(request: HttpRequest) -> HttpResponseBase:
    return _export(request, "order_lines")


@require_perm(Perm.BILLING_VIEW)
@GET_OR_POST
def export_invoices(request: HttpRequest) -> HttpResponseBase:
    return _export(request, "invoices")


@require_perm(Perm.BILLING_VIEW)
@GET_OR_POST
def export_events(request: HttpRequest) -> HttpResponseBase:
    return _export(request, "events")


@require_perm(ALL_INVOICES.perm)
@GET_OR_POST
def export_all_invoices(request: HttpRequest) -> HttpResponseBase:
    """Every customer's invoices, for operator billing staff."""
    return _export(request, "all_invoices")


@require_perm(ALL_EVENTS.perm)
@GET_OR_POST
def export_all_events(request: HttpRequest) -> HttpResponseBase:
    """Every organisation's billing events, one row per line, for operator staff."""
    return _export(request, "all_events")


@require_perm(Perm.ORG_VIEW)
def export_list(request: HttpRequest) -> HttpResponse:
    """The organisation's exports with their progress (htmx polls the rows while one is running)."""
    org = request.org  # type: ignore[attr-defined]
    perms = request.perms  # type: ignore[attr-defined]
    before = request.GET.get("before", "")
    page = queries.page_of(
        jobs.jobs_for(request.actor, org=org),  # type: ignore[attr-defined]
        before=int(before) if before.isdigit() else None,
    )
    context = {
        "org": org,
        "page": page,
        "paged": bool(before),
        "running": any(job.is_active for job in page.rows),
        "datasets": [ds for ds in DATASETS.values() if ds.perm in perms],
        "labels": {key: ds.label for key, ds in DATASETS.items()},
        "limit": jobs.sync_limit(),
    }
    return render_page(request, "billing/exports_list.html", context, partial="rows")


@require_perm(Perm.ORG_VIEW)
def export_download(request: HttpRequest, job_id: int) -> FileResponse:
    """A finished export's file, for members holding the permission of its data."""
    job = jobs.download_job(request.actor, org=request.org, job_id=job_id)  # type: ignore[attr-defined]
    return jobs.file_response(job)
