from datetime import timedelta

import pytest
import time_machine
from allauth.account.models import EmailAddress
from django.core import mail
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils import timezone

from conftest import add_member, make_user
from partnerhub.access.perms import Perm, Role
from partnerhub.access.policy import Actor
from partnerhub.accounts.models import User
from partnerhub.audit.models import AuditEntry
from partnerhub.core.errors import ServiceError
from partnerhub.orgs import services
from partnerhub.orgs.models import Invitation, Membership, Organisation
from partnerhub.orgs.tests.helpers import actor, snapshot, token_from_mail

# --- create / update / switch ----------------------------------------------------------------------


def test_create_organisation_makes_the_creator_owner_and_active(outsider):
    org = services.create_organisation(actor(outsider), name="Initech AG")

    assert org.slug == "initech-ag"
    membership = Membership.objects.get(org=org)
    assert (membership.user, membership.role) == (outsider, Role.OWNER)
    outsider.refresh_from_db()
    assert outsider.active_org == org
    entry = AuditEntry.objects.get(org=org)
    assert (entry.action, entry.actor) == ("org.created", outsider)


def test_create_organisation_derives_a_unique_slug(outsider, acme):
    first = services.create_organisation(actor(outsider), name="Acme")
    second = services.create_organisation(actor(outsider), name="ACME!")
    blank = services.create_organisation(actor(outsider), name="???")

    assert (first.slug, second.slug, blank.slug) == ("acme-2", "acme-3", "org")


def test_create_organisation_refuses_a_taken_slug(outsider, acme):
    before = snapshot()

    with pytest.raises(ServiceError, match="already taken"):
        services.create_organisation(actor(outsider), name="Another", slug="acme")

    assert snapshot() == before


def test_create_organisation_needs_a_login(db):
    from django.contrib.auth.models import AnonymousUser

    with pytest.raises(PermissionDenied):
        services.create_organisation(Actor(user=AnonymousUser()), name="Nope")  # type: ignore[arg-type]
    assert not Organisation.objects.exists()


def test_update_organisation_records_before_and_after(acme, acme_admin):
    services.update_organisation(
        actor(acme_admin), org=acme, name="Acme AG", country="ch", website="https://acme.test", billing_email=""
    )

    acme.refresh_from_db()
    assert (acme.name, acme.country, acme.website) == ("Acme AG", "CH", "https://acme.test")
    entry = AuditEntry.objects.get(action="org.updated")
    assert entry.before is not None
    assert entry.after is not None
    assert entry.before["name"] == "Acme GmbH"
    assert entry.after["name"] == "Acme AG"


def test_update_organisation_rejects_invalid_data(acme, acme_owner):
    before = snapshot()

    with pytest.raises(Exception, match="valid"):
        services.update_organisation(
            actor(acme_owner), org=acme, name="Acme", country="", website="not a url", billing_email=""
        )

    assert snapshot() == before


@pytest.mark.parametrize(("who", "error"), [("acme_member", PermissionDenied), ("globex_owner", Http404)])
def test_update_organisation_refused(request, acme, who, error):
    user = request.getfixturevalue(who)
    before = snapshot()

    with pytest.raises(error):
        services.update_organisation(actor(user), org=acme, name="Hacked", country="", website="", billing_email="")

    assert snapshot() == before


def test_switch_organisation(acme, globex, acme_owner):
    add_member(acme_owner, globex, Role.MEMBER)

    services.switch_organisation(actor(acme_owner), org=globex)

    acme_owner.refresh_from_db()
    assert acme_owner.active_org == globex


def test_switch_organisation_to_a_foreign_org_is_404(acme, globex_owner):
    with pytest.raises(Http404):
        services.switch_organisation(actor(globex_owner), org=acme)
    globex_owner.refresh_from_db()
    assert globex_owner.active_org is None


# --- invitations -----------------------------------------------------------------------------------


def invite(user, org, email="new@example.test", role=Role.MEMBER, extra=(), capture=None):
    return services.invite_member(actor(user), org=org, email=email, role=role, extra_perms=list(extra))


