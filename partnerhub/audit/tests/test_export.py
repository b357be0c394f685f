from __future__ import annotations

import csv
import io

import pytest
from django.http import StreamingHttpResponse
from django.urls import reverse

from partnerhub.access.policy import Actor
from partnerhub.audit.models import AuditEntry
from partnerhub.audit.services import record
from partnerhub.audit.tests.helpers import add_entry


def export_url(org, query: str = "") -> str:
    return reverse("audit_export", args=[org.slug]) + (f"?{query}" if query else "")


def read_csv(response) -> list[list[str]]:
    assert isinstance(response, StreamingHttpResponse)
    text = response.getvalue().decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text)))


@pytest.mark.parametrize(
    ("who", "status"),
    [("acme_owner", 200), ("acme_admin", 200), ("acme_member", 403), ("globex_owner", 404), ("outsider", 404)],
)
def test_export_access(request, client_for, acme, globex, who, status):
    add_entry(acme, "member.invited")
    response = client_for(request.getfixturevalue(who)).get(export_url(acme))
    assert response.status_code == status
    if status != 200:
        assert b"member.invited" not in response.content


def test_export_is_a_streamed_csv_download_of_the_orgs_entries(client_for, acme, acme_owner, globex):
    actor = Actor(user=acme_owner, ip="198.51.100.4", user_agent="pytest")
    record(actor, "member.role_changed", org=acme, obj=acme, before={"role": "member"}, after={"role": "admin"})
    add_entry(acme, "grant.expired", on_behalf_of_partner=globex, management_session_id=9)
    add_entry(globex, "globex.secret")

    response = client_for(acme_owner).get(export_url(acme))

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="audit-acme-')
    header, *rows = read_csv(response)
    assert header[:4] == ["ID", "Time", "Actor", "Action"]
    assert [row[3] for row in rows] == ["grant.expired", "member.role_changed"]
    expired, changed = (dict(zip(header, row, strict=True)) for row in rows)
    assert expired["Actor"] == "system"
    assert expired["On behalf of partner"] == "Globex Ltd"
    assert expired["Management session"] == "9"
    assert changed["Actor"] == "owner@acme.test"
    assert changed["Changes"] == "role: member → admin"
    assert changed["IP address"] == "198.51.100.4"
    assert changed["Object"] == "Acme GmbH"


def test_export_uses_the_page_filters(client_for, acme, acme_owner, acme_admin):
    add_entry(acme, "member.invited", actor=acme_owner)
    add_entry(acme, "member.invited", actor=acme_admin)
    add_entry(acme, "member.removed", actor=acme_admin)

    response = client_for(acme_owner).get(export_url(acme, "action=member.invited&actor=admin"))

    _, *rows = read_csv(response)
    assert [(row[2], row[3]) for row in rows] == [("admin@acme.test", "member.invited")]


def test_export_refuses_invalid_filters(client_for, acme, acme_owner):
    add_entry(acme, "member.invited")
    response = client_for(acme_owner).get(export_url(acme, "date_from=2026-05-02&date_to=2026-05-01"))
    assert response.status_code == 400


@pytest.mark.parametrize("payload", ['=HYPERLINK("http://evil.test")', "+1+1", "-2+3", "@SUM(A1)", "\tx", "\rx"])
def test_export_neutralises_formulas(client_for, acme, acme_owner, payload):
    add_entry(acme, "org.renamed", actor=acme_owner, object_repr=payload, user_agent=payload)

    header, row = read_csv(client_for(acme_owner).get(export_url(acme)))

    cells = dict(zip(header, row, strict=True))
    assert cells["Object"] == "'" + payload
    assert cells["User agent"] == "'" + payload


def test_export_streams_large_logs_with_constant_queries(client_for, acme, acme_owner, django_assert_max_num_queries):
    AuditEntry.objects.bulk_create(
        AuditEntry(org=acme, action="bulk.row", actor=acme_owner, actor_email=acme_owner.email, object_repr=f"#{i}")
        for i in range(2000)
    )
    client = client_for(acme_owner)

    with django_assert_max_num_queries(10):
        response = client.get(export_url(acme))
        _, *rows = read_csv(response)

    assert len(rows) == 2000
    assert {row[6] for row in rows} == {f"#{i}" for i in range(2000)}
    assert [int(row[0]) for row in rows] == sorted((int(row[0]) for row in rows), reverse=True)


@pytest.mark.parametrize("query", ["date_to=9999-12-31", "date_from=0001-01-01"])
def test_export_refuses_days_beyond_the_calendar_edges(client_for, acme, acme_owner, query):
    # Regression: these gave a 500 (date_to) or a broken streamed file (date_from).
    add_entry(acme, "member.invited")

    response = client_for(acme_owner).get(export_url(acme, query))

    assert response.status_code == 400
    assert "Enter a date on or" in response.content.decode()
