"""Resending, withdrawing and ending partnerships."""

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
from partnerhub.partnerships import queries, services
from partnerhub.partnerships.models import GrantProduct, Partnership
from partnerhub.partnerships.services import GrantInput
from partnerhub.partnerships.tests.helpers import actor, snapshot, token_from

FULL = GrantInput()


def test_resend_renews_the_30_days_and_the_link(partner, partner_owner, acme_owner, django_capture_on_commit_callbacks):
    start = timezone.now()
    with time_machine.travel(start, tick=False), django_capture_on_commit_callbacks(execute=True):
        pending = services.request_management(
            actor(partner_owner), partner=partner, email="owner@acme.test", grant=FULL
        )
    old = token_from(mail.outbox[0])
    later = start + timedelta(days=20)
    with time_machine.travel(later, tick=False), django_capture_on_commit_callbacks(execute=True):
        resent = services.resend(actor(partner_owner), pending)
    assert resent.expires_at == later + timedelta(days=30)
    new = token_from(mail.outbox[-1])
    assert new != old
    assert queries.pending_by_token(old) is None
    assert queries.pending_by_token(new) == resent
    assert AuditEntry.objects.filter(action="partnership.resent", org=partner).count() == 1


def test_only_the_initiating_side_resends_or_cancels(partner, partner_owner, acme, acme_owner):
    request = services.request_management(actor(partner_owner), partner=partner, email="owner@acme.test", grant=FULL)
    before = snapshot()
    # The customer cannot see the partner organisation: the partner's request is not its to withdraw.
    with pytest.raises(Http404):
        services.cancel(actor(acme_owner), request)
    with pytest.raises(Http404):
        services.resend(actor(acme_owner), request)
    assert snapshot() == before


def test_the_customer_withdraws_its_invitation(partner, partner_owner, acme, acme_owner, acme_member):
    invitation = services.invite_partner(actor(acme_owner), customer=acme, partner=partner, grant=FULL)
    with pytest.raises(PermissionDenied):
        services.cancel(actor(acme_member), invitation)
    with pytest.raises(Http404):
        services.cancel(actor(partner_owner), invitation)
    cancelled = services.cancel(actor(acme_owner), invitation)
    assert (cancelled.status, cancelled.token_hash) == ("cancelled", None)
    with pytest.raises(ServiceError, match="Only a pending"):
        services.resend(actor(acme_owner), cancelled)
    with pytest.raises(ServiceError, match="already been answered or withdrawn"):
        services.answer_invitation(actor(partner_owner), cancelled, accept=True)


def test_the_customer_ends_and_the_partner_is_emailed(
    partner, partner_owner, partner_admin, acme, acme_owner, acme_products, django_capture_on_commit_callbacks
):
    grant = GrantInput(mode="restricted", product_ids=frozenset({acme_products[0].pk}))
    partnership = services.choose_partner(actor(acme_owner), customer=acme, partner=partner, grant=grant)
    assert may(partner_admin, Perm.PRODUCTS_MANAGE, acme, acme_products[0])
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        ended = services.end_partnership(actor(acme_owner), partnership, reason="We do it ourselves now.")
    assert (ended.status, ended.ended_by, ended.ended_by_side) == ("ended", acme_owner, "customer")
    assert ended.ended_at is not None and ended.end_reason == "We do it ourselves now."
    assert not GrantProduct.objects.exists()
    assert not may(partner_admin, Perm.PRODUCTS_MANAGE, acme, acme_products[0])
    assert sorted(m.to[0] for m in mail.outbox) == ["admin@bergwerk.test", "owner@bergwerk.test"]
    assert "ended" in mail.outbox[0].subject and "We do it ourselves now." in mail.outbox[0].body
    entry = AuditEntry.objects.get(action="partnership.ended")
    assert entry.org == acme and entry.after is not None and entry.after["ended_by_side"] == "customer"
    # The product is free for another partner now.
    services.choose_partner(actor(acme_owner), customer=acme, partner=partner, grant=grant)


def test_the_partner_ends_and_the_customer_is_emailed(
    partner, partner_admin, acme, acme_owner, acme_admin, django_capture_on_commit_callbacks
):
    partnership = services.choose_partner(actor(acme_owner), customer=acme, partner=partner, grant=FULL)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        ended = services.end_partnership(actor(partner_admin), partnership)
    assert ended.ended_by_side == "partner"
    assert sorted(m.to[0] for m in mail.outbox) == ["admin@acme.test", "owner@acme.test"]
    with pytest.raises(ServiceError, match="Only an active"):
        services.end_partnership(actor(acme_owner), ended)


def test_someone_on_both_sides_ends_for_the_side_they_acted_on(partner, partner_admin, acme, acme_owner):
    from conftest import add_member
    from partnerhub.access.perms import Role

    # Partner staff who are also members of the customer (seed 001: external users).
    add_member(partner_admin, acme, Role.ADMIN)
    partnership = services.choose_partner(actor(acme_owner), customer=acme, partner=partner, grant=FULL)
    ended = services.end_partnership(actor(partner_admin), partnership, side="partner")
    assert ended.ended_by_side == "partner"
    entry = AuditEntry.objects.filter(action="partnership.ended").get()
    assert entry.org_id == partner.pk


def test_ending_is_refused_to_others(partner, partner_member, acme, acme_owner, acme_member, outsider):
    partnership = services.choose_partner(actor(acme_owner), customer=acme, partner=partner, grant=FULL)
    before = snapshot()
    with pytest.raises(PermissionDenied):
        services.end_partnership(actor(acme_member), partnership)
    with pytest.raises(PermissionDenied):
        services.end_partnership(actor(partner_member), partnership)
    with pytest.raises(Http404):
        services.end_partnership(actor(outsider), partnership)
    assert snapshot() == before
    assert Partnership.objects.get(pk=partnership.pk).status == "active"


def test_a_pending_partnership_is_cancelled_not_ended(partner, partner_owner, acme_owner):
    pending = services.request_management(actor(partner_owner), partner=partner, email="owner@acme.test", grant=FULL)
    with pytest.raises(ServiceError, match="Only an active"):
        services.end_partnership(actor(partner_owner), pending)
