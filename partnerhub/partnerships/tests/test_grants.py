"""Changing, extending and revoking grants; the daily run (auto-extend, warnings at 14 and 3 days)."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils import timezone

from partnerhub.access.perms import Perm
from partnerhub.access.policy import may
from partnerhub.audit.models import AuditEntry
from partnerhub.core.errors import ServiceError
from partnerhub.partnerships import services
from partnerhub.partnerships.models import Grant, GrantCoverage, GrantProduct, Partnership
from partnerhub.partnerships.services import GrantInput
from partnerhub.partnerships.tests.helpers import actor, snapshot

FULL = GrantInput()


@pytest.fixture
def active(partner, partner_owner, partner_admin, acme, acme_owner, acme_admin):
    return services.choose_partner(actor(acme_owner), customer=acme, partner=partner, grant=FULL)


def test_change_grant_is_a_new_version_in_the_audit_log(active, acme, acme_owner, partner_admin):
    start = timezone.now() + timedelta(days=10)
    narrower = GrantInput(scopes=frozenset({Perm.TICKETS_USE}), validity_days=30)
    with time_machine.travel(start, tick=False):
        grant = services.change_grant(actor(acme_owner), active, narrower)
    assert grant.version == 2 and grant.scope_set == {Perm.TICKETS_USE}
    assert (grant.valid_from, grant.valid_until) == (start, start + timedelta(days=30))
    entries = list(AuditEntry.objects.filter(action="grant.changed", object_id=str(active.pk)).order_by("id"))
    states = [(e.before or {}, e.after or {}) for e in entries]
    assert [after["version"] for _before, after in states] == [1, 2]
    assert states[1][0]["scopes"] == states[0][1]["scopes"]
    assert states[1][1]["scopes"] == ["tickets.use"]
    assert not may(partner_admin, Perm.PRODUCTS_MANAGE, acme)
    assert may(partner_admin, Perm.TICKETS_USE, acme)


def test_changing_the_payment_means_emails_the_partner(active, acme_owner, django_capture_on_commit_callbacks):
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.change_grant(actor(acme_owner), active, GrantInput(scopes=frozenset({Perm.BILLING_VIEW})))
    assert mail.outbox == []
    with django_capture_on_commit_callbacks(execute=True):
        services.change_grant(actor(acme_owner), active, GrantInput(payment_means="partner"))
    assert sorted(m.to[0] for m in mail.outbox) == ["admin@bergwerk.test", "owner@bergwerk.test"]
    assert "payment means" in mail.outbox[0].subject
    assert "partner price" in mail.outbox[0].body


@pytest.mark.parametrize("who", ["acme_member", "partner_owner", "outsider"])
def test_only_provider_managers_change_grants(request, active, who):
    user = request.getfixturevalue(who)
    before = snapshot()
    with pytest.raises((PermissionDenied, Http404)):
        services.change_grant(actor(user), active, GrantInput(scopes=frozenset()))
    with pytest.raises((PermissionDenied, Http404)):
        services.revoke_grant(actor(user), active)
    with pytest.raises((PermissionDenied, Http404)):
        services.extend_grant(actor(user), active, days=10)
    assert snapshot() == before


@pytest.mark.parametrize(("days", "message"), [(0, "at least 1 day"), (731, "at most 730 days")])
def test_change_grant_validity_boundaries(active, acme_owner, days, message):
    before = snapshot()
    with pytest.raises(ServiceError, match=message):
        services.change_grant(actor(acme_owner), active, GrantInput(validity_days=days))
    assert snapshot() == before


def test_extend_grant_from_its_end_at_most_730_days_ahead(active, acme_owner):
    until = active.grant.valid_until
    grant = services.extend_grant(actor(acme_owner), active, days=100)
    assert grant.valid_until == until + timedelta(days=100) and grant.version == 2
    with pytest.raises(ServiceError, match="at most 730 days ahead"):
        services.extend_grant(actor(acme_owner), active, days=300)
    with pytest.raises(ServiceError, match="at least 1 day"):
        services.extend_grant(actor(acme_owner), active, days=0)


def test_revoke_takes_effect_on_the_next_check(active, acme, acme_owner, partner_admin):
    assert may(partner_admin, Perm.ORG_VIEW, acme)
    grant = services.revoke_grant(actor(acme_owner), active)
    assert grant.revoked_at is not None and grant.revoked_by == acme_owner
    assert not may(partner_admin, Perm.ORG_VIEW, acme)
    active.refresh_from_db()
    assert active.status == "active"
    with pytest.raises(ServiceError, match="already been revoked"):
        services.revoke_grant(actor(acme_owner), active)
    with pytest.raises(ServiceError, match="grant it again"):
        services.extend_grant(actor(acme_owner), active, days=10)
    regranted = services.change_grant(actor(acme_owner), active, FULL)
    assert regranted.revoked_at is None
    assert may(partner_admin, Perm.ORG_VIEW, acme)


def test_changing_a_grant_to_full_respects_the_one_full_partnership(rival, acme, acme_owner, acme_products, active):
    restricted = GrantInput(mode="restricted", product_ids=frozenset({acme_products[0].pk}))
    other = services.choose_partner(actor(acme_owner), customer=acme, partner=rival, grant=restricted)
    with pytest.raises(ServiceError, match="already has full access"):
        services.change_grant(actor(acme_owner), other, FULL)


def test_expired_grants_grant_nothing(active, acme, partner_admin):
    with time_machine.travel(active.grant.valid_until, tick=False):
        assert not may(partner_admin, Perm.ORG_VIEW, acme)
    with time_machine.travel(active.grant.valid_until - timedelta(seconds=1), tick=False):
        assert may(partner_admin, Perm.ORG_VIEW, acme)


# --- the daily run -------------------------------------------------------------------------------------------


def test_warnings_at_14_and_3_days_once_each(active, django_capture_on_commit_callbacks):
    until = active.grant.valid_until
    mail.outbox.clear()
    with time_machine.travel(until - timedelta(days=14, seconds=1), tick=False):
        assert services.grant_maintenance() == {"extended": 0, "warned": 0}
    with time_machine.travel(until - timedelta(days=14), tick=False), django_capture_on_commit_callbacks(execute=True):
        assert services.grant_maintenance() == {"extended": 0, "warned": 1}
        assert services.grant_maintenance() == {"extended": 0, "warned": 0}
    recipients = sorted(m.to[0] for m in mail.outbox)
    assert recipients == ["admin@acme.test", "admin@bergwerk.test", "owner@acme.test", "owner@bergwerk.test"]
    assert any("Your access to Acme GmbH ends soon" in m.subject for m in mail.outbox)
    with time_machine.travel(until - timedelta(days=3), tick=False), django_capture_on_commit_callbacks(execute=True):
        assert services.grant_maintenance()["warned"] == 1
        assert services.grant_maintenance()["warned"] == 0
    assert len(mail.outbox) == 8
    assert Grant.objects.get(pk=active.grant.pk).warned_days == [3, 14]


def test_a_short_grant_gets_one_warning(
    partner, acme, acme_owner, acme_admin, partner_owner, django_capture_on_commit_callbacks
):
    services.choose_partner(actor(acme_owner), customer=acme, partner=partner, grant=GrantInput(validity_days=2))
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert services.grant_maintenance()["warned"] == 1
        assert services.grant_maintenance()["warned"] == 0
    assert len(mail.outbox) == 3  # partner owner, customer owner and admin


def test_extending_clears_the_warnings(active, acme_owner):
    until = active.grant.valid_until
    with time_machine.travel(until - timedelta(days=3), tick=False):
        services.grant_maintenance()
        grant = services.extend_grant(actor(acme_owner), active, days=30)
    assert grant.warned_days == []


def test_auto_extend_within_a_day_of_the_end(partner, acme, acme_owner):
    partnership = services.choose_partner(
        actor(acme_owner), customer=acme, partner=partner, grant=GrantInput(validity_days=90, auto_extend=True)
    )
    until = partnership.grant.valid_until
    assert until is not None
    with time_machine.travel(until - timedelta(days=14), tick=False):
        assert services.grant_maintenance() == {"extended": 0, "warned": 0}
    with time_machine.travel(until - timedelta(days=1, seconds=1), tick=False):
        assert services.grant_maintenance() == {"extended": 0, "warned": 0}
    with time_machine.travel(until - timedelta(hours=12), tick=False):
        assert services.grant_maintenance() == {"extended": 1, "warned": 0}
        assert services.grant_maintenance() == {"extended": 0, "warned": 0}
    grant = Grant.objects.get(pk=partnership.grant.pk)
    assert grant.valid_until == until + timedelta(days=90) and grant.version == 2
    assert AuditEntry.objects.filter(action="grant.auto_extended", actor=None).count() == 1


def test_revoked_and_ended_grants_are_neither_warned_nor_extended(partner, rival, acme, acme_owner, acme_products):
    first = services.choose_partner(
        actor(acme_owner), customer=acme, partner=partner, grant=GrantInput(validity_days=2, auto_extend=True)
    )
    second = services.choose_partner(
        actor(acme_owner),
        customer=acme,
        partner=rival,
        grant=GrantInput(mode="restricted", product_ids=frozenset({acme_products[0].pk}), validity_days=2),
    )
    services.revoke_grant(actor(acme_owner), first)
    services.end_partnership(actor(acme_owner), second)
    assert services.grant_maintenance() == {"extended": 0, "warned": 0}


def test_the_daily_command_runs_expiry_and_maintenance(active, partner, partner_owner, acme_owner, globex_owner):
    from io import StringIO

    from django.core.management import call_command

    services.request_management(actor(partner_owner), partner=partner, email="owner@globex.test", grant=FULL)
    out = StringIO()
    with time_machine.travel(active.grant.valid_until - timedelta(days=14), tick=False):
        call_command("partnerships_daily", stdout=out)
    assert "1 expired" in out.getvalue() and "1 warned" in out.getvalue() and "0 extended" in out.getvalue()


def test_coverage_keeps_what_the_partnership_managed_when(active, acme, acme_owner, acme_products):
    """Accrual reads GrantCoverage: a row from activation and one per change of mode or products, kept
    after the end (for events that arrive late)."""
    hosting, domain = acme_products

    def coverage() -> list[tuple[str, list[int]]]:
        return [(c.mode, c.product_ids) for c in GrantCoverage.objects.filter(partnership=active).order_by("id")]

    assert coverage() == [("full", [])]
    services.change_grant(actor(acme_owner), active, GrantInput(scopes=frozenset({Perm.TICKETS_USE})))
    assert coverage() == [("full", [])]  # scopes alone do not change what it manages
    services.change_grant(actor(acme_owner), active, GrantInput(mode="restricted", product_ids=frozenset({hosting.pk})))
    services.change_grant(
        actor(acme_owner), active, GrantInput(mode="restricted", product_ids=frozenset({hosting.pk, domain.pk}))
    )
    ids = sorted([hosting.product_id, domain.product_id])
    assert coverage() == [("full", []), ("restricted", [hosting.product_id]), ("restricted", ids)]
    rows = list(GrantCoverage.objects.filter(partnership=active).order_by("id"))
    assert rows[0].effective_at == Partnership.objects.get(pk=active.pk).activated_at
    assert rows[0].effective_at <= rows[1].effective_at <= rows[2].effective_at
    services.end_partnership(actor(acme_owner), active, side="customer")
    assert not GrantProduct.objects.filter(grant__partnership=active).exists()
    assert coverage() == [("full", []), ("restricted", [hosting.product_id]), ("restricted", ids)]


def test_a_refused_grant_change_adds_no_coverage(rival, acme, acme_owner, acme_products, active):
    restricted = GrantInput(mode="restricted", product_ids=frozenset({acme_products[0].pk}))
    other = services.choose_partner(actor(acme_owner), customer=acme, partner=rival, grant=restricted)
    before = list(GrantCoverage.objects.order_by("id").values_list("id", "mode", "product_ids"))
    with pytest.raises(ServiceError, match="already has full access"):
        services.change_grant(actor(acme_owner), other, FULL)
    assert list(GrantCoverage.objects.order_by("id").values_list("id", "mode", "product_ids")) == before