def test_invite_member_stores_a_hashed_token_and_sends_the_link(
    acme, acme_owner, django_capture_on_commit_callbacks, settings
):
    settings.SITE_URL = "https://partners.example.test"
    with django_capture_on_commit_callbacks(execute=True):
        invitation, token = invite(acme_owner, acme, email=" New@Example.test ", extra=[Perm.BILLING_VIEW])

    assert invitation.email == "new@example.test"
    assert invitation.token_hash == Invitation.hash_token(token)
    assert token not in invitation.token_hash
    assert invitation.extra_perms == ["billing.view"]
    assert invitation.invited_by == acme_owner
    assert invitation.expires_at - timezone.now() > timedelta(days=6, hours=23)
    [message] = mail.outbox
    assert message.to == ["new@example.test"]
    assert "Acme GmbH" in message.subject
    assert f"https://partners.example.test/invitations/{token}/" in message.body
    assert "Alice Owner" in message.body
    assert AuditEntry.objects.get(org=acme).action == "invitation.created"


def test_invite_member_drops_extras_the_role_already_gives(acme, acme_owner):
    invitation, _ = invite(acme_owner, acme, role=Role.ADMIN, extra=[Perm.BILLING_VIEW])

    assert invitation.extra_perms == []


def test_invitation_email_uses_the_recipients_language_if_known(
    acme, acme_owner, django_capture_on_commit_callbacks, monkeypatch
):
    outsider = make_user("someone@example.test")
    User.objects.filter(pk=outsider.pk).update(language="bg")
    seen = []
    from partnerhub.core import mail as core_mail

    original = core_mail.render_email

    def spy(template, context, *, language=None):
        seen.append(language)
        return original(template, context, language=language)

    monkeypatch.setattr(core_mail, "render_email", spy)
    User.objects.filter(pk=acme_owner.pk).update(language="de")
    acme_owner.refresh_from_db()

    invite(acme_owner, acme, email="someone@example.test")
    invite(acme_owner, acme, email="stranger@example.test")

    assert seen == ["bg", "de"]


@pytest.mark.parametrize(
    ("inviter", "role", "extra", "message"),
    [
        ("acme_admin", Role.OWNER, [], "above your own"),
        ("acme_admin", Role.MEMBER, [Perm.OPERATOR_PAYOUTS_MANAGE], "do not hold"),
        ("manager_member", Role.ADMIN, [], "above your own"),
        ("manager_member", Role.MEMBER, [Perm.BILLING_VIEW], "do not hold"),
    ],
)
def test_invite_member_refuses_escalation(
    request, acme, acme_owner, django_capture_on_commit_callbacks, inviter, role, extra, message
):
    if inviter == "manager_member":
        user = make_user("manager@acme.test")
        add_member(user, acme, Role.MEMBER, [Perm.MEMBERS_MANAGE])
    else:
        user = request.getfixturevalue(inviter)
    before = snapshot()

    with django_capture_on_commit_callbacks(execute=True), pytest.raises(ServiceError, match=message):
        invite(user, acme, role=role, extra=extra)

    assert snapshot() == before


def test_member_with_members_manage_may_invite_plain_members(acme, django_capture_on_commit_callbacks):
    user = make_user("manager@acme.test")
    add_member(user, acme, Role.MEMBER, [Perm.MEMBERS_MANAGE])

    with django_capture_on_commit_callbacks(execute=True):
        invitation, _ = invite(user, acme, extra=[Perm.MEMBERS_MANAGE])

    assert invitation.extra_perms == ["members.manage"]
    assert len(mail.outbox) == 1


def test_invite_member_refuses_existing_members(acme, acme_owner, acme_member, django_capture_on_commit_callbacks):
    EmailAddress.objects.create(user=acme_member, email="mia@private.test", verified=True)
    before = snapshot()

    for email in ("MEMBER@acme.test", "mia@private.test"):
        with django_capture_on_commit_callbacks(execute=True), pytest.raises(ServiceError, match="already a member"):
            invite(acme_owner, acme, email=email)

    assert snapshot() == before


@pytest.mark.parametrize(("email", "role", "extra"), [("not-an-email", Role.MEMBER, []), ("a@b.test", "boss", [])])
def test_invite_member_rejects_bad_input(acme, acme_owner, django_capture_on_commit_callbacks, email, role, extra):
    before = snapshot()
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(ServiceError):
        invite(acme_owner, acme, email=email, role=role, extra=extra)
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(ServiceError, match="Unknown permissions"):
        invite(acme_owner, acme, extra=["root.everything"])
    assert snapshot() == before


