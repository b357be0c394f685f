"""Boundaries of the access rule, at the rule level (DESIGN §5): the exact moment a grant or support
access ends, restricted products, payment means, withdrawn partner status, assigned-only staff,
non-delegable names in stored scopes, the 30-minute idle time-out, the validity range of a grant."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import IntegrityError, transaction

from conftest import add_member, make_user
from partnerhub.access.perms import Perm, Role
from partnerhub.access.policy import access_for, customers_for, managed_partnerships, may, perms_for, products_for
from partnerhub.access.tests.delegation_factories import (
    add_staff,
    api_key,
    assign,
    customer_product,
    link,
    make_org,
    make_partner,
    management_session,
    support_access,
)
from partnerhub.delegation.models import ManagementSession
from partnerhub.orgs.models import Organisation
from partnerhub.partnerships.models import Grant, Partnership

NOW = datetime(2026, 6, 15, 10, 0, tzinfo=UTC)
SECOND = timedelta(seconds=1)


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def world(db, frozen):
    partner = make_partner("bergwerk")
    customer = make_org("kunde")
    staff = add_staff(partner, "member_admin")
    return partner, customer, staff


@pytest.mark.parametrize(("offset", "allowed"), [(-SECOND, False), (timedelta(0), False), (SECOND, True)])
def test_a_grant_ends_exactly_at_valid_until(world, offset, allowed):
    partner, customer, staff = world
    partnership = link(partner, customer, scopes=[Perm.BILLING_VIEW], now=NOW)
    Grant.objects.filter(partnership=partnership).update(valid_until=NOW + offset)
    assert may(staff, Perm.BILLING_VIEW, customer) is allowed
    assert may(staff, Perm.ORG_VIEW, customer) is allowed
    assert bool(access_for(staff, customer)) is allowed
    assert (customer in customers_for(staff, partner, Perm.BILLING_VIEW)) is allowed


def test_the_clock_moving_past_valid_until_ends_the_grant(world, frozen):
    partner, customer, staff = world
    partnership = link(partner, customer, scopes=[Perm.BILLING_VIEW], now=NOW)
    Grant.objects.filter(partnership=partnership).update(valid_until=NOW + SECOND)
    assert may(staff, Perm.BILLING_VIEW, customer)
    frozen.shift(SECOND)
    assert not may(staff, Perm.BILLING_VIEW, customer)
    assert not managed_partnerships(staff, partner).exists()


@pytest.mark.parametrize(
    ("offset", "revoked", "allowed"), [(timedelta(0), False, False), (SECOND, False, True), (SECOND, True, False)]
)
def test_support_access_ends_exactly_at_valid_until_or_when_revoked(
    db, frozen, operator_org, operator_staff, offset, revoked, allowed
):
    customer = make_org("kunde")
    support_access(customer, scopes=[Perm.BILLING_VIEW], until=NOW + offset, revoked=revoked)
    assert may(operator_staff, Perm.BILLING_VIEW, customer) is allowed
    assert may(operator_staff, Perm.ORG_VIEW, customer) is allowed
    assert not may(operator_staff, Perm.MEMBERS_MANAGE, customer)


def test_support_access_needs_the_operator_permission(db, frozen, operator_org):
    customer = make_org("kunde")
    support_access(customer, scopes=[Perm.BILLING_VIEW], until=NOW + timedelta(days=1))
    member = make_user("plain@operator.test")
    add_member(member, operator_org, Role.MEMBER)
    assert not may(member, Perm.BILLING_VIEW, customer)
    add_member(make_user("elsewhere@kunde.test"), customer, Role.MEMBER)
    # A partner organisation's owner is no operator: support access is not theirs.
    partner_owner = add_staff(make_partner("other"), "owner")
    assert not may(partner_owner, Perm.BILLING_VIEW, customer)


def test_restricted_grant_covers_exactly_its_products(world):
    partner, customer, staff = world
    named, other = customer_product(customer), customer_product(customer)
    foreign = customer_product(make_org("fremd"))
    link(partner, customer, scopes=[Perm.PRODUCTS_MANAGE], mode="restricted", products=[named], now=NOW)
    assert may(staff, Perm.PRODUCTS_MANAGE, customer, named)
    assert may(staff, Perm.PRODUCTS_MANAGE, customer, named.pk)
    assert not may(staff, Perm.PRODUCTS_MANAGE, customer, other)
    assert not may(staff, Perm.PRODUCTS_MANAGE, customer, foreign)
    # Without a product: "some of the customer's products"; the list narrows to the named ones.
    assert may(staff, Perm.PRODUCTS_MANAGE, customer)
    assert list(products_for(staff, customer, Perm.PRODUCTS_MANAGE)) == [named]
    assert not may(staff, Perm.ORG_VIEW, customer, other)


@pytest.mark.parametrize("product", [None, "named"])
def test_restricted_grants_never_delegate_payment(world, product):
    partner, customer, staff = world
    named = customer_product(customer)
    link(
        partner, customer, scopes=[Perm.BILLING_ORDER, Perm.BILLING_VIEW], mode="restricted", products=[named], now=NOW
    )
    assert not may(staff, Perm.BILLING_ORDER, customer, named if product else None)
    assert may(staff, Perm.BILLING_VIEW, customer, named if product else None)
    assert not customers_for(staff, partner, Perm.BILLING_ORDER).exists()
    assert Perm.BILLING_ORDER not in perms_for(staff, customer)


@pytest.mark.parametrize("means", ["customer", "partner"])
def test_full_grants_delegate_ordering_with_either_payment_means(world, means):
    partner, customer, staff = world
    link(partner, customer, scopes=[Perm.BILLING_ORDER], payment_means=means, now=NOW)
    assert may(staff, Perm.BILLING_ORDER, customer)
    assert list(customers_for(staff, partner, Perm.BILLING_ORDER)) == [customer]


def test_withdrawn_partner_status_ends_everything_at_once(world):
    partner, customer, staff = world
    owner = add_staff(partner, "owner")
    link(partner, customer, scopes=[Perm.BILLING_VIEW], now=NOW)
    key, _secret = api_key(partner, owner)
    assert may(owner, Perm.BILLING_VIEW, customer, api_key=key)
    Organisation.objects.filter(pk=partner.pk).update(is_partner=False)
    partner.refresh_from_db()
    for user in (staff, owner):
        assert not may(user, Perm.BILLING_VIEW, customer)
        assert not may(user, Perm.ORG_VIEW, customer)
        assert not access_for(user, customer)
        assert not customers_for(user, partner).exists()
    assert not may(owner, Perm.BILLING_VIEW, customer, api_key=key)


def test_assigned_only_staff_reach_only_their_customers(world):
    partner, customer, _staff = world
    other = make_org("andere")
    limited = add_staff(partner, "assigned_yes")
    link(partner, customer, scopes=[Perm.BILLING_VIEW], now=NOW)
    link(partner, other, scopes=[Perm.BILLING_VIEW], now=NOW)
    assert not may(limited, Perm.ORG_VIEW, customer)
    assign(limited, partner, [customer])
    assert may(limited, Perm.BILLING_VIEW, customer)
    assert not may(limited, Perm.BILLING_VIEW, other)
    assert set(customers_for(limited, partner)) == {customer}


def test_pending_and_ended_partnerships_grant_nothing(world):
    partner, customer, staff = world
    partnership = link(partner, customer, scopes=[Perm.BILLING_VIEW], state="pending", now=NOW)
    assert not may(staff, Perm.ORG_VIEW, customer)
    Partnership.objects.filter(pk=partnership.pk).update(status="active")
    assert may(staff, Perm.ORG_VIEW, customer)
    Partnership.objects.filter(pk=partnership.pk).update(status="ended", ended_at=NOW)
    assert not may(staff, Perm.ORG_VIEW, customer)


def test_a_grant_without_scopes_shows_the_customer_with_nothing_editable(world):
    partner, customer, staff = world
    link(partner, customer, scopes=[], now=NOW)
    assert perms_for(staff, customer) == frozenset({Perm.ORG_VIEW})
    assert list(customers_for(staff, partner)) == [customer]
    assert list(customers_for(staff, partner, Perm.ORG_VIEW)) == [customer]


@pytest.mark.parametrize(
    "stored",
    [
        Perm.PROVIDERS_MANAGE,
        Perm.API_KEYS_MANAGE,
        Perm.PARTNER_STATUS_REQUEST,
        Perm.PARTNER_CUSTOMERS_ADMINISTER,
        Perm.OPERATOR_SUPPORT_ACCESS,
    ],
)
def test_names_that_cannot_be_delegated_grant_nothing_even_when_stored(world, stored):
    """Only DELEGABLE_PERMS are ever delegated, whatever a grant row holds (old data, a bug elsewhere)."""
    partner, customer, staff = world
    link(partner, customer, scopes=[stored, Perm.BILLING_VIEW], now=NOW)
    assert not may(staff, stored, customer)
    assert stored not in perms_for(staff, customer)
    assert not customers_for(staff, partner, stored).exists()
    assert may(staff, Perm.BILLING_VIEW, customer)


@pytest.mark.parametrize(("idle", "open_"), [(timedelta(minutes=30), False), (timedelta(minutes=30) - SECOND, True)])
def test_a_management_session_closes_after_exactly_30_idle_minutes(world, idle, open_):
    partner, customer, staff = world
    partnership = link(partner, customer, scopes=[Perm.BILLING_VIEW], now=NOW)
    session = management_session(staff, partnership)
    ManagementSession.objects.filter(pk=session.pk).update(last_seen_at=NOW - idle)
    assert bool(access_for(staff, customer, session_id=session.pk)) is open_


@pytest.mark.parametrize(("days", "valid"), [(0, False), (1, True), (730, True), (731, False)])
def test_grant_validity_is_1_to_730_days(world, days, valid):
    partner, customer, _staff = world
    partnership = Partnership.objects.create(partner=partner, customer=customer, flow="chosen", origin="self")
    if valid:
        Grant.objects.create(partnership=partnership, validity_days=days)
        return
    with pytest.raises(IntegrityError), transaction.atomic():
        Grant.objects.create(partnership=partnership, validity_days=days)


@pytest.mark.parametrize(("age", "pending"), [(timedelta(days=30), False), (timedelta(days=30) - SECOND, True)])
def test_a_pending_request_expires_after_exactly_30_days(world, age, pending):
    partner, customer, _staff = world
    partnership = Partnership.objects.create(
        partner=partner,
        customer=customer,
        flow="requested",
        origin="partner",
        expires_at=NOW - age + timedelta(days=30),
    )
    partnership.expires_at = NOW + timedelta(days=30) - age
    assert partnership.is_pending is pending
    assert (partnership in Partnership.objects.pending()) is pending
