"""Management sessions in the browser: start page, banner, delegated-only pages, keep-alive, time-out, end."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from conftest import add_member, make_user
from partnerhub.access.decorators import SESSIONS_KEY
from partnerhub.access.perms import Perm, Role
from partnerhub.audit.models import AuditEntry
from partnerhub.delegation.models import ManagementSession
from partnerhub.delegation.tests.conftest import link, support_access
from partnerhub.orgs.models import Organisation
from partnerhub.partnerships.models import Grant, Partnership


def start_url(partner: Organisation, customer: Organisation) -> str:
    return f"/o/{partner.slug}/customers/{customer.pk}/session/"


def test_start_page_shows_the_grant_and_asks_for_a_reason(client_for, partner, staff, acme):
    link(partner, acme, scopes=[Perm.BILLING_VIEW])
    response = client_for(staff).get(start_url(partner, acme))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Act for Acme GmbH" in html and 'name="reason"' in html
    assert "billing.view" in html and "members.manage" not in html


def test_start_page_is_404_for_a_customer_the_partner_does_not_manage(client_for, partner, staff, acme, globex):
    link(partner, acme)
    client = client_for(staff)
    assert client.get(start_url(partner, globex)).status_code == 404
    assert client.post(start_url(partner, globex), {"reason": "x"}).status_code == 404
    assert client.get(f"/o/{partner.slug}/customers/999999/session/").status_code == 404
    assert not ManagementSession.objects.exists()


def test_start_page_needs_the_administer_permission(client_for, partner, acme):
    link(partner, acme)
    plain = make_user("plain@bergwerk.test")
    add_member(plain, partner, Role.MEMBER)
    response = client_for(plain).post(start_url(partner, acme), {"reason": "x"})
    assert response.status_code == 403
    assert not ManagementSession.objects.exists()
    assert not AuditEntry.objects.exists()


def test_a_missing_reason_is_shown_and_nothing_starts(client_for, partner, staff, acme):
    link(partner, acme)
    response = client_for(staff).post(start_url(partner, acme), {"reason": "   "})
    assert response.status_code == 200
    assert "errorlist" in response.content.decode()
    assert not ManagementSession.objects.exists()


def test_starting_opens_the_customer_with_the_banner_on_every_page(session_client, partner, staff, acme):
    link(partner, acme, scopes=[Perm.BILLING_VIEW])
    client = session_client(staff, partner, acme, reason="Ticket 4711")
    session = ManagementSession.objects.get()
    assert client.session[SESSIONS_KEY] == {str(acme.pk): session.pk}
    for url in (f"/o/{acme.slug}/", f"/o/{partner.slug}/", "/account/profile/"):
        html = client.get(url).content.decode()
        assert "Acting for Acme GmbH as partner Bergwerk Digital" in html, url
        assert "Ticket 4711" in html
        assert f"/sessions/{session.pk}/end/" in html


def test_a_session_without_scopes_shows_the_customer_read_only(session_client, partner, staff, acme, acme_owner):
    link(partner, acme, scopes=[])
    client = session_client(staff, partner, acme)
    overview = client.get(f"/o/{acme.slug}/").content.decode()
    assert f'href="/o/{acme.slug}/settings/"' not in overview
    assert f'href="/o/{acme.slug}/audit/"' not in overview
    members = client.get(f"/o/{acme.slug}/members/")
    assert members.status_code == 200
    assert "Invite a member" not in members.content.decode()
    products = client.get(f"/o/{acme.slug}/products/")
    assert products.status_code == 200
    assert "Order products" not in products.content.decode()
    assert client.get(f"/o/{acme.slug}/settings/").status_code == 403
    assert client.post(f"/o/{acme.slug}/members/invite/", {"email": "x@y.test", "role": "member"}).status_code == 403
    assert client.get(f"/o/{acme.slug}/orders/").status_code == 403
    # Support access is the customer's own business: neither in the menu nor reachable in a session.
    assert f'href="/o/{acme.slug}/support-access/"' not in overview
    assert client.get(f"/o/{acme.slug}/support-access/").status_code == 404


def test_a_member_in_a_session_has_only_the_delegated_permissions(session_client, partner, staff, acme):
    add_member(staff, acme, Role.OWNER)
    link(partner, acme, scopes=[Perm.BILLING_VIEW])
    client = session_client(staff, partner, acme)
    overview = client.get(f"/o/{acme.slug}/").content.decode()
    assert "Leave organisation" not in overview
    assert "Management session (delegated access)" in overview
    assert client.get(f"/o/{acme.slug}/settings/").status_code == 403
    assert client.get(f"/o/{acme.slug}/orders/").status_code == 200
    # Ending the session gives the membership back.
    session = ManagementSession.objects.get()
    client.post(f"/sessions/{session.pk}/end/")
    assert client.get(f"/o/{acme.slug}/settings/").status_code == 200


def test_a_write_in_the_session_records_user_partner_and_session(session_client, partner, staff, acme, acme_owner):
    link(partner, acme, scopes=[Perm.ORG_SETTINGS_MANAGE])
    client = session_client(staff, partner, acme)
    response = client.post(
        f"/o/{acme.slug}/settings/", {"name": "Acme AG", "country": "CH", "website": "", "billing_email": ""}
    )
    assert response.status_code == 302
    entry = AuditEntry.objects.get(action="org.updated")
    session = ManagementSession.objects.get()
    assert entry.actor == staff
    assert entry.on_behalf_of_partner == partner
    assert entry.management_session_id == session.pk
    # The customer sees it in its log, with the partner and the session.
    html = client_log(acme_owner, acme)
    assert "Bergwerk Digital" in html and f"#{session.pk}" in html


def client_log(user, org) -> str:
    from django.test import Client

    client = Client()
    client.force_login(user)
    return client.get(f"/o/{org.slug}/audit/").content.decode()


def test_revoking_the_grant_ends_the_session_on_the_next_request(session_client, partner, staff, acme):
    partnership = link(partner, acme, scopes=[Perm.BILLING_VIEW])
    client = session_client(staff, partner, acme)
    assert client.get(f"/o/{acme.slug}/orders/").status_code == 200
    Grant.objects.filter(partnership=partnership).update(revoked_at=timezone.now())
    response = client.get(f"/o/{acme.slug}/orders/")
    assert response.status_code == 302
    assert response["Location"] == f"/o/{partner.slug}/"
    session = ManagementSession.objects.get()
    assert session.end_cause == "revoked" and session.ended_at is not None
    assert str(acme.pk) not in client.session[SESSIONS_KEY]
    page = client.get(response["Location"]).content.decode()
    assert "ended: the access it relied on was withdrawn" in page
    assert "Acting for Acme GmbH" not in page
    # Afterwards the customer is simply not there for this user.
    assert client.get(f"/o/{acme.slug}/orders/").status_code == 404


def test_ending_the_partnership_ends_the_session_too(session_client, partner, staff, acme):
    partnership = link(partner, acme, scopes=[Perm.BILLING_VIEW])
    client = session_client(staff, partner, acme)
    Partnership.objects.filter(pk=partnership.pk).update(status="ended", ended_at=timezone.now())
    assert client.get(f"/o/{acme.slug}/").status_code == 302
    assert ManagementSession.objects.get().end_cause == "revoked"


@pytest.mark.parametrize(
    ("idle", "open_"), [(timedelta(minutes=29, seconds=59), True), (timedelta(minutes=30, seconds=1), False)]
)
def test_idle_time_out(session_client, partner, staff, acme, idle, open_):
    link(partner, acme, scopes=[Perm.BILLING_VIEW])
    client = session_client(staff, partner, acme)
    session = ManagementSession.objects.get()
    with time_machine.travel(session.last_seen_at + idle, tick=False):
        response = client.get(f"/o/{acme.slug}/orders/")
    session.refresh_from_db()
    if open_:
        assert response.status_code == 200
        assert session.ended_at is None
        assert session.last_seen_at > session.started_at  # kept alive
    else:
        assert response.status_code == 302
        assert session.end_cause == "timeout"
        assert session.ended_at == session.last_seen_at + timedelta(minutes=30)
        assert "30 minutes without activity" in client.get(response["Location"]).content.decode()


def test_activity_keeps_the_session_alive(session_client, partner, staff, acme):
    link(partner, acme, scopes=[Perm.BILLING_VIEW])
    client = session_client(staff, partner, acme)
    start = ManagementSession.objects.get().last_seen_at
    for minutes in (20, 40, 60):
        with time_machine.travel(start + timedelta(minutes=minutes), tick=False):
            assert client.get(f"/o/{acme.slug}/orders/").status_code == 200
    assert ManagementSession.objects.get().ended_at is None


def test_explicit_end_goes_back_and_records_it(session_client, client_for, partner, staff, acme, acme_owner):
    link(partner, acme)
    client = session_client(staff, partner, acme)
    session = ManagementSession.objects.get()
    # Someone else's session: 404, nothing changes.
    assert client_for(acme_owner).post(f"/sessions/{session.pk}/end/").status_code == 404
    assert client.get(f"/sessions/{session.pk}/end/").status_code == 405
    session.refresh_from_db()
    assert session.ended_at is None
    response = client.post(f"/sessions/{session.pk}/end/")
    assert response.status_code == 302
    assert response["Location"] == f"/o/{partner.slug}/customers/"
    session.refresh_from_db()
    assert session.end_cause == "ended"
    assert SESSIONS_KEY in client.session and not client.session[SESSIONS_KEY]
    assert AuditEntry.objects.filter(action="management_session.ended", org=acme).count() == 1
    page = client.get(response["Location"]).content.decode()
    assert "Acting for" not in page
    assert client.get(f"/o/{acme.slug}/").status_code == 404


def test_the_banner_lists_every_open_session(session_client, partner, staff, acme, globex):
    link(partner, acme)
    link(partner, globex)
    client = session_client(staff, partner, acme)
    client.post(start_url(partner, globex), {"reason": "Second"})
    html = client.get(f"/o/{partner.slug}/").content.decode()
    assert "Acting for Acme GmbH" in html and "Acting for Globex Ltd" in html


def test_support_session_from_the_desk(session_client, operator_org, support_staff, acme):
    support_access(acme, scopes=[Perm.MEMBERS_MANAGE])
    client = session_client(support_staff, operator_org, acme, reason="Caller 1234")
    html = client.get(f"/o/{acme.slug}/members/").content.decode()
    assert "Acting for Acme GmbH as operator support" in html
    assert "Invite a member" in html
    session = ManagementSession.objects.get()
    response = client.post(f"/sessions/{session.pk}/end/")
    assert response["Location"] == f"/o/{operator_org.slug}/support/"


def test_support_session_start_is_404_without_support_access(client_for, operator_org, support_staff, acme):
    url = f"/o/{operator_org.slug}/support/customers/{acme.pk}/session/"
    assert client_for(support_staff).post(url, {"reason": "x"}).status_code == 404
    assert not ManagementSession.objects.exists()


def test_the_sessions_page_lists_who_acted_and_why(
    session_client, client_for, partner, staff, acme, acme_owner, acme_member
):
    link(partner, acme)
    session_client(staff, partner, acme, reason="Ticket 4711")
    html = client_for(acme_owner).get(f"/o/{acme.slug}/sessions/").content.decode()
    assert "Stefan Staff" in html and "Bergwerk Digital" in html and "Ticket 4711" in html
    assert client_for(acme_member).get(f"/o/{acme.slug}/sessions/").status_code == 403
    # The partner sees where its staff acted.
    owner = make_user("owner@bergwerk.test")
    add_member(owner, partner, Role.OWNER)
    acting = client_for(owner).get(f"/o/{partner.slug}/sessions/?side=acting").content.decode()
    assert "Acme GmbH" in acting and "Ticket 4711" in acting


def test_the_sessions_page_has_an_empty_state(client_for, acme, acme_owner):
    html = client_for(acme_owner).get(f"/o/{acme.slug}/sessions/").content.decode()
    assert "Nobody has acted for your organisation" in html


@pytest.mark.parametrize(
    ("wanted", "landing"),
    [
        ("/o/acme/orders/new/", "/o/acme/orders/new/"),
        ("/o/globex/", "/o/acme/"),
        ("https://evil.example/o/acme/", "/o/acme/"),
        ("//evil.example/o/acme/", "/o/acme/"),
    ],
)
def test_a_session_may_begin_on_a_page_of_the_customer(client_for, partner, staff, acme, globex, wanted, landing):
    link(partner, acme, scopes=[Perm.BILLING_ORDER, Perm.BILLING_VIEW])
    client = client_for(staff)
    page = client.get(start_url(partner, acme), {"next": wanted}).content.decode()
    assert 'name="next"' in page
    response = client.post(start_url(partner, acme), {"reason": "Order", "next": wanted})
    assert response["Location"] == landing


def test_the_customer_ends_a_session_at_once(
    session_client, client_for, partner, staff, acme, acme_owner, acme_member, globex_owner
):
    link(partner, acme, scopes=[Perm.BILLING_VIEW])
    client = session_client(staff, partner, acme)
    session = ManagementSession.objects.get()
    url = f"/o/{acme.slug}/sessions/{session.pk}/end/"
    assert "End now" in client_for(acme_owner).get(f"/o/{acme.slug}/sessions/").content.decode()
    # Members without providers.manage, other organisations and the partner itself cannot.
    assert client_for(acme_member).post(url).status_code == 403
    assert client_for(globex_owner).post(f"/o/globex/sessions/{session.pk}/end/").status_code == 404
    assert client.post(url).status_code == 403
    session.refresh_from_db()
    assert session.ended_at is None
    assert client_for(acme_owner).post(url).status_code == 302
    session.refresh_from_db()
    assert session.end_cause == "revoked"
    assert AuditEntry.objects.filter(action="management_session.terminated").count() == 2
    # The partner's next request inside the session ends there.
    response = client.get(f"/o/{acme.slug}/orders/")
    assert response.status_code == 302 and response["Location"] == f"/o/{partner.slug}/"