def test_invite_member_renews_an_open_invitation(acme, acme_owner, django_capture_on_commit_callbacks):
    with time_machine.travel(timezone.now() - timedelta(days=10)):
        first, old_token = invite(acme_owner, acme)

    with django_capture_on_commit_callbacks(execute=True):
        again, new_token = invite(acme_owner, acme, role=Role.ADMIN)

    assert again.pk == first.pk
    assert Invitation.objects.count() == 1
    again.refresh_from_db()
    assert again.status == "pending"
    assert again.role == Role.ADMIN
    assert again.token_hash == Invitation.hash_token(new_token) != Invitation.hash_token(old_token)
    assert token_from_mail(mail.outbox[0]) == new_token
    assert AuditEntry.objects.filter(action="invitation.renewed").count() == 1


def test_invite_member_needs_members_manage(acme, acme_member, globex_owner, django_capture_on_commit_callbacks):
    before = snapshot()
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(PermissionDenied):
        invite(acme_member, acme)
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(Http404):
        invite(globex_owner, acme)
    assert snapshot() == before


def test_resend_invitation_renews_token_and_expiry(acme, acme_owner, acme_admin, django_capture_on_commit_callbacks):
    invitation, old_token = invite(acme_owner, acme)

    with time_machine.travel(timezone.now() + timedelta(days=8)):
        assert Invitation.objects.get().status == "expired"
        with django_capture_on_commit_callbacks(execute=True):
            renewed, new_token = services.resend_invitation(actor(acme_admin), invitation=invitation)
        assert renewed.status == "pending"
        assert renewed.expires_at > timezone.now() + timedelta(days=6)

    assert new_token != old_token
    assert renewed.invited_by == acme_admin
    assert token_from_mail(mail.outbox[0]) == new_token
    with pytest.raises(Http404):
        services.accept_invitation(actor(make_user("new@example.test")), token=old_token)


def test_resend_applies_anti_escalation(acme, acme_owner, acme_admin, django_capture_on_commit_callbacks):
    invitation, _ = invite(acme_owner, acme, role=Role.OWNER)
    before = snapshot()

    with django_capture_on_commit_callbacks(execute=True), pytest.raises(ServiceError, match="above your own"):
        services.resend_invitation(actor(acme_admin), invitation=invitation)
    with pytest.raises(ServiceError, match="above yours"):
        services.cancel_invitation(actor(acme_admin), invitation=invitation)

    assert snapshot() == before


def test_cancel_invitation_kills_the_link(acme, acme_owner):
    invitation, token = invite(acme_owner, acme)
    newcomer = make_user("new@example.test")

    services.cancel_invitation(actor(acme_owner), invitation=invitation)

    invitation.refresh_from_db()
    assert invitation.status == "cancelled"
    assert AuditEntry.objects.filter(action="invitation.cancelled").count() == 1
    with pytest.raises(ServiceError, match="cancelled"):
        services.accept_invitation(actor(newcomer), token=token)
    with pytest.raises(ServiceError, match="cancelled"):
        services.resend_invitation(actor(acme_owner), invitation=invitation)
    assert not Membership.objects.filter(user=newcomer).exists()
    # A cancelled invitation no longer blocks a fresh one.
    fresh, _ = invite(acme_owner, acme)
    assert fresh.pk != invitation.pk


def test_accept_invitation_creates_the_membership(acme, acme_owner):
    invitation, token = invite(acme_owner, acme, extra=[Perm.BILLING_VIEW])
    newcomer = make_user("new@example.test")

    membership = services.accept_invitation(actor(newcomer), token=token)

    assert (membership.org, membership.role, membership.extra_perms) == (acme, Role.MEMBER, ["billing.view"])
    invitation.refresh_from_db()
    assert invitation.status == "accepted"
    assert invitation.accepted_by == newcomer
    newcomer.refresh_from_db()
    assert newcomer.active_org == acme
    entry = AuditEntry.objects.get(action="member.joined")
    assert (entry.org, entry.actor) == (acme, newcomer)


def test_accept_invitation_is_single_use(acme, acme_owner):
    _, token = invite(acme_owner, acme)
    newcomer = make_user("new@example.test")
    services.accept_invitation(actor(newcomer), token=token)
    before = snapshot()

    with pytest.raises(ServiceError, match="already been used"):
        services.accept_invitation(actor(newcomer), token=token)

    assert snapshot() == before


def test_accept_invitation_expires_after_seven_days(acme, acme_owner):
    _, token = invite(acme_owner, acme)
    newcomer = make_user("new@example.test")

    with time_machine.travel(timezone.now() + timedelta(days=6, hours=23)):
        # Still valid just before the deadline (checked without accepting).
        assert Invitation.objects.get().status == "pending"
    with time_machine.travel(timezone.now() + timedelta(days=7, minutes=1)):
        before = snapshot()
        with pytest.raises(ServiceError, match="expired"):
            services.accept_invitation(actor(newcomer), token=token)
        assert snapshot() == before


