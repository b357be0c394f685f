"""A background export: what was asked for, how far it got, and the finished file."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class ExportStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


class ExportFormat(models.TextChoices):
    CSV = "csv", "CSV"
    XLSX = "xlsx", _("Excel (XLSX)")


class ExportJob(models.Model):
    """One export written by the task worker; the file is set only once it is complete (status done)."""

    org = models.ForeignKey("orgs.Organisation", on_delete=models.CASCADE, related_name="export_jobs")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="export_jobs"
    )
    dataset = models.CharField(_("data"), max_length=32)
    format = models.CharField(_("format"), max_length=8, choices=ExportFormat.choices)
    # The list filters as cleaned query-string values ({"status": "paid", "date_from": "2026-01-01"}).
    filters = models.JSONField(_("filters"), default=dict, blank=True)
    # The language of the headers and labels in the file: the requester's at the time of the request.
    language = models.CharField(max_length=16, default="en")
    status = models.CharField(_("status"), max_length=16, choices=ExportStatus.choices, default=ExportStatus.QUEUED)
    rows_done = models.PositiveIntegerField(_("rows written"), default=0)
    rows_total = models.PositiveIntegerField(_("rows"), null=True, blank=True)
    file = models.FileField(_("file"), upload_to="exports/", max_length=300, blank=True)
    error = models.CharField(_("error"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("requested"), default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["org", "-id"], name="export_job_org_recent")]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=ExportStatus.values), name="export_job_status_valid"),
            models.CheckConstraint(condition=Q(format__in=ExportFormat.values), name="export_job_format_valid"),
            # A file is only ever attached to a finished export, and a finished export has one.
            models.CheckConstraint(
                condition=Q(status=ExportStatus.DONE, file__gt="") | (~Q(status=ExportStatus.DONE) & Q(file="")),
                name="export_job_file_iff_done",
            ),
        ]

    def __str__(self) -> str:
        return f"E-{self.pk:06d}" if self.pk else "E-new"

    @property
    def percent(self) -> int:
        """Progress in whole percent (100 when done, 0 while the total is unknown)."""
        if self.status == ExportStatus.DONE:
            return 100
        if not self.rows_total:
            return 0
        return min(100, self.rows_done * 100 // self.rows_total)

    @property
    def is_active(self) -> bool:
        return self.status in (ExportStatus.QUEUED, ExportStatus.RUNNING)
