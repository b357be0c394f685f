"""Export services: download now, request a background export, download a finished one; and the task.

Access is the dataset's permission on the organisation (``columns.DATASETS``), checked through
partnerhub.access by every service here and again by the task when it runs. Exports are personal
data leaving the system, so each request and each download is written to the audit log.

A small export (at most ``EXPORT_SYNC_MAX_ROWS`` rows, default 5,000) is streamed at once. A larger
one, or one the user sends to the background, becomes an :class:`ExportJob`: the task writes the
file to a temporary file, stores it under ``MEDIA_ROOT`` and only then marks the job done, in the
same update that attaches the file, so a half-written file is never presented as done. The
requester is emailed a link when it is done.
"""

from __future__ import annotations

import logging
import secrets
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import partial
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import QuerySet
from django.http import FileResponse, Http404
from django.tasks import task
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from partnerhub.access.checks import is_acting, require
from partnerhub.access.policy import Actor, perms_for
from partnerhub.access.tasks import authorize
from partnerhub.accounts.adapter import supported_language
from partnerhub.audit.services import record
from partnerhub.billing.exports.columns import DATASETS, Dataset
from partnerhub.billing.exports.models import ExportFormat, ExportJob, ExportStatus
from partnerhub.billing.exports.writers import CSV_CONTENT_TYPE, WRITERS, XLSX_CONTENT_TYPE, rows_of
from partnerhub.core.errors import ServiceError
from partnerhub.core.mail import send_templated_mail
from partnerhub.orgs.models import Organisation

logger = logging.getLogger(__name__)

DEFAULT_SYNC_MAX_ROWS = 5000

AUDIT_REQUESTED = "export.requested"
AUDIT_DOWNLOADED = "export.downloaded"


class TooLarge(ServiceError):
    """More rows than a direct download may have: the export has to run in the background."""

    def __init__(self, rows: int, limit: int) -> None:
        super().__init__(
            _("This export has %(rows)s rows, more than %(limit)s: it runs in the background.")
            % {"rows": rows, "limit": limit}
        )
        self.rows = rows
        self.limit = limit


def sync_limit() -> int:
    return int(getattr(settings, "EXPORT_SYNC_MAX_ROWS", DEFAULT_SYNC_MAX_ROWS))


# --- what is asked for -------------------------------------------------------------------------------


def dataset_for(key: str) -> Dataset:
    found = DATASETS.get(key)
    if found is None:
        raise ServiceError(_("There is no export “%(name)s”.") % {"name": key[:40]})
    return found


def filter_names(dataset: Dataset) -> list[str]:
    """The filters of `dataset`: those of its list page."""
    return list(dataset.filters)


def _format(fmt: str) -> str:
    if fmt not in ExportFormat.values:
        raise ServiceError(_("Choose CSV or XLSX."))
    return fmt


def _clean_filters(dataset: Dataset, filters: Mapping[str, Any]) -> tuple[dict[str, str], Any]:
    """The valid filter form of `filters` and its values as JSON-safe text; invalid ones are refused.

    (A list page ignores an invalid filter; an export must not silently contain more than asked.)
    """
    names = filter_names(dataset)
    unknown = sorted(str(name) for name in filters if name not in names)
    if unknown:
        raise ServiceError(_("Unknown filters: %(names)s.") % {"names": ", ".join(unknown)[:200]})
    data = {name: str(value) for name, value in filters.items() if value not in (None, "")}
    form = dataset.form(data)
    if not form.is_valid():
        errors = [
            f"{form.fields[name].label}: {message}" if name in form.fields else str(message)
            for name, messages in form.errors.items()
            for message in messages
        ]
        raise ServiceError(_("The filters are not valid: %(errors)s") % {"errors": " ".join(errors)})
    cleaned = {}
    for name in names:
        value = form.cleaned_data.get(name)
        if value not in (None, ""):
            cleaned[name] = value.isoformat() if isinstance(value, date) else str(value)
    return cleaned, form


def _check(actor: Actor, org: Organisation, dataset: Dataset) -> None:
    """404 when `org` is not visible to the actor, 403 without the dataset's permission."""
    require(actor, dataset.perm, org)


@dataclass(frozen=True)
class Plan:
    """An export the actor may have: what, how, and its rows (a lazy query)."""

    dataset: Dataset
    format: str
    filters: dict[str, str]
    rows: QuerySet[Any]

    def filename(self, org: Organisation, day: date | None = None) -> str:
        return export_filename(self.dataset, org, self.format, day)


def export_filename(dataset: Dataset, org: Organisation, fmt: str, day: date | None = None) -> str:
    """``invoices-acme-2026-11-25.csv``."""
    return f"{dataset.key.replace('_', '-')}-{org.slug}-{(day or timezone.localdate()).isoformat()}.{fmt}"