def test_accept_invitation_needs_the_invited_verified_address(acme, acme_owner, outsider):
    _, token = invite(acme_owner, acme)
    EmailAddress.objects.create(user=outsider, email="new@example.test", verified=False)
    before = snapshot()

    with pytest.raises(ServiceError, match=r"was sent to new@example\.test"):
        services.accept_invitation(actor(outsider), token=token)

    assert snapshot() == before
    EmailAddress.objects.filter(email="new@example.test").update(verified=True)
    assert services.accept_invitation(actor(outsider), token=token).user == outsider


def test_accept_invitation_when_already_a_member(acme, acme_owner):
    _, token = invite(acme_owner, acme)
    newcomer = make_user("new@example.test")
    add_member(newcomer, acme, Role.MEMBER)
    before = snapshot()

    with pytest.raises(ServiceError, match="already a member"):
        services.accept_invitation(actor(newcomer), token=token)

    assert snapshot() == before


def test_accept_invitation_unknown_token_is_404(outsider):
    with pytest.raises(Http404):
        services.accept_invitation(actor(outsider), token="nope")


# --- members ---------------------------------------------------------------------------------------


def membership(user, org):
    return Membership.objects.get(user=user, org=org)


def test_owner_changes_a_members_role_and_extras(acme, acme_owner, acme_member):
    changed = services.change_member(
        actor(acme_owner), membership=membership(acme_member, acme), role=Role.MEMBER, extra_perms=["billing.view"]
    )

    assert changed.extra_perms == ["billing.view"]
    entry = AuditEntry.objects.get(action="member.changed")
    assert entry.before is not None
    assert entry.after is not None
    assert entry.before["extra_perms"] == []
    assert entry.after["extra_perms"] == ["billing.view"]


def test_change_member_without_changes_records_nothing(acme, acme_owner, acme_member):
    services.change_member(
        actor(acme_owner), membership=membership(acme_member, acme), role=Role.MEMBER, extra_perms=[]
    )
    assert not AuditEntry.objects.exists()


def test_admin_may_promote_to_admin(acme, acme_admin, acme_member):
    services.change_member(actor(acme_admin), membership=membership(acme_member, acme), role=Role.ADMIN, extra_perms=[])
    assert membership(acme_member, acme).role == Role.ADMIN


@pytest.mark.parametrize(
    ("target", "role", "extra", "message"),
    [
        ("acme_member", Role.OWNER, [], "above your own"),
        ("acme_owner", Role.MEMBER, [], "above yours"),
        ("acme_member", Role.MEMBER, [Perm.OPERATOR_SUPPORT_ACCESS], "do not hold"),
    ],
)
def test_change_member_refuses_escalation(request, acme, acme_admin, target, role, extra, message):
    target_membership = membership(request.getfixturevalue(target), acme)
    before = snapshot()

    with pytest.raises(ServiceError, match=message):
        services.change_member(actor(acme_admin), membership=target_membership, role=role, extra_perms=extra)

    assert snapshot() == before


def test_last_owner_cannot_be_demoted(acme, acme_owner):
    before = snapshot()

    with pytest.raises(ServiceError, match="last owner"):
        services.change_member(
            actor(acme_owner), membership=membership(acme_owner, acme), role=Role.ADMIN, extra_perms=[]
        )

    assert snapshot() == before


def test_an_owner_may_step_down_when_another_owner_remains(acme, acme_owner, acme_admin):
    services.change_member(actor(acme_owner), membership=membership(acme_admin, acme), role=Role.OWNER, extra_perms=[])

    services.change_member(actor(acme_owner), membership=membership(acme_owner, acme), role=Role.ADMIN, extra_perms=[])

    assert membership(acme_owner, acme).role == Role.ADMIN


def test_change_member_needs_members_manage(acme, acme_member, acme_admin, globex_owner):
    target = membership(acme_admin, acme)
    before = snapshot()
    with pytest.raises(PermissionDenied):
        services.change_member(actor(acme_member), membership=target, role=Role.MEMBER, extra_perms=[])
    with pytest.raises(Http404):
        services.change_member(actor(globex_owner), membership=target, role=Role.MEMBER, extra_perms=[])
    assert snapshot() == before


