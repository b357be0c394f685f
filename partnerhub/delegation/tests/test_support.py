"""Operator support access (1–14 days, scopes, revoke), the support desk and VIP codes."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils import timezone

from conftest import actor, add_member, make_user
from partnerhub.access.perms import Perm, Role
from partnerhub.access.policy import DELEGABLE_PERMS, may
from partnerhub.accounts.models import SUPPORT_CODE_ALPHABET
from partnerhub.audit.models import AuditEntry
from partnerhub.core.errors import ServiceError
from partnerhub.delegation.models import ManagementSession, SupportAccess
from partnerhub.delegation.services import (
    assign_vip_code,
    grant_support_access,
    remove_vip_code,
    revoke_support_access,
    start_session,
)
from partnerhub.orgs.models import Organisation


def nothing_granted() -> None:
    assert not SupportAccess.objects.exists()
    assert not AuditEntry.objects.exists()


@pytest.mark.parametrize("days", [1, 14])
def test_support_access_lasts_one_to_fourteen_days(acme, acme_owner, operator_org, support_staff, days):
    before = timezone.now()
    support = grant_support_access(actor(acme_owner), customer=acme, days=days, note="Mail problem")
    assert before + timedelta(days=days) <= support.valid_until <= timezone.now() + timedelta(days=days)
    assert support.scope_set == DELEGABLE_PERMS
    assert may(support_staff, Perm.MEMBERS_MANAGE, acme)
    entry = AuditEntry.objects.get(action="support_access.granted")
    assert entry.org == acme and entry.actor == acme_owner
    assert entry.after is not None and entry.after["days"] == days


@pytest.mark.parametrize("days", [0, 15, -1])
def test_support_access_outside_the_range_is_refused(acme, acme_owner, days):
    with pytest.raises(ServiceError):
        grant_support_access(actor(acme_owner), customer=acme, days=days)
    nothing_granted()


def test_scopes_are_a_subset_of_the_delegable_permissions(acme, acme_owner, operator_org, support_staff):
    support = grant_support_access(actor(acme_owner), customer=acme, days=3, scopes=[Perm.BILLING_VIEW])
    assert support.scopes == ["billing.view"]
    assert may(support_staff, Perm.BILLING_VIEW, acme)
    assert not may(support_staff, Perm.MEMBERS_MANAGE, acme)
    with pytest.raises(ServiceError):
        grant_support_access(actor(acme_owner), customer=acme, days=3, scopes=[Perm.PROVIDERS_MANAGE])
    with pytest.raises(ServiceError):
        grant_support_access(actor(acme_owner), customer=acme, days=3, scopes=["no.such"])
    assert SupportAccess.objects.count() == 1


def test_nobody_grants_what_they_do_not_hold(acme):
    granter = make_user("granter@acme.test")
    add_member(granter, acme, Role.MEMBER, [Perm.PROVIDERS_MANAGE.value])
    with pytest.raises(ServiceError):
        grant_support_access(actor(granter), customer=acme, days=3, scopes=[Perm.BILLING_ORDER])
    nothing_granted()
    assert grant_support_access(actor(granter), customer=acme, days=3, scopes=[Perm.TICKETS_USE])


def test_only_providers_managers_grant(acme, acme_member, outsider):
    with pytest.raises(PermissionDenied):
        grant_support_access(actor(acme_member), customer=acme, days=3)
    with pytest.raises(Http404):
        grant_support_access(actor(outsider), customer=acme, days=3)
    nothing_granted()


def test_granting_again_replaces_the_access_in_force(acme, acme_owner):
    first = grant_support_access(actor(acme_owner), customer=acme, days=3)
    second = grant_support_access(actor(acme_owner), customer=acme, days=7)
    first.refresh_from_db()
    assert first.revoked_at is not None
    assert list(SupportAccess.objects.in_force()) == [second]


def test_revoke_ends_access_and_open_support_sessions_at_once(acme, acme_owner, operator_org, support_staff):
    support = grant_support_access(actor(acme_owner), customer=acme, days=7)
    session = start_session(actor(support_staff), acting_org=operator_org, customer=acme, reason="call")
    revoke_support_access(actor(acme_owner), support=support)
    assert not may(support_staff, Perm.ORG_VIEW, acme)
    session.refresh_from_db()
    assert session.end_cause == "revoked"
    assert AuditEntry.objects.filter(action="support_access.revoked", org=acme).count() == 1
    with pytest.raises(ServiceError):
        revoke_support_access(actor(acme_owner), support=support)


def test_a_member_cannot_revoke(acme, acme_owner, acme_member):
    support = grant_support_access(actor(acme_owner), customer=acme, days=7)
    with pytest.raises(PermissionDenied):
        revoke_support_access(actor(acme_member), support=support)
    support.refresh_from_db()
    assert support.is_in_force


# --- the customer's page ---------------------------------------------------------------------------------


def test_support_access_page_grants_and_revokes(client_for, acme, acme_owner):
    client = client_for(acme_owner)
    page = client.get(f"/o/{acme.slug}/support-access/").content.decode()
    assert "Support has no access" in page and 'name="days"' in page
    response = client.post(
        f"/o/{acme.slug}/support-access/grant/", {"days": "7", "note": "Mailbox", "scopes": ["billing.view"]}
    )
    assert response.status_code == 302
    support = SupportAccess.objects.get()
    assert support.scopes == ["billing.view"] and support.note == "Mailbox"
    page = client.get(f"/o/{acme.slug}/support-access/").content.decode()
    assert "Revoke now" in page and "Mailbox" in page
    assert client.post(f"/o/{acme.slug}/support-access/{support.pk}/revoke/").status_code == 302
    support.refresh_from_db()
    assert support.revoked_at is not None


@pytest.mark.parametrize("days", ["0", "15"])
def test_support_access_page_refuses_out_of_range_days(client_for, acme, acme_owner, days):
    response = client_for(acme_owner).post(f"/o/{acme.slug}/support-access/grant/", {"days": days})
    assert response.status_code == 400
    assert "errorlist" in response.content.decode()
    nothing_granted()


def test_members_see_support_access_but_cannot_grant(client_for, acme, acme_owner, acme_member):
    support = grant_support_access(actor(acme_owner), customer=acme, days=7)
    client = client_for(acme_member)
    page = client.get(f"/o/{acme.slug}/support-access/").content.decode()
    assert "In force" in page and "Revoke now" not in page and 'name="days"' not in page
    assert client.post(f"/o/{acme.slug}/support-access/grant/", {"days": "3"}).status_code == 403
    assert client.post(f"/o/{acme.slug}/support-access/{support.pk}/revoke/").status_code == 403
    assert SupportAccess.objects.count() == 1 and support.is_in_force


def test_a_foreign_support_access_is_404(client_for, acme, acme_owner, globex, globex_owner):
    foreign = grant_support_access(actor(globex_owner), customer=globex, days=7)
    response = client_for(acme_owner).post(f"/o/{acme.slug}/support-access/{foreign.pk}/revoke/")
    assert response.status_code == 404
    foreign.refresh_from_db()
    assert foreign.is_in_force


def test_the_session_email_opt_in_is_set_on_the_support_page(client_for, acme, acme_owner, acme_member):
    assert (
        client_for(acme_member).post(f"/o/{acme.slug}/support-access/notifications/", {"notify": "on"}).status_code
        == 403
    )
    client = client_for(acme_owner)
    assert client.post(f"/o/{acme.slug}/support-access/notifications/", {"notify": "on"}).status_code == 302
    acme.refresh_from_db()
    assert acme.notify_management_sessions
    assert AuditEntry.objects.filter(action="management_session.notifications_changed").count() == 1
    client.post(f"/o/{acme.slug}/support-access/notifications/", {})
    acme.refresh_from_db()
    assert not acme.notify_management_sessions


# --- VIP codes and the desk -------------------------------------------------------------------------------


def test_vip_codes_are_given_and_removed_by_support(acme, operator_org, support_staff, acme_owner):
    org = assign_vip_code(actor(support_staff), customer=acme)
    assert org.vip_code and len(org.vip_code) == 8 and set(org.vip_code) <= set(SUPPORT_CODE_ALPHABET)
    assert AuditEntry.objects.filter(action="vip_code.assigned", org=acme).exists()
    with pytest.raises(Http404):
        remove_vip_code(actor(acme_owner), customer=acme)
    remove_vip_code(actor(support_staff), customer=acme)
    acme.refresh_from_db()
    assert acme.vip_code is None
    with pytest.raises(ServiceError):
        remove_vip_code(actor(support_staff), customer=acme)


def test_the_customer_sees_its_vip_code(client_for, acme, acme_owner, operator_org, support_staff):
    assign_vip_code(actor(support_staff), customer=acme)
    acme.refresh_from_db()
    client = client_for(acme_owner)
    assert acme.vip_code in client.get(f"/o/{acme.slug}/support-access/").content.decode()
    assert acme.vip_code in client.get(f"/o/{acme.slug}/").content.decode()


def desk(client, operator_org, query):
    return client.get(f"/o/{operator_org.slug}/support/", {"q": query}).content.decode()


def test_desk_finds_by_support_code_vip_code_and_name(
    client_for, operator_org, support_staff, acme, acme_owner, globex
):
    Organisation.objects.filter(pk=globex.pk).update(vip_code="VPCQDE23")
    client = client_for(support_staff)
    by_code = desk(client, operator_org, acme_owner.support_code.lower())
    assert "Alice Owner" in by_code and f'data-org="{acme.pk}"' in by_code
    by_vip = desk(client, operator_org, "vpcq-de23")
    assert f'data-org="{globex.pk}"' in by_vip and f'data-org="{acme.pk}"' not in by_vip
    by_name = desk(client, operator_org, "acme")
    assert f'data-org="{acme.pk}"' in by_name
    assert "Nothing found" in desk(client, operator_org, "zzz-nothing")


def test_desk_offers_a_session_only_with_support_access(client_for, operator_org, support_staff, acme, acme_owner):
    client = client_for(support_staff)
    start = f"/o/{operator_org.slug}/support/customers/{acme.pk}/session/"
    assert start not in desk(client, operator_org, "acme")
    grant_support_access(actor(acme_owner), customer=acme, days=2)
    page = desk(client, operator_org, "acme")
    assert start in page and 'target="_blank"' in page


def test_the_desk_is_for_support_staff_only(client_for, operator_org, acme, acme_owner):
    plain = make_user("plain@operator.test")
    add_member(plain, operator_org, Role.MEMBER)
    assert client_for(plain).get(f"/o/{operator_org.slug}/support/").status_code == 403
    assert client_for(acme_owner).get(f"/o/{operator_org.slug}/support/").status_code == 404
    response = client_for(plain).post(f"/o/{operator_org.slug}/support/orgs/{acme.pk}/vip-code/")
    assert response.status_code == 403
    acme.refresh_from_db()
    assert acme.vip_code is None


def test_desk_gives_and_removes_vip_codes(client_for, operator_org, support_staff, acme):
    client = client_for(support_staff)
    response = client.post(f"/o/{operator_org.slug}/support/orgs/{acme.pk}/vip-code/", {"q": "acme"})
    assert response.status_code == 302 and response["Location"].endswith("?q=acme")
    acme.refresh_from_db()
    assert acme.vip_code
    client.post(f"/o/{operator_org.slug}/support/orgs/{acme.pk}/vip-code/remove/")
    acme.refresh_from_db()
    assert acme.vip_code is None
    assert client.post(f"/o/{operator_org.slug}/support/orgs/{operator_org.pk}/vip-code/").status_code == 404


def test_support_session_is_audited_for_the_customer(
    client_for, session_client, operator_org, support_staff, acme, acme_owner
):
    grant_support_access(actor(acme_owner), customer=acme, days=2, scopes=[Perm.ORG_SETTINGS_MANAGE])
    client = session_client(support_staff, operator_org, acme, reason="Caller asked")
    client.post(f"/o/{acme.slug}/settings/", {"name": "Acme AG", "country": "", "website": "", "billing_email": ""})
    entry = AuditEntry.objects.get(action="org.updated")
    session = ManagementSession.objects.get()
    assert entry.actor == support_staff and entry.on_behalf_of_partner == operator_org
    assert entry.management_session_id == session.pk


def test_the_operator_grants_itself_no_support_access(operator_org, operator_staff):
    with pytest.raises(ServiceError):
        grant_support_access(actor(operator_staff), customer=operator_org, days=3)
    nothing_granted()
