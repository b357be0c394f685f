"""Exports through the API: request a background export, follow it, download the file.

Every export requested here runs in the background (the portal's direct downloads are for people).
Access: ``org.view`` to reach the organisation's exports, plus the permission of the dataset
(``partnerhub.billing.exports.columns``), checked by the services; the task checks it again.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from django.conf import settings
from django.http import FileResponse, HttpRequest
from django.urls import reverse
from ninja import Query, Router, Schema, Status
from pydantic import Field

from partnerhub.access.perms import Perm
from partnerhub.api.endpoints import actor_of, org_of
from partnerhub.api.pagination import Page, PageParams, paginate
from partnerhub.api.routing import operation
from partnerhub.api.schemas import Body
from partnerhub.billing.exports import jobs
from partnerhub.billing.exports.models import ExportFormat, ExportJob, ExportStatus
from partnerhub.billing.exports.writers import XLSX_CONTENT_TYPE

router = Router(tags=["exports"])

# The keys of partnerhub.billing.exports.columns.DATASETS (a test keeps them equal).
DatasetKey = Literal["products", "orders", "order_lines", "invoices", "events", "all_invoices", "all_events"]


class ExportCreate(Body):
    dataset: DatasetKey = Field(
        description="products (org.view); orders, order_lines, invoices, events (billing.view); on the operator "
        "organisation also all_invoices (operator.payouts.manage) and all_events (operator.program.manage)."
    )
    format: ExportFormat = ExportFormat.CSV
    filters: dict[str, str] = Field(
        default_factory=dict,
        max_length=10,
        description='The list\'s filters, e.g. {"status": "paid", "date_from": "2026-01-01"}: status, kind, '
        "org (operator lists), date_from, date_to (YYYY-MM-DD). Unknown or invalid filters answer 422.",
    )


class ExportJobOut(Schema):
    id: int
    number: str
    dataset: str
    format: str
    filters: dict[str, Any]
    status: ExportStatus
    rows_done: int
    rows_total: int | None
    percent: int
    error: str
    requested_by: str | None
    created_at: datetime
    finished_at: datetime | None
    download_url: str | None = Field(description="Set once the export is done.")

    @staticmethod
    def resolve_number(obj: ExportJob) -> str:
        return str(obj)

    @staticmethod
    def resolve_requested_by(obj: ExportJob) -> str | None:
        return obj.requested_by.email if obj.requested_by else None

    @staticmethod
    def resolve_download_url(obj: ExportJob) -> str | None:
        if obj.status != ExportStatus.DONE:
            return None
        path = reverse("api:export_file", kwargs={"org_slug": obj.org.slug, "job_id": obj.pk})
        return settings.SITE_URL + path


@operation(
    router,
    "POST",
    "/orgs/{org_slug}/exports",
    perm=Perm.ORG_VIEW,
    response={202: ExportJobOut},
    summary="Request an export",
    description="Queues a CSV or XLSX export of one of the organisation's lists, filtered like the list. "
    "Needs the dataset's permission too (403 without it). Follow it with GET …/exports/{job_id}; the "
    "requester is emailed a link when it is done.",
)
def create_export(request: HttpRequest, org_slug: str, data: ExportCreate) -> Status[ExportJob]:
    job = jobs.request_export(
        actor_of(request), org=org_of(request), dataset=data.dataset, fmt=str(data.format), filters=data.filters
    )
    return Status(202, job)


@operation(
    router,
    "GET",
    "/orgs/{org_slug}/exports",
    perm=Perm.ORG_VIEW,
    response=Page[ExportJobOut],
    summary="List the organisation's exports",
    description="Exports of the datasets the caller may see, newest first.",
)
def list_exports(request: HttpRequest, org_slug: str, page: Query[PageParams]) -> Page[ExportJobOut]:
    rows = jobs.jobs_for(actor_of(request), org=org_of(request)).select_related("org")
    return paginate(rows, page, ExportJobOut)


@operation(
    router,
    "GET",
    "/orgs/{org_slug}/exports/{job_id}",
    perm=Perm.ORG_VIEW,
    response=ExportJobOut,
    summary="Get an export's status and progress",
)
def get_export(request: HttpRequest, org_slug: str, job_id: int) -> ExportJob:
    return jobs.job_in(actor_of(request), org=org_of(request), job_id=job_id)


FILE_DOC = {
    "responses": {
        "200": {
            "description": "The export file.",
            "content": {"text/csv": {}, XLSX_CONTENT_TYPE: {}},
        }
    }
}


@operation(
    router,
    "GET",
    "/orgs/{org_slug}/exports/{job_id}/download",
    perm=Perm.ORG_VIEW,
    response={200: None},
    summary="Download a finished export",
    description="404 until the export is done (or when it failed).",
    url_name="export_file",
    openapi_extra=FILE_DOC,
)
def download_export(request: HttpRequest, org_slug: str, job_id: int) -> FileResponse:
    job = jobs.download_job(actor_of(request), org=org_of(request), job_id=job_id)
    return jobs.file_response(job)
