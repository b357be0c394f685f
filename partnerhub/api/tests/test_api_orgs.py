"""Organisations, members, invitations and the audit log through the API."""

from datetime import timedelta

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from partnerhub.access.perms import Perm, Role
from partnerhub.access.policy import Actor
from partnerhub.api.tests.helpers import assert_problem, bearer, send
from partnerhub.audit.models import AuditEntry
from partnerhub.audit.services import record
from partnerhub.orgs.models import Invitation, Membership, Organisation


def test_me(client_for, acme_owner):
    body = client_for(acme_owner).get("/api/v1/me").json()
    assert body["email"] == acme_owner.email
    assert body["support_code"] == acme_owner.support_code


def test_update_me(client_for, acme_owner):
    response = send(client_for(acme_owner), "PATCH", "/api/v1/me", {"language": "de"})

    assert response.status_code == 200
    assert response.json()["language"] == "de"
    acme_owner.refresh_from_db()
    assert (acme_owner.name, acme_owner.language) == ("Alice Owner", "de")
    assert AuditEntry.objects.filter(action="profile.updated", actor=acme_owner).count() == 1


def test_update_me_refuses_an_unknown_language(client_for, acme_owner):
    assert_problem(send(client_for(acme_owner), "PATCH", "/api/v1/me", {"language": "xx"}), 422)
    acme_owner.refresh_from_db()
    assert acme_owner.language == "en"
    assert not AuditEntry.objects.exists()


def test_update_me_is_not_available_with_a_key(acme, acme_owner, make_key):
    _key, secret = make_key(acme_owner, acme, [Perm.ORG_VIEW])
    assert_problem(send(Client(), "PATCH", "/api/v1/me", {"name": "Via key"}, **bearer(secret)), 403)
    acme_owner.refresh_from_db()
    assert acme_owner.name == "Alice Owner"
    assert not AuditEntry.objects.filter(action="profile.updated").exists()


def test_orgs_lists_only_visible_organisations(client_for, acme, globex, acme_owner, globex_owner):
    items = client_for(acme_owner).get("/api/v1/orgs").json()["items"]
    assert [o["slug"] for o in items] == ["acme"]
    assert client_for(acme_owner).get("/api/v1/orgs/acme").json()["name"] == "Acme GmbH"


def test_create_organisation(client_for, outsider):
    response = send(client_for(outsider), "POST", "/api/v1/orgs", {"name": "Initech", "slug": "initech"})

    assert response.status_code == 201
    assert response.json()["slug"] == "initech"
    org = Organisation.objects.get(slug="initech")
    assert Membership.objects.get(org=org).user == outsider
    assert AuditEntry.objects.filter(action="org.created", org=org).exists()


def test_create_organisation_with_a_taken_slug_is_a_conflict(client_for, acme, outsider):
    assert_problem(send(client_for(outsider), "POST", "/api/v1/orgs", {"name": "Other", "slug": "acme"}), 409)
    assert Organisation.objects.count() == 1
    assert not AuditEntry.objects.exists()


def test_keys_cannot_create_organisations(acme, acme_owner, make_key):
    _key, secret = make_key(acme_owner, acme, [Perm.ORG_VIEW])
    assert_problem(send(Client(), "POST", "/api/v1/orgs", {"name": "Via key"}, **bearer(secret)), 403)
    assert Organisation.objects.count() == 1


def test_session_writes_need_the_csrf_token(acme_owner, acme):
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(acme_owner)

    response = send(strict, "PATCH", "/api/v1/orgs/acme", {"name": "No token"})
    assert_problem(response, 403)
    response = send(strict, "POST", "/api/v1/orgs", {"name": "No token"})
    assert_problem(response, 403)
    acme.refresh_from_db()
    assert acme.name == "Acme GmbH"
    assert Organisation.objects.count() == 1
    assert not AuditEntry.objects.exists()

    # With the token a portal page hands out (cookie + header, as htmx sends it) the write goes through.
    assert strict.get("/o/acme/api-keys/").status_code == 200
    token = strict.cookies["csrftoken"].value
    response = send(strict, "PATCH", "/api/v1/orgs/acme", {"name": "With token"}, X_CSRFToken=token)
    assert response.status_code == 200
    acme.refresh_from_db()
    assert acme.name == "With token"


