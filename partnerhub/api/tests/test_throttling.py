from django.test import override_settings

from partnerhub.audit.models import AuditEntry


@override_settings(API_RATE_LIMIT="3/m")
def test_a_caller_over_the_rate_gets_429_problem_with_retry_after(client_for, acme_member):
    client = client_for(acme_member)
    for _ in range(3):
        assert client.get("/api/v1/me").status_code == 200
    response = client.get("/api/v1/me")
    assert response.status_code == 429
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["status"] == 429
    assert int(response["Retry-After"]) >= 1


@override_settings(API_RATE_LIMIT="2/m")
def test_the_limit_is_per_caller(client_for, acme_member, acme_owner):
    member, owner = client_for(acme_member), client_for(acme_owner)
    for _ in range(2):
        member.get("/api/v1/me")
    assert member.get("/api/v1/me").status_code == 429
    assert owner.get("/api/v1/me").status_code == 200


@override_settings(API_RATE_LIMIT="1/m")
def test_a_throttled_write_changes_nothing(client_for, acme_owner, acme):
    client = client_for(acme_owner)
    client.get("/api/v1/me")
    before = AuditEntry.objects.count()
    response = client.patch(f"/api/v1/orgs/{acme.slug}", data={"name": "Renamed"}, content_type="application/json")
    assert response.status_code == 429
    acme.refresh_from_db()
    assert acme.name == "Acme GmbH"
    assert AuditEntry.objects.count() == before
