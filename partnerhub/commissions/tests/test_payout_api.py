"""The payout API: the beneficiary's payouts, entries, statements and payout details; the operator's
review. Errors are problem documents."""

from __future__ import annotations

import pytest

from conftest import PASSWORD, add_member, make_user
from partnerhub.access.perms import Role
from partnerhub.api.tests.helpers import assert_problem, send
from partnerhub.commissions.models import LedgerEntry, Payout, PayoutDetails, PayoutStatus
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
def payouts(earner):
    """Two statements: February (2 entries) and March (1 entry)."""
    earner.earn("60.00", at(2026, 1, 5))
    earner.earn("15.25", at(2026, 1, 6))
    approve(at(2026, 2, 10))
    create_statements(month(2026, 2), now=at(2026, 3, 1, 6))
    earner.earn("70.00", at(2026, 2, 5))
    approve(at(2026, 3, 10))
    create_statements(month(2026, 3), now=at(2026, 4, 1, 6))
    return list(Payout.objects.order_by("period"))


def test_list_detail_entries_and_balance(client_for, earner, earner_owner, payouts):
    client = client_for(earner_owner)
    base = f"/api/v1/orgs/{earner.org.slug}"
    first = send(client, "GET", f"{base}/payouts?limit=1").json()
    assert [item["period"] for item in first["items"]] == ["2026-03-01"]
    rest = send(client, "GET", f"{base}/payouts?limit=1&cursor={first['next_cursor']}").json()
    assert [item["amount"] for item in rest["items"]] == ["75.25"]
    assert rest["next_cursor"] is None
    february = payouts[0]
    detail = send(client, "GET", f"{base}/payouts/{february.pk}").json()
    assert (detail["status"], detail["currency"], detail["number"]) == ("open", "CHF", str(february))
    entries = send(client, "GET", f"{base}/payouts/{february.pk}/entries").json()["items"]
    assert [e["amount"] for e in entries] == ["60.00", "15.25"]
    assert send(client, "GET", f"{base}/payouts/balance").json() == []
    earner.earn("5.00", at(2026, 3, 5))
    approve(at(2026, 4, 10))
    assert send(client, "GET", f"{base}/payouts/balance").json() == [
        {"currency": "CHF", "amount": "5.00", "entries": 1}
    ]


def test_statement_downloads(client_for, earner, earner_owner, payouts):
    client = client_for(earner_owner)
    url = f"/api/v1/orgs/{earner.org.slug}/payouts/{payouts[0].pk}/statement"
    csv_answer = client.get(url)
    assert csv_answer["Content-Type"].startswith("text/csv")
    text = b"".join(csv_answer.streaming_content).decode("utf-8-sig")
    assert "60.00" in text and "15.25" in text
    assert client.get(url + "?format=xlsx")["Content-Type"].startswith("application/vnd.openxmlformats")
    assert client.get(url + "?format=pdf").content.startswith(b"%PDF")
    assert_problem(client.get(url + "?format=doc"), 422)


def test_foreign_payouts_are_404(client_for, earner, payouts, globex, globex_owner, program):
    other = Earner(program, "talweg")
    owner = make_user("owner@talweg.test")
    add_member(owner, other.org, Role.OWNER)
    assert_problem(client_for(owner).get(f"/api/v1/orgs/talweg/payouts/{payouts[0].pk}"), 404)
    assert_problem(client_for(owner).get(f"/api/v1/orgs/talweg/payouts/{payouts[0].pk}/entries"), 404)
    assert_problem(client_for(globex_owner).get(f"/api/v1/orgs/{earner.org.slug}/payouts"), 404)
    member = make_user("member@bergwerk.test")
    add_member(member, earner.org, Role.MEMBER)
    assert_problem(client_for(member).get(f"/api/v1/orgs/{earner.org.slug}/payouts"), 403)


def test_payout_details_get_and_put(client_for, earner, earner_owner):
    client = client_for(earner_owner)
    url = f"/api/v1/orgs/{earner.org.slug}/payout-details"
    assert_problem(client.get(url), 404)
    body = {"account_holder": "Bergwerk GmbH", "iban": "CH93 0076 2011 6238 5295 7", "bic": "", "password": "nope"}
    problem = assert_problem(send(client, "PUT", url, body), 403)
    assert problem["errors"][0]["loc"] == ["body", "password"]
    assert not PayoutDetails.objects.exists()
    body["password"] = PASSWORD
    answer = send(client, "PUT", url, body)
    assert answer.status_code == 200, answer.content
    assert answer.json()["iban"] == "CH9300762011623852957"
    assert client.get(url).json()["account_holder"] == "Bergwerk GmbH"
    body["iban"] = "CH94 0076 2011 6238 5295 7"
    problem = assert_problem(send(client, "PUT", url, body), 422)
    assert "check digits" in problem["detail"]
    assert PayoutDetails.objects.get().iban == "CH9300762011623852957"


def test_operator_review_approve_pay_cancel(client_for, operator_org, operator_staff, earner, payouts):
    client = client_for(operator_staff)
    base = f"/api/v1/orgs/{operator_org.slug}/payout-review"
    listed = send(client, "GET", f"{base}?status=open").json()["items"]
    assert {item["id"] for item in listed} == {p.pk for p in payouts}
    february, march = payouts
    problem = assert_problem(send(client, "POST", f"{base}/{february.pk}/approve"), 409)
    assert "payout details" in problem["detail"]
    details(earner.org)
    approved = send(client, "POST", f"{base}/{february.pk}/approve").json()
    assert (approved["status"], approved["iban"]) == ("approved", "CH9300762011623852957")
    assert_problem(send(client, "POST", f"{base}/{february.pk}/pay", {"reference": ""}), 422)
    assert_problem(send(client, "POST", f"{base}/{march.pk}/pay", {"reference": "X"}), 409)
    paid = send(client, "POST", f"{base}/{february.pk}/pay", {"reference": "UBS-1"}).json()
    assert (paid["status"], paid["reference"]) == ("paid", "UBS-1")
    assert set(LedgerEntry.objects.filter(payout=february).values_list("status", flat=True)) == {"paid"}
    assert_problem(send(client, "POST", f"{base}/{february.pk}/cancel"), 409)
    cancelled = send(client, "POST", f"{base}/{march.pk}/cancel").json()
    assert cancelled["status"] == PayoutStatus.CANCELLED
    assert totals_match()
    entries = send(client, "GET", f"{base}/{february.pk}/entries").json()["items"]
    assert len(entries) == 2
    assert send(client, "GET", f"{base}/{february.pk}/statement?format=csv").status_code == 200


def test_operator_review_needs_the_permission(client_for, operator_org, earner, earner_owner, payouts):
    member = make_user("member@operator.test")
    add_member(member, operator_org, Role.MEMBER)
    base = f"/api/v1/orgs/{operator_org.slug}/payout-review"
    before = snapshot()
    for user, status in ((member, 403), (earner_owner, 404)):
        client = client_for(user)
        assert_problem(client.get(base), status)
        assert_problem(send(client, "POST", f"{base}/{payouts[0].pk}/approve"), status)
        assert_problem(send(client, "POST", f"{base}/{payouts[0].pk}/cancel"), status)
        assert_problem(send(client, "POST", f"{base}/{payouts[0].pk}/pay", {"reference": "x"}), status)
    assert_problem(client_for(earner_owner).get(f"/api/v1/orgs/{earner.org.slug}/payout-review"), 403)
    assert snapshot() == before