def test_remove_member_clears_their_active_org(acme, acme_admin, acme_member):
    User.objects.filter(pk=acme_member.pk).update(active_org=acme)

    services.remove_member(actor(acme_admin), membership=membership(acme_member, acme))

    assert not Membership.objects.filter(user=acme_member).exists()
    acme_member.refresh_from_db()
    assert acme_member.active_org is None
    entry = AuditEntry.objects.get(action="member.removed")
    assert entry.before is not None
    assert entry.before["user"] == "member@acme.test"


def test_remove_member_refusals(acme, acme_owner, acme_admin, acme_member):
    before = snapshot()
    with pytest.raises(ServiceError, match="above yours"):
        services.remove_member(actor(acme_admin), membership=membership(acme_owner, acme))
    with pytest.raises(ServiceError, match="last owner"):
        services.remove_member(actor(acme_owner), membership=membership(acme_owner, acme))
    with pytest.raises(PermissionDenied):
        services.remove_member(actor(acme_member), membership=membership(acme_admin, acme))
    assert snapshot() == before


def test_leave_organisation(acme, acme_member):
    User.objects.filter(pk=acme_member.pk).update(active_org=acme)
    acme_member.refresh_from_db()

    services.leave_organisation(actor(acme_member), org=acme)

    assert not Membership.objects.filter(user=acme_member).exists()
    acme_member.refresh_from_db()
    assert acme_member.active_org is None
    assert AuditEntry.objects.get(org=acme).action == "member.left"


def test_last_owner_cannot_leave(acme, acme_owner):
    before = snapshot()
    with pytest.raises(ServiceError, match="last owner"):
        services.leave_organisation(actor(acme_owner), org=acme)
    assert snapshot() == before


def test_an_owner_may_leave_when_another_owner_remains(acme, acme_owner):
    add_member(make_user("second@acme.test"), acme, Role.OWNER)
    services.leave_organisation(actor(acme_owner), org=acme)
    assert not Membership.objects.filter(user=acme_owner).exists()


def test_leaving_a_foreign_org_is_404(acme, outsider):
    with pytest.raises(Http404):
        services.leave_organisation(actor(outsider), org=acme)


def test_partner_side_permissions_follow_anti_escalation(db, django_capture_on_commit_callbacks):
    partner = Organisation.objects.create(name="Reseller AG", slug="reseller", is_partner=True)
    owner = make_user("owner@reseller.test")
    admin = make_user("admin@reseller.test")
    add_member(owner, partner, Role.OWNER)
    add_member(admin, partner, Role.ADMIN)
    before = snapshot()

    # Admins of a partner do not create customers by default, so they cannot hand that out either.
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(ServiceError, match="do not hold"):
        invite(admin, partner, extra=[Perm.PARTNER_CUSTOMERS_CREATE])
    assert snapshot() == before

    invitation, _ = invite(owner, partner, extra=[Perm.PARTNER_CUSTOMERS_CREATE])
    assert invitation.extra_perms == ["partner.customers.create"]
    # An admin's partner permissions are the admin role's, so an admin may appoint admins.
    assert invite(admin, partner, email="second@example.test", role=Role.ADMIN)[0].role == Role.ADMIN


def test_api_keys_do_not_found_organisations(acme, acme_owner):
    from partnerhub.api.models import ApiKey

    key = ApiKey.objects.create(
        org=acme, name="ci", prefix="phk_x", key_hash="x" * 64, scopes=["org.view"], created_by=acme_owner
    )
    with pytest.raises(PermissionDenied):
        services.create_organisation(Actor(user=acme_owner, api_key=key), name="Shadow")
    assert Organisation.objects.count() == 1


def test_api_key_limits_what_can_be_granted(acme, acme_owner, django_capture_on_commit_callbacks):
    from partnerhub.api.models import ApiKey

    key = ApiKey.objects.create(
        org=acme,
        name="ci",
        prefix="phk_y",
        key_hash="y" * 64,
        scopes=["org.view", "members.manage", "tickets.use"],
        created_by=acme_owner,
    )
    keyed = Actor(user=acme_owner, api_key=key)
    before = snapshot()

    with django_capture_on_commit_callbacks(execute=True), pytest.raises(ServiceError, match="do not hold"):
        services.invite_member(keyed, org=acme, email="n@example.test", role=Role.ADMIN, extra_perms=[])
    assert snapshot() == before
    invitation, _ = services.invite_member(keyed, org=acme, email="n@example.test", role=Role.MEMBER, extra_perms=[])
    assert invitation.role == Role.MEMBER
