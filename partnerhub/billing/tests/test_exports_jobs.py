"""Background exports: the job from request to emailed link, failures, the access re-check, the pages."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils import timezone

from partnerhub.access.policy import Actor
from partnerhub.audit.models import AuditEntry
from partnerhub.billing.exports import jobs
from partnerhub.billing.exports.models import ExportJob, ExportStatus
from partnerhub.billing.models import InvoiceStatus, ProductStatus
from partnerhub.billing.tests.exports_data import body, csv_of, customer_product, invoice, product, sheet_of, snapshot
from partnerhub.core.errors import ServiceError
from partnerhub.orgs.models import Membership


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def files_in(settings) -> list[str]:
    root = settings.MEDIA_ROOT
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()) if root.exists() else []


def test_a_background_export_is_written_and_its_requester_emailed(
    acme, acme_owner, settings, django_capture_on_commit_callbacks
):
    invoice(acme, 1, total="347.20", status=InvoiceStatus.PAID)
    invoice(acme, 2, total="10.00")
    invoice(acme, 3, total="99.95", status=InvoiceStatus.PAID)

    with django_capture_on_commit_callbacks(execute=True):
        job = jobs.request_export(
            Actor(user=acme_owner), org=acme, dataset="invoices", fmt="xlsx", filters={"status": "paid"}, language="en"
        )

    job.refresh_from_db()
    assert job.status == ExportStatus.DONE
    assert (job.rows_total, job.rows_done, job.percent, job.error) == (2, 2, 100, "")
    assert job.filters == {"status": "paid"}
    assert job.finished_at is not None
    assert files_in(settings) == [job.file.name]
    with job.file.open("rb") as handle:
        sheet = sheet_of(handle.read())
    assert [row[0].value for row in sheet.iter_rows(min_row=2)] == ["CHF-000003", "CHF-000001"]
    assert Decimal(str(sheet["I2"].value)) == Decimal("99.95")
    [message] = mail.outbox
    assert message.to == ["owner@acme.test"]
    assert f"http://127.0.0.1:8000/o/acme/exports/{job.pk}/download/" in message.body
    assert "Invoices" in message.subject and "Acme GmbH" in message.subject
    requested = AuditEntry.objects.get(action="export.requested")
    assert requested.object_id == str(job.pk) and requested.org == acme and requested.actor == acme_owner
    assert requested.after == {"dataset": "invoices", "format": "xlsx", "filters": {"status": "paid"}}


def test_progress_is_reported_while_writing(acme, acme_member, monkeypatch, django_capture_on_commit_callbacks):
    item = product()
    for _n in range(5):
        customer_product(acme, item)
    seen: list[int] = []
    original = jobs._Counted.progress

    def spy(self, done):
        original(self, done)
        seen.append(ExportJob.objects.get(pk=self.job_id).rows_done)

    monkeypatch.setattr(jobs._Counted, "progress", spy)
    monkeypatch.setattr("partnerhub.billing.exports.writers.PROGRESS_EVERY", 2)

    with django_capture_on_commit_callbacks(execute=True):
        job = jobs.request_export(Actor(user=acme_member), org=acme, dataset="products", fmt="csv", filters={})

    assert seen == [2, 4]
    job.refresh_from_db()
    assert (job.status, job.rows_done, job.rows_total) == (ExportStatus.DONE, 5, 5)


def test_a_failing_export_ends_failed_with_a_message_and_no_file(
    acme, acme_owner, settings, tmp_path, django_capture_on_commit_callbacks
):
    invoice(acme, 1)
    blocked = tmp_path / "blocked"
    blocked.write_text("not a directory")
    settings.MEDIA_ROOT = blocked  # the disk refuses the file

    with django_capture_on_commit_callbacks(execute=True):
        job = jobs.request_export(Actor(user=acme_owner), org=acme, dataset="invoices", fmt="csv", filters={})

    job.refresh_from_db()
    assert job.status == ExportStatus.FAILED
    assert "could not be written" in job.error
    assert job.file.name == ""
    assert job.finished_at is not None
    assert mail.outbox == []


def test_access_is_checked_again_when_the_task_runs(acme, acme_admin, settings, django_capture_on_commit_callbacks):
    invoice(acme, 1)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        job = jobs.request_export(Actor(user=acme_admin), org=acme, dataset="invoices", fmt="csv", filters={})
    Membership.objects.filter(user=acme_admin, org=acme).delete()

    for callback in callbacks:
        callback()

    job.refresh_from_db()
    assert job.status == ExportStatus.FAILED
    assert "no longer has access" in job.error
    assert job.file.name == "" and job.rows_total is None
    assert files_in(settings) == []
    assert mail.outbox == []


def test_a_job_runs_once(acme, acme_owner, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        job = jobs.request_export(Actor(user=acme_owner), org=acme, dataset="orders", fmt="csv", filters={})

    assert jobs.perform_export(job.pk) == "skipped"
    assert len(mail.outbox) == 1


def test_requesting_checks_the_dataset_permission_and_the_filters(acme, acme_member, acme_owner, globex_owner):
    before = snapshot()

    with pytest.raises(PermissionDenied):
        jobs.request_export(Actor(user=acme_member), org=acme, dataset="invoices", fmt="csv", filters={})
    with pytest.raises(Http404):
        jobs.request_export(Actor(user=globex_owner), org=acme, dataset="products", fmt="csv", filters={})
    for dataset, fmt, filters in [
        ("nothing", "csv", {}),
        ("invoices", "pdf", {}),
        ("invoices", "csv", {"stauts": "paid"}),
        ("invoices", "csv", {"date_from": "yesterday"}),
        ("invoices", "csv", {"date_from": "2026-02-01", "date_to": "2026-01-01"}),
    ]:
        with pytest.raises(ServiceError):
            jobs.request_export(Actor(user=acme_owner), org=acme, dataset=dataset, fmt=fmt, filters=filters)

    assert snapshot() == before
    assert mail.outbox == []


# --- pages -------------------------------------------------------------------------------------------


def test_the_options_form_queues_a_background_export(client_for, acme, acme_owner, django_capture_on_commit_callbacks):
    invoice(acme, 1, status=InvoiceStatus.PAID)
    invoice(acme, 2)
    client = client_for(acme_owner)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/o/acme/invoices/export/", {"format": "csv", "mode": "background", "status": "paid", "before": "9"}
        )

    assert response.status_code == 302 and response["Location"] == "/o/acme/exports/"
    job = ExportJob.objects.get()
    assert (job.dataset, job.format, job.filters, job.status) == ("invoices", "csv", {"status": "paid"}, "done")
    page = client.get("/o/acme/exports/").content.decode()
    assert f"/o/acme/exports/{job.pk}/download/" in page
    assert 'hx-trigger="every 2s"' not in page
    download = client.get(f"/o/acme/exports/{job.pk}/download/")
    assert download.status_code == 200
    assert [row[0] for row in csv_of(download)[1:]] == ["CHF-000001"]
    entry = AuditEntry.objects.get(action="export.downloaded")
    assert entry.object_id == str(job.pk) and entry.actor == acme_owner


def test_a_refused_background_request_shows_the_error(client_for, acme, acme_owner):
    response = client_for(acme_owner).post(
        "/o/acme/invoices/export/", {"format": "csv", "mode": "background", "date_from": "soon"}
    )

    assert response.status_code == 400
    assert b"The filters are not valid" in response.content
    assert ExportJob.objects.count() == 0


def test_the_exports_page_polls_while_an_export_runs(client_for, acme, acme_owner):
    job = ExportJob.objects.create(
        org=acme,
        requested_by=acme_owner,
        dataset="products",
        format="csv",
        status="running",
        rows_total=10,
        rows_done=4,
    )
    client = client_for(acme_owner)

    page = client.get("/o/acme/exports/")
    rows = client.get("/o/acme/exports/", headers={"HX-Request": "true"})

    content = page.content.decode()
    assert 'hx-trigger="every 2s"' in content
    assert '<progress value="4" max="10">40 %</progress>' in content
    assert 'href="/o/acme/exports/"' in content  # the refresh link without JavaScript
    assert f'data-export="{job.pk}"' in rows.content.decode()
    assert b"<html" not in rows.content
    assert rows.content.decode().lstrip().startswith('<div id="export-rows" hx-get=')

    ExportJob.objects.filter(pk=job.pk).update(status="failed", error="Disk full.")
    stopped = client.get("/o/acme/exports/", headers={"HX-Request": "true"}).content.decode()
    assert "every 2s" not in stopped and "Disk full." in stopped


def test_the_exports_page_shows_only_exports_the_member_may_see(client_for, acme, acme_owner, acme_member):
    mine = ExportJob.objects.create(org=acme, requested_by=acme_member, dataset="products", format="csv")
    billing = ExportJob.objects.create(org=acme, requested_by=acme_owner, dataset="invoices", format="csv")

    content = client_for(acme_member).get("/o/acme/exports/").content.decode()

    assert f'data-export="{mine.pk}"' in content
    assert f'data-export="{billing.pk}"' not in content
    assert 'data-dataset="products"' in content and 'data-dataset="invoices"' not in content


def _done_job(client, org_slug: str, dataset: str, capture) -> ExportJob:
    with capture(execute=True):
        client.post(f"/o/{org_slug}/{dataset}/export/", {"format": "csv", "mode": "background"})
    return ExportJob.objects.latest("pk")


def test_downloads_are_for_the_organisation_members_with_the_permission(
    client_for, acme, acme_owner, acme_admin, acme_member, globex, globex_owner, django_capture_on_commit_callbacks
):
    invoice(acme, 1)
    job = _done_job(client_for(acme_owner), "acme", "invoices", django_capture_on_commit_callbacks)
    assert job.status == ExportStatus.DONE
    url = f"/o/acme/exports/{job.pk}/download/"
    before = AuditEntry.objects.filter(action="export.downloaded").count()

    assert client_for(acme_admin).get(url).status_code == 200  # another member with billing.view
    assert client_for(acme_member).get(url).status_code == 403
    assert client_for(globex_owner).get(url).status_code == 404
    assert client_for(globex_owner).get(f"/o/globex/exports/{job.pk}/download/").status_code == 404
    assert AuditEntry.objects.filter(action="export.downloaded").count() == before + 1


def test_an_unfinished_export_has_nothing_to_download(client_for, acme, acme_owner):
    queued = ExportJob.objects.create(org=acme, requested_by=acme_owner, dataset="products", format="csv")
    failed = ExportJob.objects.create(
        org=acme, requested_by=acme_owner, dataset="products", format="csv", status="failed", error="x"
    )

    for job in (queued, failed):
        assert client_for(acme_owner).get(f"/o/acme/exports/{job.pk}/download/").status_code == 404
    assert AuditEntry.objects.filter(action="export.downloaded").count() == 0


def test_a_large_products_export_from_the_options_page_runs_in_the_background(
    client_for, acme, acme_member, settings, django_capture_on_commit_callbacks
):
    settings.EXPORT_SYNC_MAX_ROWS = 1
    item = product()
    customer_product(acme, item)
    customer_product(acme, item, status=ProductStatus.SUSPENDED)
    client = client_for(acme_member)

    with django_capture_on_commit_callbacks(execute=True):
        client.post("/o/acme/products/export/", {"format": "xlsx", "mode": "background"})

    job = ExportJob.objects.get()
    assert (job.status, job.rows_total) == (ExportStatus.DONE, 2)
    sheet = sheet_of(body(client.get(f"/o/acme/exports/{job.pk}/download/")))
    assert [row[6].value for row in sheet.iter_rows(min_row=2)] == ["Suspended", "Active"]


def test_old_finished_exports_are_purged_with_their_files(
    acme, acme_owner, settings, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        old = jobs.request_export(Actor(user=acme_owner), org=acme, dataset="products", fmt="csv", filters={})
        fresh = jobs.request_export(Actor(user=acme_owner), org=acme, dataset="orders", fmt="csv", filters={})
    running = ExportJob.objects.create(org=acme, requested_by=acme_owner, dataset="products", format="csv")
    old.refresh_from_db()
    fresh.refresh_from_db()
    ExportJob.objects.filter(pk=old.pk).update(finished_at=timezone.now() - timedelta(days=8))

    assert jobs.purge_exports() == 1

    assert set(ExportJob.objects.values_list("pk", flat=True)) == {fresh.pk, running.pk}
    assert files_in(settings) == [fresh.file.name]