def test_update_organisation(client_for, acme, acme_admin):
    response = send(
        client_for(acme_admin), "PATCH", "/api/v1/orgs/acme", {"country": "ch", "website": "https://acme.test"}
    )

    assert response.status_code == 200
    acme.refresh_from_db()
    assert (acme.name, acme.country, acme.website) == ("Acme GmbH", "CH", "https://acme.test")
    assert AuditEntry.objects.filter(action="org.updated").count() == 1


def test_update_organisation_with_invalid_data(client_for, acme, acme_admin):
    response = send(client_for(acme_admin), "PATCH", "/api/v1/orgs/acme", {"billing_email": "not-an-email"})
    body = assert_problem(response, 422)
    assert body["errors"][0]["loc"] == ["body", "billing_email"]
    acme.refresh_from_db()
    assert acme.billing_email == ""
    assert not AuditEntry.objects.exists()


def test_unknown_body_fields_are_refused(client_for, acme, acme_admin):
    assert_problem(send(client_for(acme_admin), "PATCH", "/api/v1/orgs/acme", {"is_operator": True}), 422)
    acme.refresh_from_db()
    assert not acme.is_operator


def test_member_cannot_change_settings(client_for, acme, acme_member):
    assert_problem(send(client_for(acme_member), "PATCH", "/api/v1/orgs/acme", {"name": "X"}), 403)
    acme.refresh_from_db()
    assert acme.name == "Acme GmbH"
    assert not AuditEntry.objects.exists()


def test_members_list(client_for, acme, acme_owner, acme_admin, acme_member):
    items = client_for(acme_member).get("/api/v1/orgs/acme/members").json()["items"]
    assert [(m["email"], m["role"]) for m in items] == [
        (acme_owner.email, "owner"),
        (acme_admin.email, "admin"),
        (acme_member.email, "member"),
    ]


def test_change_and_remove_a_member(client_for, acme, acme_owner, acme_member):
    membership = Membership.objects.get(user=acme_member)
    client = client_for(acme_owner)

    response = send(client, "PATCH", f"/api/v1/orgs/acme/members/{membership.pk}", {"extra_perms": ["audit.view"]})
    assert response.status_code == 200
    assert response.json()["extra_perms"] == ["audit.view"]
    assert response.json()["role"] == "member"

    assert send(client, "DELETE", f"/api/v1/orgs/acme/members/{membership.pk}").status_code == 204
    assert not Membership.objects.filter(pk=membership.pk).exists()
    assert [e.action for e in AuditEntry.objects.order_by("id")] == ["member.changed", "member.removed"]


def test_removing_the_last_owner_is_a_conflict(client_for, acme, acme_owner):
    membership = Membership.objects.get(user=acme_owner)
    body = assert_problem(send(client_for(acme_owner), "DELETE", f"/api/v1/orgs/acme/members/{membership.pk}"), 409)
    assert "last owner" in body["detail"]
    assert Membership.objects.filter(pk=membership.pk).exists()
    assert not AuditEntry.objects.exists()


def test_anti_escalation_through_the_api(client_for, acme, acme_admin, acme_member):
    membership = Membership.objects.get(user=acme_member)
    response = send(client_for(acme_admin), "PATCH", f"/api/v1/orgs/acme/members/{membership.pk}", {"role": "owner"})
    assert_problem(response, 422)
    membership.refresh_from_db()
    assert membership.role == Role.MEMBER
    assert not AuditEntry.objects.exists()


