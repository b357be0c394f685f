"""The delegated-access part of the demo: support access, a VIP code and a finished session with its trail."""

from __future__ import annotations

from partnerhub.access.perms import Perm
from partnerhub.audit.models import AuditEntry
from partnerhub.delegation.demo import seed_delegation
from partnerhub.delegation.models import ManagementSession, SupportAccess
from partnerhub.delegation.tests.conftest import link


def test_seed_delegation_is_complete_and_idempotent(operator_org, support_staff, partner, staff, acme, acme_admin):
    link(partner, acme, scopes=[Perm.ORG_SETTINGS_MANAGE, Perm.BILLING_VIEW])
    kwargs = {
        "support_staff": support_staff,
        "partner": partner,
        "partner_staff": staff,
        "customer": acme,
        "customer_admin": acme_admin,
    }
    seed_delegation(**kwargs)
    acme.refresh_from_db()
    seed_delegation(**kwargs)
    support = SupportAccess.objects.get()
    assert support.is_in_force and support.customer == acme
    acme.refresh_from_db()
    assert acme.vip_code and acme.website == "https://acme.example"
    session = ManagementSession.objects.get()
    assert session.ended_at is not None and session.end_cause == "ended"
    trail = AuditEntry.objects.filter(org=acme, management_session_id=session.pk).order_by("id")
    assert [e.action for e in trail] == [
        "management_session.started",
        "org.updated",
        "management_session.ended",
    ]
    assert all(e.on_behalf_of_partner == partner and e.actor == staff for e in trail)


def test_seed_delegation_without_a_grant_leaves_the_session_out(
    operator_org, support_staff, partner, staff, acme, acme_admin
):
    seed_delegation(
        support_staff=support_staff,
        partner=partner,
        partner_staff=staff,
        customer=acme,
        customer_admin=acme_admin,
    )
    assert SupportAccess.objects.count() == 1
    assert not ManagementSession.objects.exists()
