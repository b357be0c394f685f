"""Payout pages: the beneficiary's history, statement and downloads, payout details with
re-authentication; the operator's review queue and actions."""

from __future__ import annotations

import csv
import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook  # type: ignore[import-untyped]

from conftest import add_member, make_user
from partnerhub.access.perms import Role
from partnerhub.api.tests.helpers import reauthenticated
from partnerhub.commissions.models import EntryStatus, LedgerEntry, Payout, PayoutDetails, PayoutStatus
from partnerhub.commissions.payouts.statements import create_statements
from partnerhub.commissions.tests.factories import seed_program
from partnerhub.commissions.tests.payout_helpers import Earner, approve, at, details, month, snapshot, totals_match

pytestmark = pytest.mark.django_db


@pytest.fixture
def program(operator_org):
    return seed_program(operator_org)


@pytest.fixture
def earner(program):
    return Earner(program)


@pytest.fixture
def earner_owner(earner):
    user = make_user("owner@bergwerk.test", "Berta Berg")
    add_member(user, earner.org, Role.OWNER)
    return user


@pytest.fixture
def payout(earner):
    original = earner.earn("100.00", at(2026, 1, 5))
    earner.earn("60.00", at(2026, 1, 7))
    earner.refund(original, at(2026, 1, 8))  # a reversal inside the same statement
    approve(at(2026, 2, 10))
    create_statements(month(2026, 2), now=at(2026, 3, 1, 6))
    return Payout.objects.get()


def _content(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


# --- the beneficiary ------------------------------------------------------------------------------------------


def test_empty_payout_page(client_for, earner, earner_owner):
    page = client_for(earner_owner).get(reverse("payout_list", args=[earner.org.slug]))
    assert page.status_code == 200
    text = page.content.decode()
    assert "No payouts yet" in text
    assert "Enter your account holder and IBAN" in text
    assert "Nothing carries over" in text


def test_history_and_carried_balance(client_for, earner, earner_owner, program):
    small = Earner(program, "klein")
    small.earn("10.00", at(2026, 1, 5))
    earner.earn("80.00", at(2026, 1, 5))
    approve(at(2026, 2, 10))
    create_statements(month(2026, 2), now=at(2026, 3, 1, 6))
    earner.earn("7.50", at(2026, 2, 1))
    approve(at(2026, 3, 10))
    page = client_for(earner_owner).get(reverse("payout_list", args=[earner.org.slug]))
    text = page.content.decode()
    payout = Payout.objects.get()
    assert f'data-payout="{payout.pk}"' in text
    assert "CHF 80.00" in text
    assert "CHF 7.50" in text  # carried over
    # Another beneficiary's payouts never show.
    assert "Klein" not in text


def test_statement_detail_and_downloads(client_for, earner, earner_owner, payout):
    client = client_for(earner_owner)
    page = client.get(reverse("payout_detail", args=[earner.org.slug, payout.pk]))
    assert page.status_code == 200
    text = page.content.decode()
    assert payout.amount_minor == 6000
    for entry in LedgerEntry.objects.filter(payout=payout):
        assert f'data-entry="{entry.pk}"' in text
    assert "reverses" in text

    response = client.get(reverse("payout_download", args=[earner.org.slug, payout.pk]) + "?format=csv")
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(_content(response).decode("utf-8-sig"))))
    assert rows[0][0] == "Entry" and len(rows) == 4
    assert sorted(row[9] for row in rows[1:]) == ["-100.00", "100.00", "60.00"]

    response = client.get(reverse("payout_download", args=[earner.org.slug, payout.pk]) + "?format=xlsx")
    sheet = load_workbook(io.BytesIO(response.content)).active
    values = list(sheet.iter_rows(values_only=True))
    header_at = next(i for i, row in enumerate(values) if row and row[0] == "Entry")
    commissions = sorted(float(row[9]) for row in values[header_at + 1 :])
    assert commissions == [-100.0, 60.0, 100.0]

    response = client.get(reverse("payout_download", args=[earner.org.slug, payout.pk]) + "?format=pdf")
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    # Statements carry customer names and amounts: each download is in the beneficiary's audit log.
    from partnerhub.audit.models import AuditEntry

    downloads = AuditEntry.objects.filter(action="payout.statement_downloaded", org=earner.org, actor=earner_owner)
    assert sorted((e.after or {})["format"] for e in downloads) == ["csv", "pdf", "xlsx"]
    assert client.get(f"/o/{earner.org.slug}/payouts/{payout.pk}/statement/?format=doc").status_code == 404


