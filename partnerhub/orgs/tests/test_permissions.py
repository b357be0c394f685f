"""Permission matrix over the cast for every members/settings endpoint on acme.

Allowed: 200 (pages) or 302 (writes). Visible without the permission: 403. Foreign organisation or no
organisation: 404. Anonymous: redirect to login. Every refused write leaves everything unchanged.
"""

import pytest
from django.core import mail
from django.urls import reverse

from conftest import add_member, make_user
from partnerhub.access.perms import Role
from partnerhub.audit.models import AuditEntry
from partnerhub.orgs import services
from partnerhub.orgs.models import Invitation, Membership
from partnerhub.orgs.tests.helpers import actor, snapshot

CAST = ["acme_owner", "acme_admin", "acme_member", "globex_owner", "outsider", "anonymous"]

ALLOWED = "allowed"
FORBIDDEN = 403
NOT_FOUND = 404
LOGIN = "login"

# Who may do what on acme (acme_member lacks members.manage and org.settings.manage but sees acme).
EXPECTED: dict[str, dict[str, int | str]] = {
    "view_members": {"acme_owner": 200, "acme_admin": 200, "acme_member": 200},
    "invite": {"acme_owner": ALLOWED, "acme_admin": ALLOWED, "acme_member": FORBIDDEN},
    "change_member": {"acme_owner": ALLOWED, "acme_admin": ALLOWED, "acme_member": FORBIDDEN},
    "remove_member": {"acme_owner": ALLOWED, "acme_admin": ALLOWED, "acme_member": FORBIDDEN},
    "update_settings": {"acme_owner": ALLOWED, "acme_admin": ALLOWED, "acme_member": FORBIDDEN},
    "cancel_invitation": {"acme_owner": ALLOWED, "acme_admin": ALLOWED, "acme_member": FORBIDDEN},
}
WRITES = {"invite", "change_member", "remove_member", "update_settings", "cancel_invitation"}


@pytest.fixture
def scene(acme, acme_owner):
    """A plain member to change or remove, and an open member invitation to cancel."""
    target = make_user("target@acme.test", "Tina Target")
    membership = add_member(target, acme, Role.MEMBER)
    invitation, _ = services.invite_member(
        actor(acme_owner), org=acme, email="invited@example.test", role=Role.MEMBER, extra_perms=[]
    )
    return {"membership": membership, "invitation": invitation}


def perform(client, action, acme, scene):
    slug = acme.slug
    membership = scene["membership"]
    invitation = scene["invitation"]
    if action == "view_members":
        return client.get(reverse("member_list", args=[slug]))
    if action == "invite":
        return client.post(reverse("member_invite", args=[slug]), {"email": "new@example.test", "role": "member"})
    if action == "change_member":
        return client.post(
            reverse("member_change", args=[slug, membership.pk]), {"role": "member", "extra_perms": ["billing.view"]}
        )
    if action == "remove_member":
        return client.post(reverse("member_remove", args=[slug, membership.pk]))
    if action == "update_settings":
        return client.post(reverse("org_settings", args=[slug]), {"name": "Renamed AG", "country": "CH"})
    if action == "cancel_invitation":
        return client.post(reverse("invitation_cancel", args=[slug, invitation.pk]))
    raise AssertionError(action)


def expected_for(action, who):
    if who == "anonymous":
        return LOGIN
    return EXPECTED[action].get(who, NOT_FOUND)


def assert_effect(action, acme, scene, before):
    """The allowed write really happened, with its audit entry."""
    assert AuditEntry.objects.count() == before["audit"] + 1
    if action == "invite":
        assert Invitation.objects.filter(org=acme, email="new@example.test").exists()
        assert len(mail.outbox) == before["mails"] + 1
    elif action == "change_member":
        assert Membership.objects.get(pk=scene["membership"].pk).extra_perms == ["billing.view"]
    elif action == "remove_member":
        assert not Membership.objects.filter(pk=scene["membership"].pk).exists()
    elif action == "update_settings":
        acme.refresh_from_db()
        assert acme.name == "Renamed AG"
    elif action == "cancel_invitation":
        assert Invitation.objects.get(pk=scene["invitation"].pk).status == "cancelled"


@pytest.mark.parametrize("action", list(EXPECTED))
@pytest.mark.parametrize("who", CAST)
def test_permission_matrix(request, client_for, acme, globex, scene, django_capture_on_commit_callbacks, who, action):
    user = None if who == "anonymous" else request.getfixturevalue(who)
    client = client_for(user)
    expected = expected_for(action, who)
    before = snapshot()

    with django_capture_on_commit_callbacks(execute=True):
        response = perform(client, action, acme, scene)

    if expected == LOGIN:
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("account_login"))
    elif expected == ALLOWED:
        assert response.status_code == 302, response.content[:500]
        assert_effect(action, acme, scene, before)
    else:
        assert response.status_code == expected
    if action in WRITES and expected != ALLOWED:
        assert snapshot() == before