def test_members_of_other_organisations_are_404(client_for, acme, acme_owner, globex, globex_owner):
    foreign = Membership.objects.get(user=globex_owner)
    client = client_for(acme_owner)
    assert_problem(send(client, "PATCH", f"/api/v1/orgs/acme/members/{foreign.pk}", {"role": "member"}), 404)
    assert_problem(send(client, "DELETE", f"/api/v1/orgs/acme/members/{foreign.pk}"), 404)
    assert Membership.objects.filter(pk=foreign.pk).exists()


def test_invitations(client_for, acme, acme_owner, django_capture_on_commit_callbacks):
    client = client_for(acme_owner)
    with django_capture_on_commit_callbacks(execute=True):
        response = send(client, "POST", "/api/v1/orgs/acme/invitations", {"email": "New@Example.test", "role": "admin"})
    assert response.status_code == 201
    created = response.json()
    assert (created["email"], created["role"], created["status"]) == ("new@example.test", "admin", "pending")
    assert "token" not in created
    assert len(mail.outbox) == 1

    listed = client.get("/api/v1/orgs/acme/invitations").json()["items"]
    assert [i["id"] for i in listed] == [created["id"]]

    with django_capture_on_commit_callbacks(execute=True):
        resent = send(client, "POST", f"/api/v1/orgs/acme/invitations/{created['id']}/resend")
    assert resent.status_code == 200
    assert len(mail.outbox) == 2

    assert send(client, "DELETE", f"/api/v1/orgs/acme/invitations/{created['id']}").status_code == 204
    assert client.get("/api/v1/orgs/acme/invitations").json()["items"] == []
    assert_problem(send(client, "POST", f"/api/v1/orgs/acme/invitations/{created['id']}/resend"), 409)
    assert_problem(send(client, "DELETE", f"/api/v1/orgs/acme/invitations/{created['id']}"), 409)


def test_invalid_invitation_email(client_for, acme, acme_owner, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = send(client_for(acme_owner), "POST", "/api/v1/orgs/acme/invitations", {"email": "nope"})
    assert_problem(response, 422)
    assert not Invitation.objects.exists()
    assert len(mail.outbox) == 0
    assert not AuditEntry.objects.exists()


def test_member_cannot_invite(client_for, acme, acme_member, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = send(client_for(acme_member), "POST", "/api/v1/orgs/acme/invitations", {"email": "x@example.test"})
    assert_problem(response, 403)
    assert not Invitation.objects.exists()
    assert len(mail.outbox) == 0
    assert not AuditEntry.objects.exists()


@pytest.fixture
def audit_trail(acme, acme_owner, acme_admin, globex, globex_owner):
    entries = [
        record(Actor(user=user), action, org=acme)
        for user, action in [
            (acme_owner, "org.updated"),
            (acme_admin, "member.changed"),
            (acme_owner, "member.changed"),
        ]
    ]
    record(Actor(user=globex_owner), "org.updated", org=globex)
    return entries


def test_audit_log_filters(client_for, acme, acme_owner, audit_trail):
    client = client_for(acme_owner)

    everything = client.get("/api/v1/orgs/acme/audit-log").json()["items"]
    assert [e["action"] for e in everything] == ["member.changed", "member.changed", "org.updated"]
    by_action = client.get("/api/v1/orgs/acme/audit-log", {"action": "member.changed"}).json()["items"]
    assert len(by_action) == 2
    by_actor = client.get("/api/v1/orgs/acme/audit-log", {"actor": "admin@acme"}).json()["items"]
    assert [e["actor_email"] for e in by_actor] == ["admin@acme.test"]
    future = (timezone.now() + timedelta(minutes=1)).isoformat()
    assert client.get("/api/v1/orgs/acme/audit-log", {"since": future}).json()["items"] == []
    past = (timezone.now() - timedelta(days=30)).isoformat()
    assert client.get("/api/v1/orgs/acme/audit-log", {"until": past}).json()["items"] == []


def test_audit_log_needs_audit_view(client_for, acme, acme_member):
    assert_problem(client_for(acme_member).get("/api/v1/orgs/acme/audit-log"), 403)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        # Regressions: these overflowed (500), or broke the query on PostgreSQL (NUL).
        ("since", "0001-01-01T00:00:00+05:00"),
        ("until", "9999-12-31T23:59:59-12:00"),
        ("since", "9999-06-01T00:00:00Z"),
        ("until", "2026-01-01T00:00:00"),  # no time zone
    ],
)
def test_audit_log_refuses_hostile_filters(client_for, acme, acme_owner, audit_trail, name, value):
    body = assert_problem(client_for(acme_owner).get("/api/v1/orgs/acme/audit-log", {name: value}), 422)
    assert body["errors"][0]["loc"][-1] == name


