"""The billing-event pages: operator list and detail, the customer's own list, access and paging."""

from __future__ import annotations

import re
from typing import Any

import pytest

from partnerhub.access.policy import Actor
from partnerhub.accounts.models import User
from partnerhub.billing.events import EventIn, ingest_batch, ingest_event
from partnerhub.billing.models import BillingEvent
from partnerhub.billing.tests.shop import export_links
from partnerhub.catalog.models import Category, Product


@pytest.fixture
def events(operator_staff: User, acme: Any, globex: Any) -> dict[str, BillingEvent]:
    hosting = Category.objects.create(slug="shared-hosting", name="Shared hosting")
    Product.objects.create(category=hosting, sku="web-basic", name="Web Basic")
    staff = Actor(user=operator_staff)

    def post(external_id: str, org: str, amount: str, **extra: Any) -> BillingEvent:
        data = {
            "external_id": external_id,
            "kind": "payment",
            "org": org,
            "currency": "CHF",
            "occurred_at": "2026-03-01T10:00:00Z",
            "lines": [{"sku": "web-basic", "base_amount": amount}],
            **extra,
        }
        return ingest_event(staff, payload=EventIn.from_data(data)).event

    return {
        "pay": post("acme-pay-1", "acme", "120.00"),
        "refund": post("acme-refund-1", "acme", "20.00", kind="refund", refers_to="acme-pay-1"),
        "globex": post("globex-pay-1", "globex", "9.90", occurred_at="2026-01-05T10:00:00Z"),
    }


def shown(html: str) -> list[int]:
    return [int(pk) for pk in re.findall(r'data-event="(\d+)"', html)]


def test_operator_sees_every_event_and_filters(client_for, operator_staff, events):
    client = client_for(operator_staff)
    page = client.get("/o/operator/billing/events/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "acme-pay-1" in html and "globex-pay-1" in html and "CHF 120.00" in html and "−CHF 20.00" in html
    assert "All billing events" in html  # sidebar link
    only_acme = client.get("/o/operator/billing/events/", {"org": "acme", "kind": "refund"}).content.decode()
    assert shown(only_acme) == [events["refund"].pk]
    dated = client.get("/o/operator/billing/events/", {"date_to": "2026-02-01"}).content.decode()
    assert shown(dated) == [events["globex"].pk]
    assert shown(client.get("/o/operator/billing/events/", {"date_from": "2026-02-01"}).content.decode()) == [
        events["refund"].pk,
        events["pay"].pk,
    ]
    bad = client.get("/o/operator/billing/events/", {"date_from": "not-a-day"})
    assert bad.status_code == 200 and "errorlist" in bad.content.decode()
    htmx = client.get("/o/operator/billing/events/", headers={"HX-Request": "true"})
    assert "<html" not in htmx.content.decode() and 'id="event-rows"' in htmx.content.decode()


def test_operator_detail_shows_lines_and_reversals(client_for, operator_staff, events):
    client = client_for(operator_staff)
    html = client.get(f"/o/operator/billing/events/{events['pay'].pk}/").content.decode()
    assert "web-basic" in html and "shared-hosting" in html and "acme-refund-1" in html
    refund = client.get(f"/o/operator/billing/events/{events['refund'].pk}/").content.decode()
    assert "acme-pay-1" in refund
    assert client.get("/o/operator/billing/events/999999/").status_code == 404


def test_keyset_pages(client_for, operator_staff, events):
    staff = Actor(user=operator_staff)
    ingest_batch(
        staff,
        payloads=[
            {
                "external_id": f"bulk-{i:03d}",
                "kind": "renewal",
                "org": "acme",
                "currency": "EUR",
                "occurred_at": "2026-03-02T00:00:00Z",
                "lines": [{"sku": "web-basic", "base_amount": "1.00"}],
            }
            for i in range(60)
        ],
    )
    client = client_for(operator_staff)
    first = client.get("/o/operator/billing/events/").content.decode()
    assert "bulk-059" in first and "bulk-010" in first and "bulk-009" not in first and "Older" in first
    oldest = BillingEvent.objects.get(external_id="bulk-010").pk
    second = client.get("/o/operator/billing/events/", {"before": oldest}).content.decode()
    assert "bulk-009" in second and "acme-pay-1" in second and "bulk-010" not in second and "Newer" in second
    back = client.get("/o/operator/billing/events/", {"after": BillingEvent.objects.get(external_id="bulk-009").pk})
    assert "bulk-010" in back.content.decode() and "bulk-009" not in back.content.decode()


def test_customers_see_only_their_own_events(client_for, acme_owner, acme_member, globex_owner, events):
    client = client_for(acme_owner)
    html = client.get("/o/acme/billing-events/").content.decode()
    assert shown(html) == [events["refund"].pk, events["pay"].pk]
    assert "Billing events" in html
    assert client.get(f"/o/acme/billing-events/{events['pay'].pk}/").status_code == 200
    # Another organisation's event answers 404 under the own organisation.
    assert client.get(f"/o/acme/billing-events/{events['globex'].pk}/").status_code == 404
    assert client.get("/o/globex/billing-events/").status_code == 404
    assert client_for(acme_member).get("/o/acme/billing-events/").status_code == 403
    assert client_for(globex_owner).get(f"/o/globex/billing-events/{events['globex'].pk}/").status_code == 200


def test_customers_cannot_open_the_operator_pages(client_for, acme_owner, events):
    client = client_for(acme_owner)
    assert client.get("/o/operator/billing/events/").status_code == 404
    assert client.get("/o/acme/billing/events/").status_code == 403
    assert client_for(None).get("/o/operator/billing/events/").status_code == 302


@pytest.mark.parametrize(
    ("who", "url", "export", "filters"),
    [
        ("acme_owner", "/o/acme/billing-events/", "/o/acme/billing-events/export/", {"kind": "payment"}),
        (
            "operator_staff",
            "/o/operator/billing/events/",
            "/o/operator/billing/events/export/",
            {"org": "acme", "kind": "refund", "date_from": "2026-01-01", "date_to": "2026-12-31"},
        ),
    ],
)
def test_event_lists_link_their_exports_with_the_current_filters(
    request, client_for, events, who, url, export, filters
):
    client = client_for(request.getfixturevalue(who))
    for query, htmx in (({}, False), ({**filters, "before": "999999", "after": "1"}, False), (filters, True)):
        response = client.get(url, query, headers={"HX-Request": "true"} if htmx else {})
        assert response.status_code == 200
        links = export_links(response.content.decode())
        assert list(links) == [export]
        assert [link.pop("format", [""])[0] for link in links[export]] == ["csv", "xlsx", ""]
        expected = {name: [value] for name, value in query.items() if name not in ("before", "after")}
        assert all(link == expected for link in links[export]), links[export]
        assert client.get(export, {**query, "format": "csv"}).status_code == 200