def test_pdf_shows_the_total(earner, payout):
    from partnerhub.commissions.payouts.exports import pdf_bytes

    content = pdf_bytes(payout, compress=False).decode("latin-1")
    assert "%PDF" in content[:10]


def test_foreign_and_unauthorised_access(client_for, earner, earner_owner, payout, globex_owner, program):
    member = make_user("member@bergwerk.test")
    add_member(member, earner.org, Role.MEMBER)
    urls = [
        reverse("payout_list", args=[earner.org.slug]),
        reverse("payout_detail", args=[earner.org.slug, payout.pk]),
        reverse("payout_download", args=[earner.org.slug, payout.pk]) + "?format=csv",
        reverse("payout_details", args=[earner.org.slug]),
    ]
    for url in urls:
        assert client_for(member).get(url).status_code == 403
        assert client_for(globex_owner).get(url).status_code == 404
    # Another beneficiary cannot reach this payout through its own organisation.
    other = Earner(program, "talweg")
    other_owner = make_user("owner@talweg.test")
    add_member(other_owner, other.org, Role.OWNER)
    assert client_for(other_owner).get(reverse("payout_detail", args=["talweg", payout.pk])).status_code == 404


def test_details_form_asks_for_the_password_then_saves(client_for, earner, earner_owner):
    client = client_for(earner_owner)
    url = reverse("payout_details_save", args=[earner.org.slug])
    form = {"account_holder": "Bergwerk GmbH", "iban": "CH93 0076 2011 6238 5295 7", "bic": ""}
    response = client.post(url, form)
    assert response.status_code == 302 and "reauthenticate" in response["Location"]
    assert not PayoutDetails.objects.exists()
    reauthenticated(client)
    response = client.post(url, form)
    assert response.status_code == 302
    assert PayoutDetails.objects.get().iban == "CH9300762011623852957"
    page = client.get(reverse("payout_list", args=[earner.org.slug]))
    assert "•••• 2957" in page.content.decode()


def test_details_form_shows_the_errors_and_saves_nothing(client_for, earner, earner_owner):
    client = reauthenticated(client_for(earner_owner))
    response = client.post(
        reverse("payout_details_save", args=[earner.org.slug]),
        {"account_holder": "", "iban": "CH94 0076 2011 6238 5295 7", "bic": "??"},
    )
    assert response.status_code == 400
    text = response.content.decode()
    assert "check digits of this IBAN do not match" in text
    assert "not a valid BIC" in text
    assert "Enter the name of the account holder" in text
    assert not PayoutDetails.objects.exists()


# --- the operator ----------------------------------------------------------------------------------------------


def test_review_queue_filter_and_actions(client_for, operator_org, operator_staff, earner, payout):
    client = client_for(operator_staff)
    queue = client.get(reverse("payout_review", args=[operator_org.slug]))
    assert f'data-payout="{payout.pk}"' in queue.content.decode()
    paid_only = client.get(reverse("payout_review", args=[operator_org.slug]) + "?status=paid")
    assert "No payouts match this filter" in paid_only.content.decode()
    detail = client.get(reverse("payout_review_detail", args=[operator_org.slug, payout.pk]))
    assert "cannot be approved until they do" in detail.content.decode()

    before = snapshot()
    response = client.post(reverse("payout_approve", args=[operator_org.slug, payout.pk]), follow=True)
    assert "payout details" in response.content.decode()
    assert snapshot()["payouts"] == before["payouts"]

    details(earner.org)
    client.post(reverse("payout_approve", args=[operator_org.slug, payout.pk]))
    payout.refresh_from_db()
    assert payout.status == PayoutStatus.APPROVED
    response = client.post(reverse("payout_pay", args=[operator_org.slug, payout.pk]), {"reference": ""})
    assert response.status_code == 400
    client.post(reverse("payout_pay", args=[operator_org.slug, payout.pk]), {"reference": "UBS-77"})
    payout.refresh_from_db()
    assert (payout.status, payout.reference) == (PayoutStatus.PAID, "UBS-77")
    assert set(LedgerEntry.objects.values_list("status", flat=True)) == {EntryStatus.PAID}
    assert totals_match()
    response = client.post(reverse("payout_cancel", args=[operator_org.slug, payout.pk]), follow=True)
    payout.refresh_from_db()
    assert payout.status == PayoutStatus.PAID


