"""Partnerships and grants through the API: every flow, passwords, conflicts, foreign ids."""

from __future__ import annotations

import pytest
from django.core import mail

from conftest import PASSWORD
from partnerhub.access.perms import Perm
from partnerhub.access.policy import may
from partnerhub.api.tests.helpers import assert_problem, send
from partnerhub.partnerships import services
from partnerhub.partnerships.models import Partnership
from partnerhub.partnerships.services import GrantInput
from partnerhub.partnerships.tests.helpers import actor, snapshot

SOME = {"scopes": ["products.manage", "billing.view"], "validity_days": 90}


def test_choose_and_read_a_provider(client_for, partner, partner_owner, acme, acme_owner, acme_member):
    client = client_for(acme_owner)
    response = send(
        client, "POST", "/api/v1/orgs/acme/providers", {"partner": "bergwerk", "grant": SOME, "password": PASSWORD}
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "active" and body["partner"] == {"slug": "bergwerk", "name": "Bergwerk IT"}
    assert body["grant"]["scopes"] == ["billing.view", "products.manage"] and body["grant"]["in_force"]
    assert body["origin"] == "self" and body["flow"] == "chosen"
    listed = client_for(acme_member).get("/api/v1/orgs/acme/providers").json()["items"]
    assert [p["id"] for p in listed] == [body["id"]]
    assert client_for(acme_member).get(f"/api/v1/orgs/acme/providers/{body['id']}/grant").json()["version"] == 1
    history = client.get(f"/api/v1/orgs/acme/providers/{body['id']}/history").json()["items"]
    assert {h["action"] for h in history} == {"partnership.chosen", "grant.changed"}
    assert client.get("/api/v1/orgs/acme/providers?status=ended").json()["items"] == []


def test_a_wrong_password_changes_nothing(client_for, partner, acme_owner):
    before = snapshot()
    response = send(
        client_for(acme_owner), "POST", "/api/v1/orgs/acme/providers", {"partner": "bergwerk", "password": "nope"}
    )
    assert_problem(response, 403)
    assert snapshot() == before


def test_unknown_partner_and_bad_grants_are_422(client_for, partner, acme_owner, globex):
    client = client_for(acme_owner)
    assert_problem(
        send(client, "POST", "/api/v1/orgs/acme/providers", {"partner": "globex", "password": PASSWORD}), 422
    )
    for grant in ({"validity_days": 0}, {"validity_days": 731}, {"scopes": ["providers.manage"]}, {"scopes": ["nope"]}):
        response = send(
            client, "POST", "/api/v1/orgs/acme/providers", {"partner": "bergwerk", "grant": grant, "password": PASSWORD}
        )
        assert_problem(response, 422)
    assert not Partnership.objects.exists()


def test_a_second_full_partner_is_a_conflict(client_for, partner, rival, acme_owner):
    client = client_for(acme_owner)
    assert (
        send(client, "POST", "/api/v1/orgs/acme/providers", {"partner": "bergwerk", "password": PASSWORD}).status_code
        == 201
    )
    body = assert_problem(
        send(client, "POST", "/api/v1/orgs/acme/providers", {"partner": "nordlicht", "password": PASSWORD}), 409
    )
    assert "already has full access" in body["detail"]


def test_request_answer_with_different_access(
    client_for, partner, partner_admin, acme, acme_owner, acme_products, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = send(
            client_for(partner_admin),
            "POST",
            "/api/v1/orgs/bergwerk/partnerships/requests",
            {"email": "owner@acme.test", "message": "Hi"},
        )
    assert response.status_code == 201, response.content
    created = response.json()
    assert created["status"] == "pending" and created["customer"]["slug"] == "acme"
    assert [m.to for m in mail.outbox] == [["owner@acme.test"]]
    client = client_for(acme_owner)
    url = f"/api/v1/orgs/acme/providers/{created['id']}/answer"
    restricted = {"mode": "restricted", "product_ids": [acme_products[0].pk], "scopes": ["products.manage"]}
    assert_problem(send(client, "POST", url, {"accept": True, "grant": restricted}), 403)
    answered = send(client, "POST", url, {"accept": True, "grant": restricted, "password": PASSWORD}).json()
    assert answered["status"] == "active" and answered["grant"]["mode"] == "restricted"
    assert answered["grant"]["product_ids"] == [acme_products[0].pk]
    assert len(answered["grant"]["requested_scopes"]) > 1
    assert_problem(send(client, "POST", url, {"accept": False}), 409)


def test_request_to_an_unknown_customer_is_422(client_for, partner, partner_owner):
    body = assert_problem(
        send(client_for(partner_owner), "POST", "/api/v1/orgs/bergwerk/partnerships/requests", {"email": "x@y.test"}),
        422,
    )
    assert "create the customer instead" in body["detail"]


def test_invite_and_the_partner_answers(client_for, partner, partner_owner, acme_owner):
    client = client_for(acme_owner)
    created = send(
        client,
        "POST",
        "/api/v1/orgs/acme/providers/invitations",
        {"partner": "bergwerk", "password": PASSWORD, "message": "Bitte"},
    )
    assert created.status_code == 201, created.content
    pid = created.json()["id"]
    partner_client = client_for(partner_owner)
    listed = partner_client.get("/api/v1/orgs/bergwerk/partnerships?status=pending").json()["items"]
    assert [p["id"] for p in listed] == [pid]
    assert (
        send(partner_client, "POST", f"/api/v1/orgs/bergwerk/partnerships/{pid}/answer", {"accept": True}).json()[
            "status"
        ]
        == "active"
    )
    assert partner_client.get(f"/api/v1/orgs/bergwerk/partnerships/{pid}/history").json()["items"]


def test_resend_and_cancel_on_both_sides(client_for, partner, partner_owner, acme, acme_owner):
    invitation = services.invite_partner(actor(acme_owner), customer=acme, partner=partner, grant=GrantInput())
    customer = client_for(acme_owner)
    assert send(customer, "POST", f"/api/v1/orgs/acme/providers/{invitation.pk}/resend").status_code == 200
    assert send(customer, "POST", f"/api/v1/orgs/acme/providers/{invitation.pk}/cancel").json()["status"] == "cancelled"
    assert_problem(send(customer, "POST", f"/api/v1/orgs/acme/providers/{invitation.pk}/resend"), 409)
    # The partner's resend/cancel is for its own requests, not for an invitation it received.
    assert_problem(
        send(client_for(partner_owner), "POST", f"/api/v1/orgs/bergwerk/partnerships/{invitation.pk}/cancel"), 404
    )


def test_grant_change_extend_revoke_and_end(client_for, partner, partner_admin, acme, acme_owner):
    partnership = services.choose_partner(actor(acme_owner), customer=acme, partner=partner, grant=GrantInput())
    client = client_for(acme_owner)
    base = f"/api/v1/orgs/acme/providers/{partnership.pk}"
    changed = send(client, "PUT", f"{base}/grant", {**SOME, "payment_means": "partner", "password": PASSWORD})
    assert changed.status_code == 200, changed.content
    assert changed.json()["version"] == 2 and changed.json()["payment_means"] == "partner"
    assert_problem(send(client, "PUT", f"{base}/grant", {**SOME, "password": "wrong"}), 403)
    assert send(client, "POST", f"{base}/grant/extend", {"days": 10, "password": PASSWORD}).json()["version"] == 3
    assert_problem(send(client, "POST", f"{base}/grant/extend", {"days": 800, "password": PASSWORD}), 422)
    revoked = send(client, "POST", f"{base}/grant/revoke", {"password": PASSWORD}).json()
    assert revoked["revoked_at"] and not revoked["in_force"]
    assert not may(partner_admin, Perm.ORG_VIEW, acme)
    assert_problem(send(client, "POST", f"{base}/grant/revoke", {"password": PASSWORD}), 409)
    ended = send(client, "POST", f"{base}/end", {"password": PASSWORD, "reason": "Bye"}).json()
    assert ended["status"] == "ended" and ended["ended_by_side"] == "customer" and ended["end_reason"] == "Bye"


def test_the_partner_ends_with_its_password(client_for, partner, partner_admin, acme, acme_owner):
    partnership = services.choose_partner(actor(acme_owner), customer=acme, partner=partner, grant=GrantInput())
    client = client_for(partner_admin)
    url = f"/api/v1/orgs/bergwerk/partnerships/{partnership.pk}/end"
    assert_problem(send(client, "POST", url, {"password": "wrong"}), 403)
    assert send(client, "POST", url, {"password": PASSWORD}).json()["ended_by_side"] == "partner"


def test_create_customer(client_for, partner, partner_owner, partner_admin):
    body = {
        "name": "Café Sonnenschein",
        "contact_email": "sonja@cafe.test",
        "language": "de",
        "address": {"street": "Seestrasse 1", "postcode": "8000", "city": "Zürich"},
        "grant": {"scopes": ["products.manage"]},
    }
    assert_problem(send(client_for(partner_admin), "POST", "/api/v1/orgs/bergwerk/partnerships/customers", body), 403)
    response = send(client_for(partner_owner), "POST", "/api/v1/orgs/bergwerk/partnerships/customers", body)
    assert response.status_code == 201, response.content
    created = response.json()
    assert created["flow"] == "created" and created["origin"] == "partner" and created["status"] == "active"
    assert created["customer"]["slug"] == "cafe-sonnenschein"
    assert created["grant"]["scopes"] == ["products.manage"]


def test_a_partner_acting_through_its_grant_does_not_see_the_providers(
    client_for, partner, partner_admin, acme, acme_owner
):
    services.choose_partner(actor(acme_owner), customer=acme, partner=partner, grant=GrantInput())
    assert client_for(partner_admin).get("/api/v1/orgs/acme").status_code == 200
    assert_problem(client_for(partner_admin).get("/api/v1/orgs/acme/providers"), 403)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/v1/orgs/acme/providers/{id}"),
        ("GET", "/api/v1/orgs/acme/providers/{id}/grant"),
        ("GET", "/api/v1/orgs/acme/providers/{id}/history"),
        ("POST", "/api/v1/orgs/acme/providers/{id}/end"),
        ("PUT", "/api/v1/orgs/acme/providers/{id}/grant"),
        ("POST", "/api/v1/orgs/acme/providers/{id}/grant/revoke"),
    ],
)
def test_foreign_partnership_ids_are_not_found(client_for, partner, acme_owner, globex, globex_owner, method, path):
    foreign = services.choose_partner(actor(globex_owner), customer=globex, partner=partner, grant=GrantInput())
    body = {"password": PASSWORD} if method != "GET" else None
    assert_problem(send(client_for(acme_owner), method, path.format(id=foreign.pk), body), 404)


