"""Every API error is an application/problem+json document."""

from partnerhub.access.perms import Perm
from partnerhub.api.models import ApiKey
from partnerhub.api.tests.helpers import assert_problem, bearer, reauthenticated, send
from partnerhub.audit.models import AuditEntry


def test_401_without_credentials(client, db):
    body = assert_problem(client.get("/api/v1/me"), 401)
    assert body["title"] == "Authentication required"
    assert "Bearer" in body["detail"]


def test_401_with_an_unknown_key(client, db):
    assert_problem(send(client, "GET", "/api/v1/me", **bearer("phk_not-a-key")), 401)


def test_403_names_the_missing_permission(client_for, acme, acme_member):
    body = assert_problem(client_for(acme_member).get("/api/v1/orgs/acme/audit-log"), 403)
    assert "audit.view" in body["detail"]


def test_404_for_an_unknown_or_foreign_organisation(client_for, acme, globex, acme_owner):
    client = client_for(acme_owner)
    assert_problem(client.get("/api/v1/orgs/nowhere"), 404)
    assert_problem(client.get("/api/v1/orgs/globex"), 404)


def test_404_for_an_object_of_another_organisation(client_for, acme, acme_owner, globex, globex_owner, make_key):
    foreign, _ = make_key(globex_owner, globex, [Perm.ORG_VIEW])
    assert_problem(send(client_for(acme_owner), "DELETE", f"/api/v1/orgs/acme/api-keys/{foreign.pk}"), 404)
    foreign.refresh_from_db()
    assert foreign.revoked_at is None


def test_422_lists_the_invalid_fields(client_for, acme, acme_owner):
    response = send(client_for(acme_owner), "POST", "/api/v1/orgs/acme/api-keys", {"name": "", "permissions": ["x"]})
    body = assert_problem(response, 422)
    locs = [tuple(e["loc"]) for e in body["errors"]]
    assert ("body", "data", "name") in locs
    assert ("body", "data", "permissions", "0") in locs
    assert not ApiKey.objects.exists()


def test_422_for_a_bare_json_string_body(client_for, acme, acme_owner):
    assert_problem(send(client_for(acme_owner), "POST", "/api/v1/orgs/acme/api-keys", '"AAA"'), 422)
    assert not ApiKey.objects.exists()


def test_400_for_a_body_that_is_not_json(client_for, acme, acme_owner):
    assert_problem(send(client_for(acme_owner), "POST", "/api/v1/orgs/acme/api-keys", "{not json"), 400)
    assert not ApiKey.objects.exists()


def test_422_for_a_rule_a_service_enforces(client_for, acme, acme_member, acme_owner):
    # The owner holds every own-organisation permission but no partner ones.
    response = send(
        reauthenticated(client_for(acme_owner)),
        "POST",
        "/api/v1/orgs/acme/api-keys",
        {"name": "k", "permissions": ["partner.offers.manage"]},
    )
    body = assert_problem(response, 422)
    assert "partner.offers.manage" in body["detail"]
    assert body["errors"][0]["loc"] == ["body", "perms"]
    assert not ApiKey.objects.exists()
    assert not AuditEntry.objects.exists()


def test_409_for_a_state_conflict(client_for, acme, acme_owner, make_key):
    key, _ = make_key(acme_owner, acme, [Perm.ORG_VIEW])
    client = reauthenticated(client_for(acme_owner))
    assert send(client, "DELETE", f"/api/v1/orgs/acme/api-keys/{key.pk}").status_code == 204

    body = assert_problem(send(client, "DELETE", f"/api/v1/orgs/acme/api-keys/{key.pk}"), 409)
    assert "already been revoked" in body["detail"]
    assert AuditEntry.objects.filter(action="api_key.revoked").count() == 1


def test_an_unexpected_error_is_a_500_problem_without_internals(client_for, acme, acme_owner, monkeypatch, caplog):
    def broken(*args, **kwargs):
        raise RuntimeError("secret internals: password=hunter2")

    monkeypatch.setattr("partnerhub.api.endpoints.orgs.visible_orgs", broken)

    with caplog.at_level("ERROR", logger="partnerhub.api.problems"):
        response = client_for(acme_owner).get("/api/v1/orgs")

    body = assert_problem(response, 500)
    assert body["title"] == "Server error"
    assert "hunter2" not in response.content.decode()
    assert "RuntimeError" not in response.content.decode()
    [logged] = [r for r in caplog.records if r.name == "partnerhub.api.problems"]
    assert logged.exc_info is not None
    assert "hunter2" in str(logged.exc_info[1])


def test_problem_titles_are_translatable(monkeypatch):
    from django.utils.functional import Promise
    from django.utils.translation import override

    from partnerhub.api.problems import TITLES, title_of

    assert all(isinstance(title, Promise) for title in TITLES.values())
    with override("de"):
        assert title_of(404) == str(TITLES[404])
    assert title_of(404) == "Not found"
    assert title_of(418) == "Error"


def test_ninjas_own_error_details_are_translatable(client_for, acme, acme_owner, monkeypatch):
    from partnerhub.api import problems

    monkeypatch.setitem(problems.NINJA_DETAILS, "Cannot parse request body", "«translated»")
    body = assert_problem(send(client_for(acme_owner), "POST", "/api/v1/orgs/acme/api-keys", "{not json"), 400)
    assert body["detail"] == "«translated»"


def test_a_missing_csrf_token_is_explained(acme, acme_owner):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    strict.force_login(acme_owner)
    body = assert_problem(send(strict, "PATCH", "/api/v1/orgs/acme", {"name": "x"}), 403)
    assert "X-CSRFToken" in body["detail"]
