"""Management session services: start (partner and support), end, keep-alive, time-out, emails, audit."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils import timezone

from conftest import actor, add_member, make_user
from partnerhub.access.checks import require
from partnerhub.access.perms import Perm, Role
from partnerhub.access.policy import access_for
from partnerhub.audit.models import AuditEntry
from partnerhub.core.errors import ServiceError
from partnerhub.delegation.models import ManagementSession
from partnerhub.delegation.services import (
    close_idle_sessions,
    end_session,
    set_session_notifications,
    start_session,
    touch_session,
)
from partnerhub.delegation.tests.conftest import link, support_access
from partnerhub.partnerships.models import Grant


def nothing_happened() -> None:
    assert not ManagementSession.objects.exists()
    assert not AuditEntry.objects.filter(action__startswith="management_session.").exists()
    assert not mail.outbox


def test_partner_staff_start_a_session_recorded_on_both_logs(partner, staff, acme):
    partnership = link(partner, acme, scopes=[Perm.BILLING_VIEW])
    session = start_session(actor(staff), acting_org=partner, customer=acme, reason="  Ticket   4711 ")
    assert session.via == "partner" and session.partnership == partnership
    assert session.reason == "Ticket 4711"
    entries = AuditEntry.objects.filter(action="management_session.started")
    assert {e.org_id for e in entries} == {acme.pk, partner.pk}
    for entry in entries:
        assert entry.actor == staff and entry.management_session_id == session.pk
    customer_entry = entries.get(org=acme)
    assert customer_entry.on_behalf_of_partner == partner
    assert customer_entry.after is not None and customer_entry.after["reason"] == "Ticket 4711"
    assert access_for(staff, acme, session_id=session.pk).perms == {Perm.BILLING_VIEW, Perm.ORG_VIEW}


@pytest.mark.parametrize("case", ["no_partnership", "revoked", "expired", "ended", "no_perm", "other_partner"])
def test_refused_start_changes_nothing(partner, staff, acme, globex, case):
    if case != "no_partnership":
        partnership = link(partner, globex if case == "other_partner" else acme, scopes=[Perm.BILLING_VIEW])
        grant = Grant.objects.filter(partnership=partnership)
        if case == "revoked":
            grant.update(revoked_at=timezone.now())
        elif case == "expired":
            grant.update(valid_until=timezone.now() - timedelta(seconds=1))
        elif case == "ended":
            type(partnership).objects.filter(pk=partnership.pk).update(status="ended")
        elif case == "no_perm":
            staff.memberships.update(extra_perms=[])
    expected = PermissionDenied if case == "no_perm" else ServiceError
    with pytest.raises(expected):
        start_session(actor(staff), acting_org=partner, customer=acme, reason="help")
    nothing_happened()


def test_limited_staff_need_an_assignment(partner, staff, acme):
    from partnerhub.partnerships.models import StaffAssignment

    link(partner, acme, scopes=[Perm.BILLING_VIEW])
    staff.memberships.update(assigned_customers_only=True)
    with pytest.raises(ServiceError):
        start_session(actor(staff), acting_org=partner, customer=acme, reason="help")
    nothing_happened()
    StaffAssignment.objects.create(membership=staff.memberships.get(), customer=acme)
    assert start_session(actor(staff), acting_org=partner, customer=acme, reason="help")


@pytest.mark.parametrize("reason", ["", "   ", "x" * 501])
def test_a_reason_is_required(partner, staff, acme, reason):
    link(partner, acme)
    with pytest.raises(ServiceError):
        start_session(actor(staff), acting_org=partner, customer=acme, reason=reason)
    nothing_happened()


def test_an_api_key_starts_no_session(partner, staff, acme):
    from partnerhub.api.services import create_api_key

    owner = make_user("owner@bergwerk.test")
    add_member(owner, partner, Role.OWNER)
    link(partner, acme)
    key, _secret = create_api_key(actor(owner), org=partner, name="k", perms=[Perm.PARTNER_CUSTOMERS_ADMINISTER])
    with pytest.raises(PermissionDenied):
        start_session(replace(actor(owner), api_key=key), acting_org=partner, customer=acme, reason="help")
    nothing_happened()


def test_a_member_who_is_partner_staff_too_is_narrowed_to_the_grant(partner, staff, acme):
    add_member(staff, acme, Role.OWNER)
    link(partner, acme, scopes=[Perm.BILLING_VIEW])
    session = start_session(actor(staff), acting_org=partner, customer=acme, reason="help")
    inside = replace(actor(staff), session_id=session.pk, session_org_id=acme.pk, partner_id=partner.pk, web=True)
    assert require(inside, Perm.BILLING_VIEW, acme)
    with pytest.raises(PermissionDenied):
        require(inside, Perm.MEMBERS_MANAGE, acme)
    # Outside the session the membership counts again.
    assert require(replace(actor(staff), web=True), Perm.MEMBERS_MANAGE, acme)


def test_starting_again_ends_the_open_session(partner, staff, acme):
    link(partner, acme)
    first = start_session(actor(staff), acting_org=partner, customer=acme, reason="one")
    second = start_session(actor(staff), acting_org=partner, customer=acme, reason="two")
    first.refresh_from_db()
    assert first.ended_at is not None and first.end_cause == "ended"
    assert ManagementSession.objects.filter(ended_at=None).get() == second


def test_a_stale_session_is_ended_as_timed_out(partner, staff, acme):
    link(partner, acme)
    first = start_session(actor(staff), acting_org=partner, customer=acme, reason="one")
    with time_machine.travel(timezone.now() + timedelta(hours=2)):
        start_session(actor(staff), acting_org=partner, customer=acme, reason="two")
    first.refresh_from_db()
    assert first.end_cause == "timeout"
    assert first.ended_at == first.last_seen_at + timedelta(minutes=30)


def test_support_staff_start_a_session_with_access_in_force(operator_org, support_staff, acme):
    with pytest.raises(ServiceError):
        start_session(actor(support_staff), acting_org=operator_org, customer=acme, reason="call")
    nothing_happened()
    support = support_access(acme, scopes=[Perm.MEMBERS_MANAGE])
    session = start_session(actor(support_staff), acting_org=operator_org, customer=acme, reason="call")
    assert session.via == "support" and session.support_access == support
    assert access_for(support_staff, acme, session_id=session.pk).perms == {Perm.MEMBERS_MANAGE, Perm.ORG_VIEW}
    entry = AuditEntry.objects.get(action="management_session.started", org=acme)
    assert entry.on_behalf_of_partner == operator_org and entry.management_session_id == session.pk


def test_operator_member_without_support_permission_is_refused(operator_org, acme):
    plain = make_user("plain@operator.test")
    add_member(plain, operator_org, Role.MEMBER)
    support_access(acme)
    with pytest.raises(PermissionDenied):
        start_session(actor(plain), acting_org=operator_org, customer=acme, reason="call")
    nothing_happened()


def test_opt_in_emails_owners_and_admins_in_their_language(
    partner, staff, acme, acme_owner, acme_admin, acme_member, django_capture_on_commit_callbacks
):
    acme_admin.language = "de"
    acme_admin.save()
    link(partner, acme)
    with django_capture_on_commit_callbacks(execute=True):
        start_session(actor(staff), acting_org=partner, customer=acme, reason="no email")
    assert not mail.outbox
    set_session_notifications(actor(acme_owner), customer=acme, enabled=True)
    with django_capture_on_commit_callbacks(execute=True):
        start_session(actor(staff), acting_org=partner, customer=acme, reason="Ticket 4711")
    assert sorted(m.to[0] for m in mail.outbox) == [acme_admin.email, acme_owner.email]
    message = next(m for m in mail.outbox if m.to == [acme_owner.email])
    assert "Bergwerk Digital" in message.subject
    assert "Ticket 4711" in message.body and staff.email in message.body
    assert "/o/acme/sessions/" in message.body


def test_only_settings_managers_change_the_opt_in(acme, acme_member):
    with pytest.raises(PermissionDenied):
        set_session_notifications(actor(acme_member), customer=acme, enabled=True)
    acme.refresh_from_db()
    assert not acme.notify_management_sessions
    assert not AuditEntry.objects.exists()


def test_end_session_by_its_user_only(partner, staff, acme, acme_owner):
    link(partner, acme)
    session = start_session(actor(staff), acting_org=partner, customer=acme, reason="help")
    with pytest.raises(Http404):
        end_session(actor(acme_owner), session)
    session.refresh_from_db()
    assert session.ended_at is None
    ended = end_session(actor(staff), session)
    assert ended.end_cause == "ended" and ended.ended_at is not None
    entries = AuditEntry.objects.filter(action="management_session.ended")
    assert {e.org_id for e in entries} == {acme.pk, partner.pk}
    assert all(e.management_session_id == session.pk for e in entries)
    # Ending twice changes nothing.
    end_session(actor(staff), session)
    assert entries.count() == 2
    assert not access_for(staff, acme, session_id=session.pk)


def test_touch_writes_at_most_once_a_minute(partner, staff, acme):
    link(partner, acme)
    session = start_session(actor(staff), acting_org=partner, customer=acme, reason="help")
    now = timezone.now()
    assert not touch_session(session.pk, now=now + timedelta(seconds=30))
    assert touch_session(session.pk, now=now + timedelta(seconds=61))
    session.refresh_from_db()
    assert session.last_seen_at == now + timedelta(seconds=61)
    # Idle for 30 minutes: closed, nothing to keep alive.
    assert not touch_session(session.pk, now=now + timedelta(minutes=40))


def test_idle_sessions_are_closed_by_the_nightly_task(partner, staff, acme):
    link(partner, acme)
    session = start_session(actor(staff), acting_org=partner, customer=acme, reason="help")
    assert close_idle_sessions() == 0
    assert close_idle_sessions(now=timezone.now() + timedelta(minutes=31)) == 1
    session.refresh_from_db()
    assert session.end_cause == "timeout"


def test_the_cron_command_ends_idle_sessions(partner, staff, acme):
    from io import StringIO

    from django.core.management import call_command

    link(partner, acme)
    session = start_session(actor(staff), acting_org=partner, customer=acme, reason="help")
    out = StringIO()
    with time_machine.travel(timezone.now() + timedelta(hours=1)):
        call_command("close_idle_sessions", stdout=out)
    assert "Ended 1 idle management session(s)." in out.getvalue()
    session.refresh_from_db()
    assert session.end_cause == "timeout"