def plan_export(actor: Actor, *, org: Organisation, dataset: str, fmt: str, filters: Mapping[str, Any]) -> Plan:
    """Check access to a dataset of `org` and its filters; nothing is read or written yet."""
    found = dataset_for(dataset)
    _check(actor, org, found)
    fmt = _format(fmt)
    cleaned, form = _clean_filters(found, filters)
    return Plan(dataset=found, format=fmt, filters=cleaned, rows=found.rows(actor, org, form))


# --- direct download ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Download:
    plan: Plan
    count: int
    filename: str


def export_now(
    actor: Actor,
    *,
    org: Organisation,
    dataset: str,
    fmt: str,
    filters: Mapping[str, Any],
    max_rows: int | None = None,
) -> Download:
    """A direct download of at most `max_rows` rows (``EXPORT_SYNC_MAX_ROWS``); audited.

    Raises :class:`TooLarge` above the limit (nothing is recorded then).
    """
    plan = plan_export(actor, org=org, dataset=dataset, fmt=fmt, filters=filters)
    count = plan.rows.count()
    limit = sync_limit() if max_rows is None else max_rows
    if count > limit:
        raise TooLarge(count, limit)
    with transaction.atomic():
        record(
            actor,
            AUDIT_DOWNLOADED,
            org=org,
            after={"dataset": plan.dataset.key, "format": plan.format, "filters": plan.filters, "rows": count},
        )
    return Download(plan=plan, count=count, filename=plan.filename(org))


# --- background exports ------------------------------------------------------------------------------


def request_export(
    actor: Actor,
    *,
    org: Organisation,
    dataset: str,
    fmt: str,
    filters: Mapping[str, Any],
    language: str | None = None,
) -> ExportJob:
    """Queue a background export for the actor (dataset permission on `org`); audited, run on commit."""
    plan = plan_export(actor, org=org, dataset=dataset, fmt=fmt, filters=filters)
    language = supported_language(language or translation.get_language()) or settings.LANGUAGE_CODE
    with transaction.atomic():
        job = ExportJob.objects.create(
            org=org,
            requested_by=actor.user,
            dataset=plan.dataset.key,
            format=plan.format,
            filters=plan.filters,
            language=language,
        )
        record(
            actor,
            AUDIT_REQUESTED,
            org=org,
            obj=job,
            after={"dataset": job.dataset, "format": job.format, "filters": job.filters},
        )
        transaction.on_commit(partial(run_export.enqueue, job_id=job.pk))
    return job


def _visible_keys(actor: Actor, org: Organisation) -> list[str]:
    if not is_acting(actor):
        return []
    perms = perms_for(actor.user, org, api_key=actor.api_key)
    return [key for key, ds in DATASETS.items() if ds.perm in perms]


def jobs_for(actor: Actor, *, org: Organisation) -> QuerySet[ExportJob]:
    """The organisation's exports of the datasets the actor may see (anyone's requests), newest first."""
    return (
        ExportJob.objects.filter(org=org, dataset__in=_visible_keys(actor, org))
        .select_related("requested_by")
        .order_by("-id")
    )


def job_in(actor: Actor, *, org: Organisation, job_id: int) -> ExportJob:
    """One export of `org`: 404 when it is another organisation's (or none), 403 without its permission."""
    job = ExportJob.objects.filter(org=org, pk=job_id).select_related("org", "requested_by").first()
    if job is None:
        raise Http404
    _check(actor, org, dataset_for(job.dataset))
    return job


def download_job(actor: Actor, *, org: Organisation, job_id: int) -> ExportJob:
    """A finished export's file for members holding its dataset's permission; audited."""
    job = job_in(actor, org=org, job_id=job_id)
    if job.status != ExportStatus.DONE or not job.file.name or not job.file.storage.exists(job.file.name):
        raise Http404
    with transaction.atomic():
        record(
            actor,
            AUDIT_DOWNLOADED,
            org=org,
            obj=job,
            after={"dataset": job.dataset, "format": job.format, "filters": job.filters, "rows": job.rows_total},
        )
    return job


def job_filename(job: ExportJob) -> str:
    day = timezone.localdate(job.finished_at) if job.finished_at else None
    return export_filename(dataset_for(job.dataset), job.org, job.format, day)


def file_response(job: ExportJob) -> FileResponse:
    """The stored file of a finished export (from :func:`download_job`) as an attachment."""
    try:
        handle = job.file.open("rb")
    except FileNotFoundError:
        raise Http404 from None
    content_type = XLSX_CONTENT_TYPE if job.format == ExportFormat.XLSX else CSV_CONTENT_TYPE
    response = FileResponse(handle, as_attachment=True, filename=job_filename(job), content_type=content_type)
    response["Cache-Control"] = "no-store"
    return response


# --- the task ----------------------------------------------------------------------------------------


@task()
def run_export(*, job_id: int) -> str:
    """Write one queued export (see :func:`perform_export`)."""
    return perform_export(job_id)