def test_review_cancel(client_for, operator_org, operator_staff, payout):
    client_for(operator_staff).post(reverse("payout_cancel", args=[operator_org.slug, payout.pk]))
    payout.refresh_from_db()
    assert payout.status == PayoutStatus.CANCELLED
    assert not LedgerEntry.objects.filter(payout=payout).exists()
    assert totals_match()


def test_empty_review_queue(client_for, operator_org, operator_staff, program):
    page = client_for(operator_staff).get(reverse("payout_review", args=[operator_org.slug]))
    assert "No payout statements yet" in page.content.decode()


def test_review_needs_the_permission(client_for, operator_org, earner, earner_owner, payout):
    member = make_user("member@operator.test")
    add_member(member, operator_org, Role.MEMBER)
    before = snapshot()
    for user, status in ((member, 403), (earner_owner, 404)):
        client = client_for(user)
        assert client.get(reverse("payout_review", args=[operator_org.slug])).status_code == status
        assert client.get(reverse("payout_review_detail", args=[operator_org.slug, payout.pk])).status_code == status
        for name in ("payout_approve", "payout_cancel", "payout_pay"):
            assert (
                client.post(reverse(name, args=[operator_org.slug, payout.pk]), {"reference": "x"}).status_code
                == status
            )
    # The partner's own organisation has no review queue either.
    assert client_for(earner_owner).get(reverse("payout_review", args=[earner.org.slug])).status_code == 403
    assert snapshot() == before


def test_statement_cells_that_look_like_formulas_are_neutralised(client_for, earner, earner_owner, payout):
    earner.customer.name = '=HYPERLINK("http://evil")'
    earner.customer.save()
    client = client_for(earner_owner)
    url = reverse("payout_download", args=[earner.org.slug, payout.pk])
    rows = list(csv.reader(io.StringIO(_content(client.get(url + "?format=csv")).decode("utf-8-sig"))))
    assert {row[2] for row in rows[1:]} == {'\'=HYPERLINK("http://evil")'}
    sheet = load_workbook(io.BytesIO(client.get(url + "?format=xlsx").content)).active
    names = {row[2] for row in sheet.iter_rows(values_only=True) if row and isinstance(row[0], int)}
    assert names == {'\'=HYPERLINK("http://evil")'}


def test_htmx_requests_get_only_the_list(client_for, earner, earner_owner, payout, operator_org, operator_staff):
    partner_page = client_for(earner_owner).get(
        reverse("payout_detail", args=[earner.org.slug, payout.pk]), HTTP_HX_REQUEST="true"
    )
    text = partner_page.content.decode()
    assert text.lstrip().startswith('<div id="entry-rows">') and "<html" not in text
    queue = client_for(operator_staff).get(reverse("payout_review", args=[operator_org.slug]), HTTP_HX_REQUEST="true")
    assert queue.content.decode().lstrip().startswith('<div id="payout-rows">')


def test_review_queue_and_history_page_by_keyset(client_for, operator_org, operator_staff, earner, earner_owner):
    from datetime import date

    made = [
        Payout.objects.create(
            beneficiary=earner.org, currency="CHF", period=date(2020 + i // 12, i % 12 + 1, 1), amount_minor=5000 + i
        )
        for i in range(30)
    ]
    for client, url, name in (
        (client_for(operator_staff), reverse("payout_review", args=[operator_org.slug]), "payout_review"),
        (client_for(earner_owner), reverse("payout_list", args=[earner.org.slug]), "payout_list"),
    ):
        first = client.get(url).content.decode()
        assert f'data-payout="{made[-1].pk}"' in first and f'data-payout="{made[4].pk}"' not in first
        second = client.get(f"{url}?before={made[5].pk}").content.decode()
        assert f'data-payout="{made[4].pk}"' in second and f'data-payout="{made[0].pk}"' in second, name
        assert f'data-payout="{made[5].pk}"' not in second
