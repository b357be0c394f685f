"""The API key pages: list, create (secret shown once), revoke; with re-authentication."""

from datetime import datetime

import pytest
from django.test import Client
from django.utils import timezone

from partnerhub.access.perms import Perm
from partnerhub.accounts.models import User
from partnerhub.api.models import ApiKey
from partnerhub.api.tests.helpers import reauthenticated
from partnerhub.audit.models import AuditEntry


@pytest.fixture
def owner_client(client_for, acme_owner: User) -> Client:
    return reauthenticated(client_for(acme_owner))


def test_list_shows_keys_without_secrets(owner_client, acme, acme_owner, make_key):
    key, secret = make_key(acme_owner, acme, [Perm.ORG_VIEW, Perm.AUDIT_VIEW], name="Reporting")

    response = owner_client.get("/o/acme/api-keys/")

    assert response.status_code == 200
    html = response.content.decode()
    assert "Reporting" in html
    assert key.prefix in html
    assert secret not in html
    assert "See the audit log" in html
    assert f"/o/acme/api-keys/{key.pk}/revoke/" in html


def test_create_shows_the_secret_once(owner_client, acme, acme_owner):
    form = owner_client.get("/o/acme/api-keys/new/")
    assert form.status_code == 200
    # Only permissions the owner holds are offered: no partner or operator permissions.
    assert 'value="audit.view"' in form.content.decode()
    assert 'value="partner.offers.manage"' not in form.content.decode()

    response = owner_client.post(
        "/o/acme/api-keys/new/", {"name": "Export", "perms": ["org.view", "audit.view"], "expires_on": "2099-12-31"}
    )

    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    key = ApiKey.objects.get()
    assert key.perms == {Perm.ORG_VIEW, Perm.AUDIT_VIEW}
    # Valid through the chosen day: it expires when the next day begins, in the current time zone.
    assert key.expires_at == timezone.make_aware(datetime(2100, 1, 1))
    html = response.content.decode()
    secret = html.split('id="api-key-secret" class="secret" type="text" value="')[1].split('"')[0]
    assert ApiKey.hash(secret) == key.key_hash
    assert secret not in owner_client.get("/o/acme/api-keys/").content.decode()
    assert AuditEntry.objects.filter(action="api_key.created").count() == 1


def test_create_refuses_an_invalid_form(owner_client, acme):
    response = owner_client.post("/o/acme/api-keys/new/", {"name": "", "perms": [], "expires_on": "2000-01-01"})

    assert response.status_code == 200
    assert response.context["form"].errors.keys() == {"name", "perms", "expires_on"}
    assert not ApiKey.objects.exists()
    assert not AuditEntry.objects.exists()


def test_create_refuses_permissions_not_offered(owner_client, acme):
    response = owner_client.post("/o/acme/api-keys/new/", {"name": "x", "perms": ["operator.payouts.manage"]})

    assert response.status_code == 200
    assert "perms" in response.context["form"].errors
    assert not ApiKey.objects.exists()


def test_creating_needs_recent_reauthentication(client_for, acme, acme_owner):
    client = client_for(acme_owner)

    response = client.post("/o/acme/api-keys/new/", {"name": "x", "perms": ["org.view"]})

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/reauthenticate/")
    assert not ApiKey.objects.exists()


def test_revoke(owner_client, acme, acme_owner, make_key):
    key, _ = make_key(acme_owner, acme, [Perm.ORG_VIEW])

    response = owner_client.post(f"/o/acme/api-keys/{key.pk}/revoke/", follow=True)

    assert response.redirect_chain[-1][0] == "/o/acme/api-keys/"
    key.refresh_from_db()
    assert key.revoked_at is not None
    assert "has been revoked" in response.content.decode()
    assert AuditEntry.objects.filter(action="api_key.revoked").count() == 1


def test_revoke_needs_post_and_reauthentication(client_for, acme, acme_owner, make_key):
    key, _ = make_key(acme_owner, acme, [Perm.ORG_VIEW])
    client = client_for(acme_owner)

    assert client.get(f"/o/acme/api-keys/{key.pk}/revoke/").status_code == 405
    response = client.post(f"/o/acme/api-keys/{key.pk}/revoke/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/reauthenticate/")
    key.refresh_from_db()
    assert key.revoked_at is None


def test_revoking_a_key_of_another_organisation_is_404(owner_client, acme, globex, globex_owner, make_key):
    foreign, _ = make_key(globex_owner, globex, [Perm.ORG_VIEW])

    assert owner_client.post(f"/o/acme/api-keys/{foreign.pk}/revoke/").status_code == 404
    foreign.refresh_from_db()
    assert foreign.revoked_at is None


@pytest.mark.parametrize(
    ("url", "method"),
    [("/o/acme/api-keys/", "get"), ("/o/acme/api-keys/new/", "get"), ("/o/acme/api-keys/new/", "post")],
)
def test_pages_need_api_keys_manage(client_for, acme, acme_member, outsider, url, method):
    member = reauthenticated(client_for(acme_member))
    stranger = reauthenticated(client_for(outsider))

    assert getattr(member, method)(url, {"name": "x", "perms": ["org.view"]}).status_code == 403
    assert getattr(stranger, method)(url, {"name": "x", "perms": ["org.view"]}).status_code == 404
    anonymous = getattr(Client(), method)(url)
    assert anonymous.status_code == 302
    assert "/accounts/login/" in anonymous["Location"]
    assert not ApiKey.objects.exists()


def test_create_refuses_an_expiry_day_beyond_the_calendar(owner_client, acme):
    # Regression: 9999-12-31 overflowed into a 500 when the day after it was computed.
    response = owner_client.post(
        "/o/acme/api-keys/new/", {"name": "Export", "perms": ["org.view"], "expires_on": "9999-12-31"}
    )

    assert response.status_code == 200
    assert response.context["form"].errors["expires_on"] == ["Choose a day on or before 9998-12-31."]
    assert not ApiKey.objects.exists()
    assert not AuditEntry.objects.exists()
