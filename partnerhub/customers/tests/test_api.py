"""My customers through the API: list (filters, sorts, cursors), detail, properties, values, export."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

from partnerhub.api.tests.helpers import assert_problem, send
from partnerhub.audit.models import AuditEntry
from partnerhub.customers.tests import factories as f
from partnerhub.partnerships.models import CustomProperty, CustomValue

BASE = "/api/v1/orgs/reseller"


def test_list_pages_with_cursors_in_a_property_sort(reseller, reseller_staff, client_for):
    seats = f.prop(reseller, "Seats", "number")
    for i, n in enumerate([3, 1, None, 3, 2]):
        org = f.customer(f"C{i}")
        f.manage(reseller, org)
        if n is not None:
            f.value(seats, org, number=Decimal(n))
    client = client_for(reseller_staff)
    seen, url = [], f"{BASE}/customers?sort=-p:seats&limit=2"
    while url:
        body = client.get(url).json()
        seen += [(item["name"], item["values"]["seats"]) for item in body["items"]]
        url = f"{BASE}/customers?sort=-p:seats&limit=2&cursor={body['next_cursor']}" if body["next_cursor"] else ""
    assert [value for _name, value in seen] == ["3", "3", "2", "1", None]
    assert len({name for name, _v in seen}) == 5


def test_list_filters_and_columns(reseller, reseller_staff, client_for):
    region = f.prop(reseller, "Region", "choice", choices=["EU", "US"])
    eu, us = f.customer("Euro"), f.customer("Yankee")
    f.holding(eu, f.product(), quantity=3)
    f.manage(reseller, eu, scopes=f.BILLING)
    f.manage(reseller, us, origin="self", scopes=[])
    f.value(region, eu, text="EU")
    f.value(region, us, text="US")
    client = client_for(reseller_staff)
    items = client.get(f"{BASE}/customers?where=region:eq:EU").json()["items"]
    assert [(i["name"], i["products"], i["licences"], i["open_invoices"]) for i in items] == [("Euro", 1, 3, 0)]
    items = client.get(f"{BASE}/customers?origin=self").json()["items"]
    assert [(i["name"], i["open_invoices"]) for i in items] == [("Yankee", None)]
    assert client.get(f"{BASE}/customers?q=yank").json()["items"][0]["name"] == "Yankee"


def test_bad_sorts_conditions_and_cursors_are_422(reseller, reseller_staff, client_for):
    f.prop(reseller, "Seats", "number")
    client = client_for(reseller_staff)
    assert_problem(client.get(f"{BASE}/customers?sort=colour"), 422)
    assert_problem(client.get(f"{BASE}/customers?where=seats:eq:many"), 422)
    assert_problem(client.get(f"{BASE}/customers?where=nope:eq:1"), 422)
    assert_problem(client.get(f"{BASE}/customers?cursor=garbage"), 422)


def test_detail_marks_products_outside_a_restricted_grant(reseller, reseller_staff, client_for):
    acme = f.customer("Acme")
    granted = f.holding(acme, f.product("Granted"))
    other = f.holding(acme, f.product("Secret"))
    f.manage(reseller, acme, mode="restricted", products=[granted], scopes=[])
    body = client_for(reseller_staff).get(f"{BASE}/customers/{acme.pk}").json()
    products = {p["id"]: p for p in body["products_detail"]}
    assert products[granted.pk]["product"] == "Granted" and products[granted.pk]["accessible"]
    assert products[other.pk] == {
        "id": other.pk,
        "accessible": False,
        "product": None,
        "quantity": None,
        "status": None,
        "renews_on": None,
    }
    assert body["grant"]["mode"] == "restricted" and body["grant"]["payment_means"] is None


def test_foreign_customers_answer_404(reseller, reseller_staff, other_partner, client_for):
    theirs = f.customer("Theirs")
    f.manage(other_partner, theirs)
    f.prop(reseller, "Seats", "number")
    client = client_for(reseller_staff)
    assert_problem(client.get(f"{BASE}/customers/{theirs.pk}"), 404)
    assert_problem(send(client, "PUT", f"{BASE}/customers/{theirs.pk}/values", {"values": {"seats": 1}}), 404)
    assert not CustomValue.objects.exists()


def test_set_values_checks_everything_first(reseller, reseller_staff, client_for):
    acme = f.customer("Acme")
    f.manage(reseller, acme)
    f.prop(reseller, "Seats", "number")
    f.prop(reseller, "Key account", "boolean")
    client = client_for(reseller_staff)
    url = f"{BASE}/customers/{acme.pk}/values"
    bad = assert_problem(send(client, "PUT", url, {"values": {"seats": 4, "key-account": "perhaps"}}), 422)
    assert "yes or no" in bad["detail"]
    assert not CustomValue.objects.exists()
    good = send(client, "PUT", url, {"values": {"seats": "4.5", "key-account": True}})
    assert good.status_code == 200, good.content
    assert good.json()["values"] == {"seats": "4.5", "key-account": "yes"}


def test_property_crud_needs_portal_management(reseller, reseller_owner, reseller_staff, client_for):
    staff = client_for(reseller_staff)
    assert_problem(send(staff, "POST", f"{BASE}/custom-properties", {"name": "Seats", "kind": "number"}), 403)
    assert not CustomProperty.objects.exists()
    owner = client_for(reseller_owner)
    created = send(
        owner, "POST", f"{BASE}/custom-properties", {"name": "Region", "kind": "choice", "choices": ["EU", "US"]}
    )
    assert created.status_code == 201, created.content
    prop_id = created.json()["id"]
    send(owner, "POST", f"{BASE}/custom-properties", {"name": "Seats", "kind": "number"})
    assert_problem(
        send(owner, "POST", f"{BASE}/custom-properties", {"name": "X", "kind": "choice", "choices": ["A"]}), 422
    )
    renamed = send(owner, "PATCH", f"{BASE}/custom-properties/{prop_id}", {"name": "Market"})
    assert renamed.json()["name"] == "Market" and renamed.json()["key"] == "region"
    ordered = send(owner, "PUT", f"{BASE}/custom-properties/order", {"keys": ["seats", "region"]})
    assert [p["key"] for p in ordered.json()] == ["seats", "region"]
    assert [p["key"] for p in staff.get(f"{BASE}/custom-properties").json()] == ["seats", "region"]
    assert send(owner, "DELETE", f"{BASE}/custom-properties/{prop_id}").status_code == 204
    assert list(CustomProperty.objects.values_list("key", flat=True)) == ["seats"]


def test_another_partners_property_is_404(reseller, reseller_owner, other_partner, client_for):
    theirs = f.prop(other_partner, "Secret", "text")
    owner = client_for(reseller_owner)
    assert_problem(send(owner, "PATCH", f"{BASE}/custom-properties/{theirs.pk}", {"name": "Mine"}), 404)
    assert_problem(send(owner, "DELETE", f"{BASE}/custom-properties/{theirs.pk}"), 404)
    assert CustomProperty.objects.get(pk=theirs.pk).name == "Secret"


def test_export_through_the_api(reseller, reseller_staff, client_for, settings):
    f.prop(reseller, "Contract", "text")
    acme = f.customer("Acme")
    f.manage(reseller, acme)
    client = client_for(reseller_staff)
    response = client.get(f"{BASE}/customers-export?format=csv")
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert rows[0][-1] == "Contract" and rows[1][0] == "Acme"
    assert AuditEntry.objects.filter(action="customers.exported").count() == 1
    settings.EXPORT_SYNC_MAX_ROWS = 0
    assert_problem(client.get(f"{BASE}/customers-export?format=xlsx"), 422)


def test_api_keys_reach_customers_only_with_the_partner_permission(reseller, reseller_owner, client_for):
    from django.test import Client

    from partnerhub.access.perms import Perm
    from partnerhub.access.policy import Actor
    from partnerhub.api.services import create_api_key
    from partnerhub.api.tests.helpers import bearer

    f.manage(reseller, f.customer("Acme"))
    _key, with_perm = create_api_key(
        Actor(user=reseller_owner), org=reseller, name="crm", perms=[Perm.PARTNER_CUSTOMERS_ADMINISTER]
    )
    _key, without = create_api_key(Actor(user=reseller_owner), org=reseller, name="view", perms=[Perm.ORG_VIEW])
    anon = Client()
    listed = send(anon, "GET", f"{BASE}/customers", **bearer(with_perm))
    assert [item["name"] for item in listed.json()["items"]] == ["Acme"]
    assert_problem(send(anon, "GET", f"{BASE}/customers", **bearer(without)), 403)