def perform_export(job_id: int) -> str:
    """Write a queued export's file, re-checking its requester's access first.

    Returns the outcome: ``done``, ``failed``, ``refused`` (access gone: failed, no file) or
    ``skipped`` (not queued any more: a second run does nothing).
    """
    if not ExportJob.objects.filter(pk=job_id, status=ExportStatus.QUEUED).update(
        status=ExportStatus.RUNNING, started_at=timezone.now()
    ):
        return "skipped"
    job = ExportJob.objects.select_related("org", "requested_by").get(pk=job_id)
    with translation.override(job.language):
        dataset = DATASETS.get(job.dataset)
        try:
            if dataset is None or job.requested_by_id is None:
                raise PermissionDenied
            actor, org = authorize(user_id=job.requested_by_id, perm=dataset.perm, org_id=job.org_id)
        except PermissionDenied:
            _fail(job, _("The export was not written: the person who asked for it no longer has access."))
            return "refused"
        try:
            name, count = _write(job, dataset, actor, org)
            return _finish(job, name, count)
        except Exception:
            logger.exception("export %s failed", job.pk)
            _fail(job, _("The export could not be written. Please try again; if it fails again, contact support."))
            return "failed"


class _Counted:
    """Counts the rows a writer consumed and reports progress to the job every few hundred."""

    def __init__(self, job_id: int, rows: Iterable[Any]) -> None:
        self.job_id = job_id
        self.rows = rows
        self.count = 0

    def __iter__(self) -> Iterator[Any]:
        for row in self.rows:
            self.count += 1
            yield row

    def progress(self, done: int) -> None:
        ExportJob.objects.filter(pk=self.job_id).update(rows_done=done)


def _write(job: ExportJob, dataset: Dataset, actor: Actor, org: Organisation) -> tuple[str, int]:
    _cleaned, form = _clean_filters(dataset, job.filters)
    rows = dataset.rows(actor, org, form)
    ExportJob.objects.filter(pk=job.pk).update(rows_total=rows.count())
    counted = _Counted(job.pk, rows_of(rows))
    with tempfile.TemporaryFile() as spool:
        WRITERS[job.format](spool, dataset, counted, counted.progress)
        spool.seek(0)
        # Unguessable names: the files are personal data, even though MEDIA_ROOT is not served.
        name = f"exports/{org.pk}/{job.pk}-{secrets.token_hex(8)}.{job.format}"
        stored = default_storage.save(name, File(spool, name=name))
    return stored, counted.count


def _finish(job: ExportJob, name: str, count: int) -> str:
    """Attach the complete file and mark the job done in one update; email the requester after commit."""
    try:
        with transaction.atomic():
            finished = ExportJob.objects.filter(pk=job.pk, status=ExportStatus.RUNNING).update(
                status=ExportStatus.DONE,
                file=name,
                rows_done=count,
                rows_total=count,
                finished_at=timezone.now(),
                error="",
            )
            if finished:
                job.refresh_from_db()
                _notify(job)
    except Exception:
        default_storage.delete(name)
        raise
    if not finished:
        default_storage.delete(name)
        return "skipped"
    return "done"


def _fail(job: ExportJob, message: str) -> None:
    ExportJob.objects.filter(pk=job.pk).update(
        status=ExportStatus.FAILED, error=message[:500], file="", finished_at=timezone.now()
    )


def _notify(job: ExportJob) -> None:
    user = job.requested_by
    if user is None:
        return
    base = settings.SITE_URL
    send_templated_mail(
        template="billing/email/exports_ready",
        to=[user.email],
        language=supported_language(user.language) or job.language,
        context={
            "job": job,
            "dataset": DATASETS[job.dataset].label,
            "org_name": job.org.name,
            "rows": job.rows_total,
            "download_url": base + reverse("export_download", args=[job.org.slug, job.pk]),
            "list_url": base + reverse("export_list", args=[job.org.slug]),
        },
    )


# --- retention ---------------------------------------------------------------------------------------

DEFAULT_RETENTION_DAYS = 7


def purge_exports(*, now: datetime | None = None) -> int:
    """Delete finished exports (and their files) older than ``EXPORT_RETENTION_DAYS`` (default 7).

    Export files are copies of personal data; they are kept only long enough to be downloaded.
    Run it daily (``purge_exports_task``); the audit log keeps the record of each request and download.
    """
    days = int(getattr(settings, "EXPORT_RETENTION_DAYS", DEFAULT_RETENTION_DAYS))
    cutoff = (now or timezone.now()) - timedelta(days=days)
    old = ExportJob.objects.filter(
        status__in=[ExportStatus.DONE, ExportStatus.FAILED], finished_at__lt=cutoff
    ).order_by("pk")
    purged = 0
    for job in old.iterator(chunk_size=200):
        if job.file.name:
            default_storage.delete(job.file.name)
        job.delete()
        purged += 1
    return purged


@task()
def purge_exports_task() -> int:
    """Daily: finished exports older than the retention period go, files first."""
    return purge_exports()