def test_audit_log_accepts_the_edges_of_the_range(client_for, acme, acme_owner, audit_trail):
    client = client_for(acme_owner)
    query = {"since": "1900-01-01T00:00:00Z", "until": "9998-12-31T23:59:59+14:00"}
    assert len(client.get("/api/v1/orgs/acme/audit-log", query).json()["items"]) == len(audit_trail)


@pytest.mark.parametrize(
    ("name", "slug"),
    [
        ("   ", None),  # the service refuses a blank name
        ("Initech", "Has Spaces"),  # the schema refuses a malformed slug
    ],
)
def test_create_organisation_with_invalid_input_is_422_not_409(client_for, acme, outsider, name, slug):
    body = {"name": name} | ({"slug": slug} if slug else {})
    assert_problem(send(client_for(outsider), "POST", "/api/v1/orgs", body), 422)
    assert Organisation.objects.count() == 1
    assert not AuditEntry.objects.exists()


def test_create_organisation_taken_slug_carries_its_own_code(outsider, acme):
    from partnerhub.core.errors import ServiceError
    from partnerhub.orgs.services import SLUG_TAKEN, create_organisation

    with pytest.raises(ServiceError) as refused:
        create_organisation(Actor(user=outsider), name="Other", slug="ACME")
    assert refused.value.code == SLUG_TAKEN
    with pytest.raises(ServiceError) as invalid:
        create_organisation(Actor(user=outsider), name=" ")
    assert invalid.value.code != SLUG_TAKEN


@pytest.mark.parametrize("body", [{"name": "a\x00b"}, {"website": "\x00"}, {"country": "C\x00"}])
def test_nul_characters_in_a_body_are_refused(client_for, acme, acme_owner, body):
    response = assert_problem(send(client_for(acme_owner), "PATCH", "/api/v1/orgs/acme", body), 422)
    assert "Null characters are not allowed." in response["errors"][0]["msg"]
    acme.refresh_from_db()
    assert acme.name == "Acme GmbH"
    assert not AuditEntry.objects.exists()


@pytest.mark.parametrize("name", ["actor", "action"])
def test_audit_log_refuses_nul_in_filters_at_the_edge(client_for, acme, acme_owner, audit_trail, name):
    # Regression: NUL broke the query on PostgreSQL (500); the edge middleware answers 400.
    body = assert_problem(client_for(acme_owner).get("/api/v1/orgs/acme/audit-log", {name: "a\x00b"}), 400)
    assert body["detail"] == "Null characters are not allowed."


def test_nul_in_the_organisation_of_the_path_is_refused(client_for, acme, acme_owner):
    # Regression: on PostgreSQL the lookup of the slug failed with a 500.
    assert_problem(client_for(acme_owner).get("/api/v1/orgs/a%00b/members"), 400)


def test_validation_messages_follow_the_language(client_for, acme, acme_owner):
    acme_owner.language = "de"
    acme_owner.save(update_fields=["language"])
    client = client_for(acme_owner)
    client.cookies["django_language"] = "de"

    response = send(client, "POST", "/api/v1/orgs/acme/invitations", {"email": "nope"}, Accept_Language="de")

    body = assert_problem(response, 422)
    assert "Enter a valid email address." not in body["errors"][0]["msg"]
    assert "E-Mail-Adresse" in body["errors"][0]["msg"]