@pytest.mark.parametrize("suffix", ["", "/history", "/answer", "/resend", "/cancel", "/end"])
def test_another_partners_ids_are_not_found(client_for, partner, partner_owner, rival, acme, acme_owner, suffix):
    foreign = services.choose_partner(actor(acme_owner), customer=acme, partner=rival, grant=GrantInput())
    method = "GET" if suffix in ("", "/history") else "POST"
    body = (
        None
        if method == "GET"
        else {"accept": True}
        if suffix == "/answer"
        else {"password": PASSWORD}
        if suffix == "/end"
        else None
    )
    url = f"/api/v1/orgs/bergwerk/partnerships/{foreign.pk}{suffix}"
    assert_problem(send(client_for(partner_owner), method, url, body), 404)


def test_partner_search(client_for, partner, rival, acme_owner, acme_member):
    from partnerhub.partners.models import PartnerProfile

    # By name only partners listed in the directory are found.
    assert client_for(acme_owner).get("/api/v1/orgs/acme/partner-search?q=licht").json() == []
    PartnerProfile.objects.create(
        org=rival,
        company_name=rival.name,
        country="CH",
        contact_email="hello@nordlicht.test",
        affiliate_code="nordlicht",
        listed_in_directory=True,
    )
    found = client_for(acme_owner).get("/api/v1/orgs/acme/partner-search?q=licht").json()
    assert [p["slug"] for p in found] == ["nordlicht"]
    # By the contact's exact address, listed or not.
    found = client_for(acme_owner).get("/api/v1/orgs/acme/partner-search?q=HELLO@nordlicht.test").json()
    assert [p["slug"] for p in found] == ["nordlicht"]
    assert_problem(client_for(acme_member).get("/api/v1/orgs/acme/partner-search?q=licht"), 403)
