"""Permission matrix over the foundation's remaining HTML routes (the member and settings routes have
theirs in partnerhub/orgs/tests/test_permissions.py): roles × actions × own/foreign organisation.

Expected answers: the action for holders of the permission, 403 for members who can see the
organisation without the permission, 404 for everybody else (foreign or no organisation), a login
redirect for visitors. Every refused write leaves rows, audit entries and mail untouched.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.core import mail

from conftest import actor
from partnerhub.access.perms import Perm, Role
from partnerhub.api.models import ApiKey
from partnerhub.api.services import create_api_key
from partnerhub.api.tests.helpers import reauthenticated
from partnerhub.audit.models import AuditEntry
from partnerhub.orgs.models import Invitation, Membership, Organisation
from partnerhub.orgs.services import invite_member

CAST = ["acme_owner", "acme_admin", "acme_member", "globex_owner", "outsider", "anonymous"]
ALLOWED = {"acme_owner", "acme_admin"}


def snapshot() -> dict[str, Any]:
    return {
        "keys": list(ApiKey.objects.order_by("pk").values()),
        "invitations": list(Invitation.objects.order_by("pk").values()),
        "memberships": list(Membership.objects.order_by("pk").values()),
        "orgs": list(Organisation.objects.order_by("pk").values()),
        "audit": AuditEntry.objects.count(),
        "mails": len(mail.outbox),
    }


@pytest.fixture
def world(acme, acme_owner, acme_admin, acme_member, globex, globex_owner, outsider):
    key, _secret = create_api_key(actor(acme_owner), org=acme, name="CI", perms=[Perm.ORG_VIEW])
    invitation, _token = invite_member(
        actor(acme_owner), org=acme, email="new@acme.test", role=Role.MEMBER, extra_perms=[]
    )
    mail.outbox.clear()
    people = {
        "acme_owner": acme_owner,
        "acme_admin": acme_admin,
        "acme_member": acme_member,
        "globex_owner": globex_owner,
        "outsider": outsider,
        "anonymous": None,
    }
    return {"key": key, "invitation": invitation, "people": people}


def expected(who: str, allowed: set[str], ok: int) -> int:
    if who == "anonymous":
        return 302
    if who in allowed:
        return ok
    return 403 if who == "acme_member" else 404


READS = [
    ("audit log", "/o/acme/audit/", ALLOWED, 200),
    ("audit export", "/o/acme/audit/export.csv", ALLOWED, 200),
    ("API keys", "/o/acme/api-keys/", ALLOWED, 200),
    ("new API key form", "/o/acme/api-keys/new/", ALLOWED, 200),
]


@pytest.mark.parametrize("who", CAST)
@pytest.mark.parametrize(("name", "url", "allowed", "ok"), READS, ids=[r[0] for r in READS])
def test_reads(world, client_for, who, name, url, allowed, ok):
    user = world["people"][who]
    client = client_for(user)
    if user is not None:
        reauthenticated(client)  # the API-key form asks for the password again first
    assert client.get(url).status_code == expected(who, allowed, ok)


def _revoke(world):
    return f"/o/acme/api-keys/{world['key'].pk}/revoke/", {}


def _create_key(world):
    return "/o/acme/api-keys/new/", {"name": "matrix", "perms": [Perm.ORG_VIEW.value]}


def _resend(world):
    return f"/o/acme/invitations/{world['invitation'].pk}/resend/", {}


def _leave(world):
    return "/o/acme/leave/", {}


WRITES = [
    ("revoke API key", _revoke, ALLOWED, 302),
    ("create API key", _create_key, ALLOWED, 200),
    ("resend invitation", _resend, ALLOWED, 302),
]


@pytest.mark.parametrize("who", CAST)
@pytest.mark.parametrize(("name", "build", "allowed", "ok"), WRITES, ids=[w[0] for w in WRITES])
def test_writes(world, client_for, django_capture_on_commit_callbacks, who, name, build, allowed, ok):
    user = world["people"][who]
    client = client_for(user)
    if user is not None:
        reauthenticated(client)
    url, data = build(world)
    before = snapshot()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, data)
    want = expected(who, allowed, ok)
    assert response.status_code == want
    if who not in allowed:
        assert snapshot() == before, f"{who} changed something with a refused {name}"
    else:
        assert snapshot() != before, f"{name} by {who} did nothing"


@pytest.mark.parametrize("who", ["globex_owner", "outsider", "anonymous"])
def test_leaving_a_foreign_organisation_is_refused_and_changes_nothing(world, client_for, who):
    client = client_for(world["people"][who])
    before = snapshot()
    response = client.post("/o/acme/leave/")
    assert response.status_code == (302 if who == "anonymous" else 404)
    assert snapshot() == before


def test_a_member_may_leave_and_that_is_audited(world, client_for, acme_member):
    before = AuditEntry.objects.count()
    response = client_for(acme_member).post("/o/acme/leave/")
    assert response.status_code == 302
    assert not Membership.objects.filter(user=acme_member, org__slug="acme").exists()
    assert AuditEntry.objects.count() == before + 1
