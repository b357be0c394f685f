"""The billing-events API: single and batch posts, lists, permissions, and concurrent posts."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db import connection, connections
from django.test import Client

from conftest import add_member, make_user
from partnerhub.access.perms import Perm, Role
from partnerhub.access.policy import Actor
from partnerhub.accounts.models import User
from partnerhub.api.models import ApiKey
from partnerhub.api.services import create_api_key
from partnerhub.api.tests.helpers import assert_problem
from partnerhub.api.urls import api
from partnerhub.audit.models import AuditEntry
from partnerhub.billing.models import BillingEvent, BillingEventLine
from partnerhub.catalog.models import Category, Product
from partnerhub.orgs.models import Organisation

URL = "/api/v1/billing-events"


@pytest.fixture
def catalog(db: None) -> None:
    hosting = Category.objects.create(slug="shared-hosting", name="Shared hosting")
    Product.objects.create(category=hosting, sku="web-basic", name="Web Basic")


def key_for(user: User, org: Organisation, perms: list[Perm]) -> tuple[ApiKey, str]:
    return create_api_key(Actor(user=user), org=org, name="billing feed", perms=perms)


@pytest.fixture
def feed(operator_staff: User, operator_org: Organisation, catalog: None) -> Client:
    """A client sending the operator's API key with the program permission."""
    _, secret = key_for(operator_staff, operator_org, [Perm.OPERATOR_PROGRAM_MANAGE])
    return Client(headers={"Authorization": f"Bearer {secret}"})


def event(external_id: str = "ev-1", amount: str = "49.90", **changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "external_id": external_id,
        "kind": "payment",
        "org": "acme",
        "currency": "CHF",
        "occurred_at": "2026-03-01T10:00:00Z",
        "lines": [{"sku": "web-basic", "base_amount": amount}],
    }
    data.update(changes)
    return data


def post(client: Client, body: Any, url: str = URL) -> Any:
    return client.post(url, data=body, content_type="application/json")


def counts() -> tuple[int, int, int]:
    return BillingEvent.objects.count(), BillingEventLine.objects.count(), AuditEntry.objects.count()


def test_post_creates_then_replays_then_conflicts(feed, acme):
    created = post(feed, event())
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["external_id"] == "ev-1" and body["org"] == "acme" and body["total"] == "49.90"
    assert body["lines"] == [
        {"line_no": 1, "product_sku": "web-basic", "category_slug": "shared-hosting", "base_amount": "49.90"}
    ]
    before = counts()
    replay = post(feed, event())
    assert replay.status_code == 200 and replay.json() == body
    assert counts() == before
    conflict = assert_problem(post(feed, event(amount="50.00")), 409)
    assert "different content" in conflict["detail"]
    assert counts() == before


def test_invalid_events_answer_422_and_write_nothing(feed, acme):
    assert assert_problem(post(feed, event(org="nobody")), 422)["detail"]
    assert assert_problem(post(feed, event(amount="-1.00")), 422)
    assert assert_problem(post(feed, event(kind="gift")), 422)
    assert assert_problem(post(feed, {**event(), "lines": [{"sku": "web-basic", "base_amount": 12.5}]}), 422)
    assert assert_problem(post(feed, {**event(), "extra": 1}), 422)
    assert counts()[:2] == (0, 0)


def test_batch_reports_per_event_and_keeps_good_events(feed, acme):
    before_audit = AuditEntry.objects.count()
    body = {
        "events": [
            event("b-1"),
            event("b-2", org="nobody"),
            {"external_id": "b-3", "kind": "payment"},  # malformed: reported, does not stop the batch
            event("b-4", amount="1.00"),
        ]
    }
    response = post(feed, body, URL + "/batch")
    assert response.status_code == 200, response.content
    data = response.json()
    assert (data["created"], data["replayed"], data["conflict"], data["invalid"]) == (2, 0, 0, 2)
    assert [(r["index"], r["external_id"], r["status"]) for r in data["results"]] == [
        (0, "b-1", "created"),
        (1, "b-2", "invalid"),
        (2, "b-3", "invalid"),
        (3, "b-4", "created"),
    ]
    assert "Missing fields" in data["results"][2]["message"]
    assert set(BillingEvent.objects.values_list("external_id", flat=True)) == {"b-1", "b-4"}
    assert AuditEntry.objects.count() == before_audit + 2
    again = post(feed, body, URL + "/batch").json()
    assert (again["created"], again["replayed"], again["invalid"]) == (0, 2, 2)
    assert BillingEvent.objects.count() == 2


def test_a_batch_above_a_thousand_events_is_refused(feed, acme):
    response = post(feed, {"events": [event(f"e-{i}") for i in range(1001)]}, URL + "/batch")
    assert_problem(response, 422)
    assert BillingEvent.objects.count() == 0


def test_callers_without_the_operator_permission_are_refused_and_nothing_is_written(
    acme, acme_owner, operator_org, operator_staff, catalog, client_for
):
    _, customer_secret = key_for(acme_owner, acme, [Perm.BILLING_VIEW])
    _, narrow_secret = key_for(operator_staff, operator_org, [Perm.OPERATOR_PAYOUTS_MANAGE])
    member = make_user("member@operator.test")
    add_member(member, operator_org, Role.MEMBER)
    before = AuditEntry.objects.count()
    for client in (
        Client(headers={"Authorization": f"Bearer {customer_secret}"}),
        Client(headers={"Authorization": f"Bearer {narrow_secret}"}),
        client_for(acme_owner),
        client_for(member),
    ):
        for response in (post(client, event()), post(client, {"events": [event()]}, URL + "/batch"), client.get(URL)):
            assert "operator.program.manage" in assert_problem(response, 403)["detail"]
    assert_problem(post(Client(), event()), 401)
    assert BillingEvent.objects.count() == 0 and AuditEntry.objects.count() == before


