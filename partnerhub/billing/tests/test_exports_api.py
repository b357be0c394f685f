"""The exports API: request (202), follow, list, download; problems for refusals."""

from __future__ import annotations

import typing

import pytest
from django.core import mail

from partnerhub.api.endpoints.exports import DatasetKey
from partnerhub.api.tests.helpers import assert_problem, send
from partnerhub.billing.exports.columns import DATASET_KEYS
from partnerhub.billing.exports.models import ExportJob
from partnerhub.billing.models import InvoiceStatus
from partnerhub.billing.tests.exports_data import body, csv_of, event, invoice, snapshot


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def test_the_api_datasets_are_the_export_datasets():
    assert set(typing.get_args(DatasetKey)) == set(DATASET_KEYS)


def test_request_follow_and_download_an_export(client_for, acme, acme_owner, django_capture_on_commit_callbacks):
    invoice(acme, 1, status=InvoiceStatus.PAID)
    invoice(acme, 2)
    client = client_for(acme_owner)

    with django_capture_on_commit_callbacks(execute=True):
        response = send(
            client,
            "POST",
            "/api/v1/orgs/acme/exports",
            {"dataset": "invoices", "format": "csv", "filters": {"status": "paid"}},
        )

    assert response.status_code == 202, response.content
    created = response.json()
    assert (created["dataset"], created["format"], created["filters"]) == ("invoices", "csv", {"status": "paid"})
    assert created["requested_by"] == "owner@acme.test"
    job_id = created["id"]
    fetched = client.get(f"/api/v1/orgs/acme/exports/{job_id}").json()
    assert (fetched["status"], fetched["rows_total"], fetched["rows_done"], fetched["percent"]) == ("done", 1, 1, 100)
    assert fetched["download_url"] == f"http://127.0.0.1:8000/api/v1/orgs/acme/exports/{job_id}/download"
    listed = client.get("/api/v1/orgs/acme/exports").json()
    assert [item["id"] for item in listed["items"]] == [job_id]
    download = client.get(f"/api/v1/orgs/acme/exports/{job_id}/download")
    assert download.status_code == 200
    assert download["Content-Type"] == "text/csv; charset=utf-8"
    assert [row[0] for row in csv_of(download)[1:]] == ["CHF-000001"]
    assert len(mail.outbox) == 1


def test_an_unfinished_export_has_no_download(client_for, acme, acme_owner):
    job = ExportJob.objects.create(org=acme, requested_by=acme_owner, dataset="orders", format="xlsx")
    client = client_for(acme_owner)

    assert client.get(f"/api/v1/orgs/acme/exports/{job.pk}").json()["download_url"] is None
    assert_problem(client.get(f"/api/v1/orgs/acme/exports/{job.pk}/download"), 404)


def test_the_operator_exports_billing_events(client_for, operator_staff, acme, django_capture_on_commit_callbacks):
    event(acme, "pay-1", [("web-hosting", "100.00")])
    client = client_for(operator_staff)

    with django_capture_on_commit_callbacks(execute=True):
        response = send(client, "POST", "/api/v1/orgs/operator/exports", {"dataset": "all_events", "format": "xlsx"})

    job_id = response.json()["id"]
    content = body(client.get(f"/api/v1/orgs/operator/exports/{job_id}/download"))
    assert content.startswith(b"PK")  # a zip container: XLSX


@pytest.mark.parametrize(
    ("who", "org", "payload", "status"),
    [
        ("globex_owner", "acme", {"dataset": "products"}, 404),
        ("outsider", "acme", {"dataset": "products"}, 404),
        ("acme_member", "acme", {"dataset": "invoices"}, 403),
        ("acme_owner", "acme", {"dataset": "all_events"}, 403),
        ("acme_owner", "acme", {"dataset": "invoices", "filters": {"stauts": "paid"}}, 422),
        ("acme_owner", "acme", {"dataset": "invoices", "filters": {"date_from": "today"}}, 422),
        ("acme_owner", "acme", {"dataset": "invoices", "format": "pdf"}, 422),
        ("acme_owner", "acme", {"dataset": "everything"}, 422),
        ("acme_owner", "acme", {"dataset": "invoices", "extra": 1}, 422),
    ],
)
def test_refused_requests_are_problems_and_change_nothing(request, client_for, acme, who, org, payload, status):
    user = request.getfixturevalue(who)
    before = snapshot()

    assert_problem(send(client_for(user), "POST", f"/api/v1/orgs/{org}/exports", payload), status)

    assert snapshot() == before
    assert mail.outbox == []


def test_exports_of_other_organisations_and_datasets_stay_hidden(
    client_for, acme, acme_owner, acme_member, globex, globex_owner
):
    foreign = ExportJob.objects.create(org=globex, requested_by=globex_owner, dataset="products", format="csv")
    billing = ExportJob.objects.create(org=acme, requested_by=acme_owner, dataset="invoices", format="csv")
    member = client_for(acme_member)

    assert_problem(client_for(acme_owner).get(f"/api/v1/orgs/acme/exports/{foreign.pk}"), 404)
    assert_problem(member.get(f"/api/v1/orgs/acme/exports/{billing.pk}"), 403)
    assert member.get("/api/v1/orgs/acme/exports").json()["items"] == []
    assert_problem(client_for(globex_owner).get("/api/v1/orgs/acme/exports"), 404)
