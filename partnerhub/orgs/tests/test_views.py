from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from conftest import add_member, make_user
from partnerhub.access.perms import Perm, Role
from partnerhub.accounts.models import User
from partnerhub.orgs import services
from partnerhub.orgs.models import Invitation, Membership, Organisation
from partnerhub.orgs.tests.helpers import actor, snapshot, token_from_mail


def test_create_organisation_page(client_for, outsider):
    client = client_for(outsider)
    assert client.get(reverse("org_create")).status_code == 200

    response = client.post(reverse("org_create"), {"name": "Initech AG", "slug": ""})

    org = Organisation.objects.get(name="Initech AG")
    assert response["Location"] == reverse("org_overview", args=[org.slug])
    assert Membership.objects.get(org=org).user == outsider
    # The start page now leads straight into the new organisation.
    assert client.get(reverse("home"))["Location"] == reverse("org_overview", args=[org.slug])


def test_create_organisation_shows_a_taken_slug_as_form_error(client_for, outsider, acme):
    response = client_for(outsider).post(reverse("org_create"), {"name": "Other", "slug": "acme"})

    assert response.status_code == 200
    assert "already taken" in response.content.decode()
    assert Organisation.objects.count() == 1


def test_create_organisation_needs_login(client_for, db):
    response = client_for(None).get(reverse("org_create"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def test_home_without_organisation_offers_to_create_one(client_for, outsider):
    response = client_for(outsider).get(reverse("home"))
    assert response.status_code == 200
    assert reverse("org_create") in response.content.decode()


def test_overview_shows_role_members_and_permission_labels(client_for, acme, acme_member, acme_owner):
    response = client_for(acme_member).get(reverse("org_overview", args=["acme"]))

    body = response.content.decode()
    assert response.status_code == 200
    assert "Acme GmbH" in body
    assert "Member" in body
    assert "2 members" in body
    assert str(Perm.TICKETS_USE.label) in body
    assert str(Perm.BILLING_VIEW.label) not in body
    assert reverse("org_leave", args=["acme"]) in body


def test_overview_of_a_foreign_org_is_404(client_for, acme, globex_owner):
    assert client_for(globex_owner).get(reverse("org_overview", args=["acme"])).status_code == 404
    assert client_for(globex_owner).get(reverse("org_overview", args=["nope"])).status_code == 404


def test_settings_page_saves(client_for, acme, acme_owner):
    client = client_for(acme_owner)
    page = client.get(reverse("org_settings", args=["acme"]))
    assert 'value="Acme GmbH"' in page.content.decode()

    response = client.post(
        reverse("org_settings", args=["acme"]),
        {"name": "Acme AG", "country": "de", "website": "acme.test", "billing_email": "billing@acme.test"},
    )

    assert response.status_code == 302
    acme.refresh_from_db()
    assert (acme.name, acme.country, acme.website, acme.billing_email) == (
        "Acme AG",
        "DE",
        "https://acme.test",
        "billing@acme.test",
    )


def test_settings_page_rejects_a_bad_country(client_for, acme, acme_owner):
    response = client_for(acme_owner).post(reverse("org_settings", args=["acme"]), {"name": "Acme", "country": "D1"})
    assert response.status_code == 200
    assert "two-letter" in response.content.decode()


def test_leave_organisation(client_for, acme, acme_owner, acme_member):
    client = client_for(acme_member)
    response = client.post(reverse("org_leave", args=["acme"]))

    assert response["Location"] == reverse("home")
    assert not Membership.objects.filter(user=acme_member).exists()


def test_last_owner_leaving_gets_a_message(client_for, acme, acme_owner):
    client = client_for(acme_owner)
    response = client.post(reverse("org_leave", args=["acme"]), follow=True)

    assert "last owner" in response.content.decode()
    assert Membership.objects.filter(user=acme_owner).exists()


def test_member_list_for_a_plain_member_has_no_controls(client_for, acme, acme_owner, acme_member):
    services.invite_member(actor(acme_owner), org=acme, email="secret@example.test", role="member", extra_perms=[])

    body = client_for(acme_member).get(reverse("member_list", args=["acme"])).content.decode()

    assert "Alice Owner" in body
    assert "Mia Member" in body
    assert reverse("member_invite", args=["acme"]) not in body
    assert "/remove/" not in body
    assert "secret@example.test" not in body


def test_member_list_for_an_admin(client_for, acme, acme_owner, acme_admin, acme_member):
    invitation, _ = services.invite_member(
        actor(acme_owner), org=acme, email="pending@example.test", role="member", extra_perms=[]
    )
    add_member(make_user("extra@acme.test"), acme, Role.MEMBER, ["billing.view"])
    owner_membership = Membership.objects.get(user=acme_owner)
    member_membership = Membership.objects.get(user=acme_member)

    body = client_for(acme_admin).get(reverse("member_list", args=["acme"])).content.decode()

    assert reverse("member_invite", args=["acme"]) in body
    assert "pending@example.test" in body
    assert reverse("invitation_resend", args=["acme", invitation.pk]) in body
    assert reverse("invitation_cancel", args=["acme", invitation.pk]) in body
    assert str(Perm.BILLING_VIEW.label) in body
    # The admin cannot act on the owner, but on the member.
    assert reverse("member_change", args=["acme", owner_membership.pk]) not in body
    assert reverse("member_change", args=["acme", member_membership.pk]) in body


def test_member_list_empty_invitations_state(client_for, acme, acme_owner):
    body = client_for(acme_owner).get(reverse("member_list", args=["acme"])).content.decode()
    assert "No open invitations." in body


def test_member_list_paginates(client_for, acme, acme_owner):
    users = User.objects.bulk_create([User(email=f"m{i}@acme.test", support_code=f"CODE{i:04d}") for i in range(55)])
    Membership.objects.bulk_create([Membership(user=u, org=acme, role=Role.MEMBER) for u in users])
    client = client_for(acme_owner)

    first = client.get(reverse("member_list", args=["acme"])).content.decode()
    second = client.get(reverse("member_list", args=["acme"]) + "?page=2").content.decode()

    assert "56 members" in first
    assert "Page 1 of 2" in first
    assert "m48@acme.test" in first
    assert "m49@acme.test" not in first
    assert "m54@acme.test" in second


def test_invite_form_offers_only_grantable_roles_and_perms(client_for, acme, acme_admin):
    body = client_for(acme_admin).get(reverse("member_invite", args=["acme"])).content.decode()

    assert 'value="admin"' in body
    assert 'value="member"' in body
    assert 'value="owner"' not in body
    assert 'value="billing.view"' in body
    assert 'value="org.view"' not in body  # every member has it already
    assert "operator." not in body


def test_invite_post_with_an_escalating_role_is_rejected(
    client_for, acme, acme_admin, django_capture_on_commit_callbacks
):
    before = snapshot()
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(acme_admin).post(
            reverse("member_invite", args=["acme"]), {"email": "x@example.test", "role": "owner"}
        )
    assert response.status_code == 200
    assert snapshot() == before


def test_invite_existing_member_shows_error(client_for, acme, acme_owner, acme_member):
    response = client_for(acme_owner).post(
        reverse("member_invite", args=["acme"]), {"email": "member@acme.test", "role": "member"}
    )
    assert response.status_code == 200
    assert "already a member" in response.content.decode()
    assert not Invitation.objects.exists()


def test_full_invitation_flow(client_for, acme, acme_owner, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(acme_owner).post(
            reverse("member_invite", args=["acme"]),
            {"email": "newcomer@example.test", "role": "member", "extra_perms": ["billing.view"]},
        )
    assert response["Location"] == reverse("member_list", args=["acme"])
    token = token_from_mail(mail.outbox[0])
    url = reverse("invitation_accept", args=[token])

    anonymous = client_for(None).get(url)
    body = anonymous.content.decode()
    assert anonymous.status_code == 200
    assert "Acme GmbH" in body
    assert "Alice Owner" in body
    assert f"{reverse('account_login')}?next=%2Finvitations%2F{token}%2F" in body
    assert f"{reverse('account_signup')}?next=" in body

    newcomer = make_user("newcomer@example.test")
    client = client_for(newcomer)
    page = client.get(url)
    assert "Accept invitation" in page.content.decode()
    accepted = client.post(url)

    assert accepted["Location"] == reverse("org_overview", args=["acme"])
    membership = Membership.objects.get(user=newcomer)
    assert membership.extra_perms == ["billing.view"]
    used = client.get(url)
    assert used.status_code == 410
    assert "already been used" in used.content.decode()


def test_anonymous_post_to_accept_goes_to_login(client_for, acme, acme_owner):
    _, token = services.invite_member(
        actor(acme_owner), org=acme, email="n@example.test", role="member", extra_perms=[]
    )
    response = client_for(None).post(reverse("invitation_accept", args=[token]))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))
    assert not Membership.objects.filter(user__email="n@example.test").exists()


def test_accept_with_the_wrong_account_explains(client_for, acme, acme_owner, outsider):
    _, token = services.invite_member(
        actor(acme_owner), org=acme, email="n@example.test", role="member", extra_perms=[]
    )
    client = client_for(outsider)
    url = reverse("invitation_accept", args=[token])
    assert "but this invitation was sent to n@example.test" in client.get(url).content.decode()
    before = snapshot()

    response = client.post(url)

    assert response.status_code == 200
    assert "This invitation was sent to n@example.test" in response.content.decode()
    assert snapshot() == before


@pytest.mark.parametrize("state", ["expired", "cancelled"])
def test_dead_invitation_links_explain_themselves(client_for, acme, acme_owner, state):
    invitation, token = services.invite_member(
        actor(acme_owner), org=acme, email="n@example.test", role="member", extra_perms=[]
    )
    if state == "cancelled":
        services.cancel_invitation(actor(acme_owner), invitation=invitation)
    newcomer = make_user("n@example.test")
    url = reverse("invitation_accept", args=[token])

    with time_machine.travel(timezone.now() + timedelta(days=8 if state == "expired" else 0)):
        page = client_for(None).get(url)
        posted = client_for(newcomer).post(url)

    assert page.status_code == 410
    assert state in page.content.decode()
    assert posted.status_code == 410
    assert not Membership.objects.filter(user=newcomer).exists()


def test_unknown_invitation_link_is_a_friendly_404(client_for, db):
    response = client_for(None).get(reverse("invitation_accept", args=["does-not-exist"]))
    assert response.status_code == 404
    assert "We do not know this invitation link" in response.content.decode()


def test_member_change_page(client_for, acme, acme_owner, acme_member):
    membership = Membership.objects.get(user=acme_member)
    url = reverse("member_change", args=["acme", membership.pk])
    client = client_for(acme_owner)
    assert 'value="owner"' in client.get(url).content.decode()

    response = client.post(url, {"role": "admin"})

    assert response.status_code == 302
    membership.refresh_from_db()
    assert membership.role == Role.ADMIN


def test_member_change_refusal_is_a_form_error(client_for, acme, acme_owner):
    membership = Membership.objects.get(user=acme_owner)
    response = client_for(acme_owner).post(reverse("member_change", args=["acme", membership.pk]), {"role": "admin"})
    assert response.status_code == 200
    assert "last owner" in response.content.decode()
    membership.refresh_from_db()
    assert membership.role == Role.OWNER


def test_admin_sees_an_owner_as_not_changeable(client_for, acme, acme_owner, acme_admin):
    membership = Membership.objects.get(user=acme_owner)
    body = client_for(acme_admin).get(reverse("member_change", args=["acme", membership.pk])).content.decode()
    assert "above yours" in body
    assert reverse("member_remove", args=["acme", membership.pk]) not in body


def test_remove_last_owner_shows_error(client_for, acme, acme_owner):
    membership = Membership.objects.get(user=acme_owner)
    response = client_for(acme_owner).post(reverse("member_remove", args=["acme", membership.pk]), follow=True)
    assert "last owner" in response.content.decode()
    assert Membership.objects.filter(pk=membership.pk).exists()


def test_foreign_ids_are_404(client_for, acme, acme_owner, globex, globex_owner, django_capture_on_commit_callbacks):
    foreign_membership = Membership.objects.get(user=globex_owner)
    foreign_invitation, _ = services.invite_member(
        actor(globex_owner), org=globex, email="g@example.test", role="member", extra_perms=[]
    )
    client = client_for(acme_owner)
    before = snapshot()

    assert client.get(reverse("member_change", args=["acme", foreign_membership.pk])).status_code == 404
    assert client.post(reverse("member_remove", args=["acme", foreign_membership.pk])).status_code == 404
    assert client.post(reverse("invitation_cancel", args=["acme", foreign_invitation.pk])).status_code == 404
    with django_capture_on_commit_callbacks(execute=True):
        resent = client.post(reverse("invitation_resend", args=["acme", foreign_invitation.pk]))
    assert resent.status_code == 404
    assert client.get(reverse("member_change", args=["acme", 999999])).status_code == 404
    assert snapshot() == before


def test_resend_from_the_list(client_for, acme, acme_owner, django_capture_on_commit_callbacks):
    invitation, old_token = services.invite_member(
        actor(acme_owner), org=acme, email="n@example.test", role="member", extra_perms=[]
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(acme_owner).post(reverse("invitation_resend", args=["acme", invitation.pk]))

    assert response.status_code == 302
    assert token_from_mail(mail.outbox[0]) != old_token


def test_writes_need_post(client_for, acme, acme_owner):
    membership = Membership.objects.get(user=acme_owner)
    client = client_for(acme_owner)
    assert client.get(reverse("member_remove", args=["acme", membership.pk])).status_code == 405
    assert client.get(reverse("org_leave", args=["acme"])).status_code == 405
    assert client.get(reverse("org_switch")).status_code == 405


def test_switch_organisation(client_for, acme, acme_owner, globex):
    add_member(acme_owner, globex, Role.MEMBER)
    client = client_for(acme_owner)

    response = client.post(reverse("org_switch"), {"org": "globex"})

    assert response["Location"] == reverse("org_overview", args=["globex"])
    acme_owner.refresh_from_db()
    assert acme_owner.active_org == globex
    assert client.get(reverse("home"))["Location"] == reverse("org_overview", args=["globex"])


def test_switch_to_a_foreign_organisation_is_404(client_for, acme, globex_owner):
    client = client_for(globex_owner)
    assert client.post(reverse("org_switch"), {"org": "acme"}).status_code == 404
    assert client.post(reverse("org_switch"), {}).status_code == 404
    globex_owner.refresh_from_db()
    assert globex_owner.active_org is None


def test_topbar_switcher_lists_own_organisations(client_for, acme, acme_owner, globex):
    add_member(acme_owner, globex, Role.MEMBER)
    body = client_for(acme_owner).get(reverse("org_overview", args=["acme"])).content.decode()
    assert reverse("org_switch") in body
    assert 'value="globex"' in body


def test_home_lists_several_organisations(client_for, acme, acme_owner, globex):
    add_member(acme_owner, globex, Role.MEMBER)

    response = client_for(acme_owner).get(reverse("home"))

    body = response.content.decode()
    assert response.status_code == 200
    assert reverse("org_overview", args=["acme"]) in body
    assert reverse("org_overview", args=["globex"]) in body
    assert reverse("org_create") in body


@pytest.mark.parametrize("slug", ["\x00", "ac\x00me"])
def test_switch_to_a_slug_with_a_nul_character_is_refused(client_for, acme, acme_owner, slug):
    # Regression: PostgreSQL refused to compare the slug and the switch answered 500.
    acme_owner.active_org = None
    acme_owner.save(update_fields=["active_org"])

    assert client_for(acme_owner).post(reverse("org_switch"), {"org": slug}).status_code == 400
    acme_owner.refresh_from_db()
    assert acme_owner.active_org is None