def test_operator_list_filters_and_paginates(feed, acme, globex):
    post(feed, event("a-1", occurred_at="2026-01-01T00:00:00Z"))
    post(feed, event("a-2", occurred_at="2026-02-01T00:00:00Z", kind="renewal"))
    post(feed, event("g-1", org="globex", occurred_at="2026-03-01T00:00:00Z"))
    page = feed.get(URL, {"limit": 2}).json()
    assert [e["external_id"] for e in page["items"]] == ["g-1", "a-2"]
    rest = feed.get(URL, {"limit": 2, "cursor": page["next_cursor"]}).json()
    assert [e["external_id"] for e in rest["items"]] == ["a-1"] and rest["next_cursor"] is None
    assert [e["external_id"] for e in feed.get(URL, {"org": "acme"}).json()["items"]] == ["a-2", "a-1"]
    assert [e["external_id"] for e in feed.get(URL, {"kind": "renewal"}).json()["items"]] == ["a-2"]
    since = feed.get(URL, {"since": "2026-01-15T00:00:00Z", "until": "2026-03-01T00:00:00Z"}).json()
    assert [e["external_id"] for e in since["items"]] == ["a-2"]


def test_customers_list_their_own_events_with_billing_view(feed, acme, acme_owner, acme_member, globex, client_for):
    post(feed, event("a-1"))
    post(feed, event("g-1", org="globex"))
    own = client_for(acme_owner).get("/api/v1/orgs/acme/billing-events")
    assert [e["external_id"] for e in own.json()["items"]] == ["a-1"]
    assert_problem(client_for(acme_member).get("/api/v1/orgs/acme/billing-events"), 403)
    assert_problem(client_for(acme_owner).get("/api/v1/orgs/globex/billing-events"), 404)


def test_the_operations_declare_their_permission():
    paths = api.get_openapi_schema()["paths"]
    for path, method in [(URL, "post"), (URL, "get"), (URL + "/batch", "post")]:
        assert paths[path][method]["x-permission"] == "operator.program.manage"
        assert paths[path][method]["x-organisation"] == "operator"
    assert paths["/api/v1/orgs/{org_slug}/billing-events"]["get"]["x-permission"] == "billing.view"


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="needs several real connections and row locks: SQLite serialises all writers",
)
def test_two_concurrent_posts_of_one_id_create_one_event(flushable_db):
    operator = Organisation.objects.create(name="Operator AG", slug="operator", is_operator=True)
    Organisation.objects.create(name="Acme GmbH", slug="acme")
    staff = make_user("staff@operator.test")
    add_member(staff, operator, Role.OWNER)
    Product.objects.create(
        category=Category.objects.create(slug="shared-hosting", name="Shared hosting"), sku="web-basic", name="W"
    )
    _, secret = key_for(staff, operator, [Perm.OPERATOR_PROGRAM_MANAGE])
    barrier = threading.Barrier(2)
    answers: list[tuple[int, int]] = []
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            client = Client(headers={"Authorization": f"Bearer {secret}"})
            barrier.wait(timeout=10)
            response = post(client, event("race-1"))
            answers.append((response.status_code, response.json()["id"]))
        except BaseException as exc:  # reported below; a thread cannot fail the test itself
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not errors, errors
    assert sorted(status for status, _ in answers) == [200, 201]
    assert len({event_id for _, event_id in answers}) == 1
    assert BillingEvent.objects.filter(external_id="race-1").count() == 1
    assert BillingEventLine.objects.count() == 1
    assert AuditEntry.objects.filter(action="billing_event.created").count() == 1


def test_impossible_filters_answer_422(feed):
    assert_problem(feed.get(URL, {"since": "0001-01-01T00:00:00+05:00"}), 422)
    assert_problem(feed.get(URL, {"org": "ac\x00me"}), 400)  # refused at the edge
    assert_problem(feed.get(URL, {"kind": "gift"}), 422)
    assert feed.get(URL, {"since": "2026-01-01T00:00:00"}).status_code == 200


def test_a_batch_of_odd_items_answers_per_item(feed, acme):
    odd: list[Any] = [None, 7, [], {"lines": "x"}, {**event("n-1"), "lines": [{"sku": "web-basic", "base_amount": 1}]}]
    data = post(feed, {"events": odd}, URL + "/batch").json()
    assert [r["status"] for r in data["results"]] == ["invalid"] * 5
    assert BillingEvent.objects.count() == 0


def test_refunds_of_our_own_invoice_events_are_refused(feed, acme):
    refund = event("r-1", kind="refund", refers_to="invoice:CHF-000001:paid")
    problem = assert_problem(post(feed, refund), 422)
    assert "refund the invoice" in problem["detail"]
    data = post(feed, {"events": [refund, event("r-2", kind="chargeback", refers_to="invoice:x")]}, URL + "/batch")
    assert data.status_code == 200, data.content
    results = data.json()["results"]
    assert [r["status"] for r in results] == ["invalid", "invalid"]
    assert all("refund the invoice" in r["message"] for r in results)
    assert counts()[:2] == (0, 0)
