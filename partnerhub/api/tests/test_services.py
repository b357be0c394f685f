from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from conftest import add_member, make_user
from partnerhub.access.perms import Perm, Role
from partnerhub.access.policy import Actor
from partnerhub.api.models import ApiKey
from partnerhub.api.services import create_api_key, revoke_api_key
from partnerhub.audit.models import AuditEntry


def test_create_api_key_stores_only_the_hash_and_audits_without_the_secret(acme, acme_admin):
    key, secret = create_api_key(
        Actor(user=acme_admin), org=acme, name=" Export ", perms=[Perm.ORG_VIEW, Perm.AUDIT_VIEW]
    )

    key.refresh_from_db()
    assert secret.startswith("phk_")
    assert key.key_hash == ApiKey.hash(secret)
    assert secret not in {key.key_hash, key.prefix, key.name}
    assert key.prefix == secret[:12]
    assert key.name == "Export"
    assert key.perms == {Perm.ORG_VIEW, Perm.AUDIT_VIEW}
    assert key.created_by == acme_admin
    entry = AuditEntry.objects.get(action="api_key.created")
    assert entry.org == acme
    assert entry.actor == acme_admin
    assert entry.object_id == str(key.pk)
    assert entry.after is not None
    assert entry.after["perms"] == ["audit.view", "org.view"]
    assert secret not in str(entry.after)
    assert key.key_hash not in str(entry.after)


def test_member_without_api_keys_manage_cannot_create_a_key(acme, acme_member):
    with pytest.raises(PermissionDenied):
        create_api_key(Actor(user=acme_member), org=acme, name="k", perms=[Perm.ORG_VIEW])
    assert not ApiKey.objects.exists()
    assert not AuditEntry.objects.exists()


def test_outsider_cannot_create_a_key(acme, outsider):
    with pytest.raises(PermissionDenied):
        create_api_key(Actor(user=outsider), org=acme, name="k", perms=[Perm.ORG_VIEW])
    assert not ApiKey.objects.exists()


def test_key_permissions_cannot_exceed_the_creators(acme):
    # A member who was given api_keys.manage as an extra holds no members.manage.
    user = make_user("keys@acme.test")
    add_member(user, acme, Role.MEMBER, extra=[Perm.API_KEYS_MANAGE])

    with pytest.raises(ValidationError) as caught:
        create_api_key(Actor(user=user), org=acme, name="k", perms=[Perm.ORG_VIEW, Perm.MEMBERS_MANAGE])

    assert "members.manage" in str(caught.value)
    assert not ApiKey.objects.exists()
    assert not AuditEntry.objects.exists()


@pytest.mark.parametrize(
    ("name", "perms", "expires_in"),
    [
        ("k", [], None),
        ("   ", [Perm.ORG_VIEW], None),
        ("k", [Perm.ORG_VIEW], timedelta(minutes=-1)),
        ("k", ["nope"], None),
    ],
)
def test_invalid_key_requests_are_refused(acme, acme_owner, name, perms, expires_in):
    expires_at = timezone.now() + expires_in if expires_in else None
    with pytest.raises(ValidationError):
        create_api_key(Actor(user=acme_owner), org=acme, name=name, perms=perms, expires_at=expires_at)
    assert not ApiKey.objects.exists()
    assert not AuditEntry.objects.exists()


def test_through_a_key_new_keys_stay_within_the_calling_keys_permissions(acme, acme_owner, make_key):
    calling, _secret = make_key(acme_owner, acme, [Perm.API_KEYS_MANAGE, Perm.ORG_VIEW])
    actor = Actor(user=acme_owner, api_key=calling)

    key, _ = create_api_key(actor, org=acme, name="child", perms=[Perm.ORG_VIEW])
    assert key.perms == {Perm.ORG_VIEW}
    with pytest.raises(ValidationError):
        create_api_key(actor, org=acme, name="wider", perms=[Perm.AUDIT_VIEW])
    assert ApiKey.objects.count() == 2


def test_revoke_api_key_sets_revoked_and_audits(acme, acme_owner, acme_admin, make_key):
    key, secret = make_key(acme_owner, acme, [Perm.ORG_VIEW])

    revoke_api_key(Actor(user=acme_admin), key=key)

    key.refresh_from_db()
    assert key.revoked_at is not None
    assert key.status == "revoked"
    assert not key.is_usable
    entry = AuditEntry.objects.get(action="api_key.revoked")
    assert entry.actor == acme_admin
    assert entry.before is not None
    assert entry.before["revoked_at"] is None
    assert secret not in str(entry.after)


def test_revoking_twice_is_refused(acme, acme_owner, make_key):
    key, _ = make_key(acme_owner, acme, [Perm.ORG_VIEW])
    revoke_api_key(Actor(user=acme_owner), key=key)

    with pytest.raises(ValidationError):
        revoke_api_key(Actor(user=acme_owner), key=key)
    assert AuditEntry.objects.filter(action="api_key.revoked").count() == 1


def test_member_cannot_revoke(acme, acme_owner, acme_member, make_key):
    key, _ = make_key(acme_owner, acme, [Perm.ORG_VIEW])
    with pytest.raises(PermissionDenied):
        revoke_api_key(Actor(user=acme_member), key=key)
    key.refresh_from_db()
    assert key.revoked_at is None
    assert not AuditEntry.objects.filter(action="api_key.revoked").exists()
