"""API keys through the API: managing them, and what a key can and cannot do."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from partnerhub.access.perms import Perm
from partnerhub.access.policy import Actor
from partnerhub.api.models import ApiKey
from partnerhub.api.tests.helpers import assert_problem, bearer, reauthenticated, send
from partnerhub.audit.models import AuditEntry
from partnerhub.orgs.models import Membership
from partnerhub.orgs.services import remove_member


@pytest.fixture
def anon() -> Client:
    return Client()


def test_create_list_and_revoke_through_the_api(client_for, acme, acme_owner):
    client = reauthenticated(client_for(acme_owner))
    expires = (timezone.now() + timedelta(days=30)).replace(microsecond=0)

    response = send(
        client,
        "POST",
        "/api/v1/orgs/acme/api-keys",
        {"name": "CI", "permissions": ["org.view", "audit.view"], "expires_at": expires.isoformat()},
    )

    assert response.status_code == 201
    created = response.json()
    secret = created["secret"]
    assert secret.startswith(created["key"]["prefix"])
    assert created["key"]["permissions"] == ["audit.view", "org.view"]
    assert created["key"]["created_by"] == acme_owner.email
    assert created["key"]["status"] == "active"
    key = ApiKey.objects.get()
    assert key.expires_at == expires

    listed = client.get("/api/v1/orgs/acme/api-keys").json()
    assert [k["id"] for k in listed["items"]] == [key.pk]
    assert "secret" not in listed["items"][0]
    assert secret not in str(listed)

    assert send(client, "DELETE", f"/api/v1/orgs/acme/api-keys/{key.pk}").status_code == 204
    key.refresh_from_db()
    assert key.status == "revoked"
    assert [e.action for e in AuditEntry.objects.order_by("id")] == ["api_key.created", "api_key.revoked"]


def test_a_key_authenticates_as_its_creator_and_records_its_use(anon, acme, acme_admin, make_key):
    key, secret = make_key(acme_admin, acme, [Perm.ORG_VIEW])
    assert key.last_used_at is None

    response = send(anon, "GET", "/api/v1/me", **bearer(secret))

    assert response.status_code == 200
    assert response.json()["email"] == acme_admin.email
    key.refresh_from_db()
    assert key.last_used_at is not None


def test_a_revoked_key_is_refused(anon, acme, acme_owner, make_key):
    key, secret = make_key(acme_owner, acme, [Perm.ORG_VIEW])
    assert send(anon, "GET", "/api/v1/orgs/acme", **bearer(secret)).status_code == 200
    key.revoked_at = timezone.now()
    key.save(update_fields=["revoked_at"])

    assert_problem(send(anon, "GET", "/api/v1/orgs/acme", **bearer(secret)), 401)


def test_an_expired_key_is_refused(anon, acme, acme_owner, make_key):
    key, secret = make_key(acme_owner, acme, [Perm.ORG_VIEW], expires_at=timezone.now() + timedelta(hours=1))
    ApiKey.objects.filter(pk=key.pk).update(expires_at=timezone.now() - timedelta(seconds=1))

    assert_problem(send(anon, "GET", "/api/v1/me", **bearer(secret)), 401)


def test_a_refused_key_on_a_write_answers_401_not_a_csrf_error(acme, acme_owner, make_key):
    key, secret = make_key(acme_owner, acme, [Perm.API_KEYS_MANAGE, Perm.ORG_VIEW])
    ApiKey.objects.filter(pk=key.pk).update(revoked_at=timezone.now())
    strict = Client(enforce_csrf_checks=True)

    response = send(
        strict, "POST", "/api/v1/orgs/acme/api-keys", {"name": "x", "permissions": ["org.view"]}, **bearer(secret)
    )

    assert_problem(response, 401)
    assert ApiKey.objects.count() == 1


def test_key_writes_need_no_csrf_token(acme, acme_owner, make_key):
    _key, secret = make_key(acme_owner, acme, [Perm.API_KEYS_MANAGE, Perm.ORG_VIEW])
    strict = Client(enforce_csrf_checks=True)

    response = send(
        strict, "POST", "/api/v1/orgs/acme/api-keys", {"name": "x", "permissions": ["org.view"]}, **bearer(secret)
    )

    assert response.status_code == 201


def test_a_key_can_only_do_what_its_permissions_allow(anon, acme, acme_owner, make_key):
    _key, secret = make_key(acme_owner, acme, [Perm.ORG_VIEW])

    assert send(anon, "GET", "/api/v1/orgs/acme/members", **bearer(secret)).status_code == 200
    body = assert_problem(send(anon, "GET", "/api/v1/orgs/acme/audit-log", **bearer(secret)), 403)
    assert "audit.view" in body["detail"]
    response = send(anon, "PATCH", "/api/v1/orgs/acme", {"name": "Hacked"}, **bearer(secret))
    assert_problem(response, 403)
    acme.refresh_from_db()
    assert acme.name == "Acme GmbH"


def test_a_key_sees_nothing_of_other_organisations(anon, acme, globex, acme_owner, make_key):
    # The creator is a member of both; the key is scoped to acme.
    Membership.objects.create(user=acme_owner, org=globex, role="owner")
    _key, secret = make_key(acme_owner, acme, [Perm.ORG_VIEW, Perm.API_KEYS_MANAGE])

    assert_problem(send(anon, "GET", "/api/v1/orgs/globex", **bearer(secret)), 404)
    assert_problem(send(anon, "GET", "/api/v1/orgs/globex/members", **bearer(secret)), 404)
    orgs = send(anon, "GET", "/api/v1/orgs", **bearer(secret)).json()
    assert [o["slug"] for o in orgs["items"]] == ["acme"]


def test_a_key_is_limited_to_what_its_creator_still_holds(anon, acme, acme_member, acme_owner, make_key):
    # Extra permissions let the member create a key with audit.view; then they are taken away.
    Membership.objects.filter(user=acme_member).update(extra_perms=["api_keys.manage", "audit.view"])
    _key, secret = make_key(acme_member, acme, [Perm.ORG_VIEW, Perm.AUDIT_VIEW])
    assert send(anon, "GET", "/api/v1/orgs/acme/audit-log", **bearer(secret)).status_code == 200

    Membership.objects.filter(user=acme_member).update(extra_perms=[])

    assert_problem(send(anon, "GET", "/api/v1/orgs/acme/audit-log", **bearer(secret)), 403)


def test_removing_the_creator_disables_the_key_on_the_next_request(anon, acme, acme_owner, acme_admin, make_key):
    _key, secret = make_key(acme_admin, acme, [Perm.ORG_VIEW])
    assert send(anon, "GET", "/api/v1/orgs/acme", **bearer(secret)).status_code == 200

    remove_member(Actor(user=acme_owner), membership=Membership.objects.get(user=acme_admin, org=acme))

    assert_problem(send(anon, "GET", "/api/v1/orgs/acme", **bearer(secret)), 404)
    assert send(anon, "GET", "/api/v1/orgs", **bearer(secret)).json()["items"] == []


def test_a_key_creates_keys_only_within_its_own_permissions(anon, acme, acme_owner, make_key):
    _key, secret = make_key(acme_owner, acme, [Perm.API_KEYS_MANAGE, Perm.ORG_VIEW])

    wider = send(
        anon, "POST", "/api/v1/orgs/acme/api-keys", {"name": "w", "permissions": ["audit.view"]}, **bearer(secret)
    )
    body = assert_problem(wider, 422)
    assert "audit.view" in body["detail"]
    assert ApiKey.objects.count() == 1

    narrower = send(
        anon, "POST", "/api/v1/orgs/acme/api-keys", {"name": "n", "permissions": ["org.view"]}, **bearer(secret)
    )
    assert narrower.status_code == 201
    assert (
        AuditEntry.objects.get(action="api_key.created", object_id=str(narrower.json()["key"]["id"])).api_key_id
        == _key.pk
    )


def test_session_callers_must_have_confirmed_their_password(client_for, acme, acme_owner, make_key):
    key, _ = make_key(acme_owner, acme, [Perm.ORG_VIEW])
    client = client_for(acme_owner)

    body = assert_problem(
        send(client, "POST", "/api/v1/orgs/acme/api-keys", {"name": "k", "permissions": ["org.view"]}), 403
    )
    assert "Confirm your password" in body["detail"]
    assert_problem(send(client, "DELETE", f"/api/v1/orgs/acme/api-keys/{key.pk}"), 403)
    assert ApiKey.objects.count() == 1
    key.refresh_from_db()
    assert key.revoked_at is None
    assert AuditEntry.objects.filter(action__startswith="api_key.").count() == 1  # only the fixture's creation


def test_member_without_the_permission_cannot_manage_keys(client_for, acme, acme_member, acme_owner, make_key):
    key, _ = make_key(acme_owner, acme, [Perm.ORG_VIEW])
    client = client_for(acme_member)

    assert_problem(client.get("/api/v1/orgs/acme/api-keys"), 403)
    assert_problem(send(client, "POST", "/api/v1/orgs/acme/api-keys", {"name": "k", "permissions": ["org.view"]}), 403)
    assert_problem(send(client, "DELETE", f"/api/v1/orgs/acme/api-keys/{key.pk}"), 403)
    assert ApiKey.objects.count() == 1
    key.refresh_from_db()
    assert key.revoked_at is None
    assert AuditEntry.objects.filter(action__startswith="api_key.").count() == 1  # only the fixture's creation


@pytest.mark.parametrize(
    ("expires_at", "message"),
    [
        # Regressions: a naive time raised TypeError, the last one overflowed when stored (both 500).
        ("2030-01-01T00:00:00", "timezone"),
        ("9999-12-31T23:59:59-12:00", "year 9998"),
        ("9999-06-01T00:00:00Z", "year 9998"),
        ("0001-01-01T00:00:00+05:00", "year 1900"),
    ],
)
def test_an_expiry_without_time_zone_or_out_of_range_is_refused(client_for, acme, acme_owner, expires_at, message):
    response = send(
        reauthenticated(client_for(acme_owner)),
        "POST",
        "/api/v1/orgs/acme/api-keys",
        {"name": "k", "permissions": ["org.view"], "expires_at": expires_at},
    )

    body = assert_problem(response, 422)
    assert body["errors"][0]["loc"] == ["body", "data", "expires_at"]
    assert message in body["errors"][0]["msg"]
    assert not ApiKey.objects.exists()
    assert not AuditEntry.objects.exists()


def test_the_service_refuses_a_naive_or_unstorable_expiry(acme, acme_owner):
    from datetime import UTC, datetime
    from datetime import timezone as dt_timezone

    from partnerhub.api.services import create_api_key
    from partnerhub.core.errors import ServiceError

    for expires_at, message in [
        (datetime(2030, 1, 1), "time zone"),  # naive: the point of the case
        (datetime(9999, 12, 31, 23, 59, tzinfo=dt_timezone(timedelta(hours=-12))), "earlier expiry"),
        (datetime(2020, 1, 1, tzinfo=UTC), "in the future"),
    ]:
        with pytest.raises(ServiceError, match=message):
            create_api_key(Actor(user=acme_owner), org=acme, name="k", perms=[Perm.ORG_VIEW], expires_at=expires_at)
    assert not ApiKey.objects.exists()
    assert not AuditEntry.objects.exists()
