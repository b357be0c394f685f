"""The three branches of the rule, one at a time: membership, a partner's grant, operator support."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from conftest import add_member, make_user
from partnerhub.access.perms import Perm, Role
from partnerhub.access.policy import access_for, customers_for, may, perms_for, products_for
from partnerhub.billing.models import CustomerProduct
from partnerhub.catalog.models import Category, Product
from partnerhub.delegation.models import ManagementSession, SupportAccess
from partnerhub.orgs.models import Organisation
from partnerhub.partnerships.models import Grant, GrantProduct, Partnership, StaffAssignment


@pytest.fixture
def partner(db: None) -> Organisation:
    return Organisation.objects.create(name="Bergwerk IT", slug="bergwerk", is_partner=True)


@pytest.fixture
def staff(partner: Organisation):
    user = make_user("staff@bergwerk.test")
    add_member(user, partner, Role.MEMBER, [Perm.PARTNER_CUSTOMERS_ADMINISTER.value])
    return user


def link(partner, customer, *, scopes, mode="full", days=30, status="active") -> Partnership:
    now = timezone.now()
    partnership = Partnership.objects.create(
        partner=partner, customer=customer, flow="chosen", origin="self", status=status, activated_at=now
    )
    Grant.objects.create(
        partnership=partnership,
        mode=mode,
        scopes=[str(p) for p in scopes],
        valid_from=now,
        valid_until=now + timedelta(days=days),
    )
    return partnership


def customer_product(org: Organisation) -> CustomerProduct:
    category, _ = Category.objects.get_or_create(slug="hosting", defaults={"name": "Hosting"})
    product = Product.objects.create(category=category, name="Web", sku=f"web-{org.slug}-{Product.objects.count()}")
    return CustomerProduct.objects.create(org=org, product=product)


def test_grant_gives_its_scopes_and_seeing_the_customer(partner, staff, acme):
    link(partner, acme, scopes=[Perm.BILLING_VIEW])
    assert may(staff, Perm.BILLING_VIEW, acme)
    assert may(staff, Perm.ORG_VIEW, acme)
    assert not may(staff, Perm.BILLING_ORDER, acme)
    access = access_for(staff, acme)
    assert access.via == "partner" and access.partner_id == partner.pk
    # In the browser without a management session the grant does not count.
    assert perms_for(staff, acme, delegated=False) == frozenset()


@pytest.mark.parametrize("change", ["revoked", "expired", "ended", "not_partner", "no_perm"])
def test_what_ends_a_grant_takes_effect_at_once(partner, staff, acme, change):
    partnership = link(partner, acme, scopes=[Perm.BILLING_VIEW])
    assert may(staff, Perm.BILLING_VIEW, acme)
    grant = partnership.grant
    if change == "revoked":
        Grant.objects.filter(pk=grant.pk).update(revoked_at=timezone.now())
    elif change == "expired":
        Grant.objects.filter(pk=grant.pk).update(valid_until=timezone.now())
    elif change == "ended":
        Partnership.objects.filter(pk=partnership.pk).update(status="ended", ended_at=timezone.now())
    elif change == "not_partner":
        Organisation.objects.filter(pk=partner.pk).update(is_partner=False)
    else:
        staff.memberships.update(extra_perms=[])
    assert not may(staff, Perm.BILLING_VIEW, acme)
    assert not may(staff, Perm.ORG_VIEW, acme)


def test_restricted_grant_covers_its_products_and_never_ordering(partner, staff, acme):
    partnership = link(partner, acme, scopes=[Perm.PRODUCTS_MANAGE, Perm.BILLING_ORDER], mode="restricted")
    granted, other = customer_product(acme), customer_product(acme)
    GrantProduct.objects.create(grant=partnership.grant, customer_product=granted)
    assert may(staff, Perm.PRODUCTS_MANAGE, acme, granted)
    assert not may(staff, Perm.PRODUCTS_MANAGE, acme, other)
    assert not may(staff, Perm.BILLING_ORDER, acme)
    access = access_for(staff, acme)
    assert access.product_ids == frozenset({granted.pk})
    assert list(products_for(staff, acme, Perm.PRODUCTS_MANAGE, access=access)) == [granted]


def test_staff_limited_to_assigned_customers(partner, staff, acme, globex):
    link(partner, acme, scopes=[Perm.BILLING_VIEW])
    link(partner, globex, scopes=[Perm.BILLING_VIEW])
    membership = staff.memberships.get()
    membership.assigned_customers_only = True
    membership.save()
    StaffAssignment.objects.create(membership=membership, customer=acme)
    assert may(staff, Perm.BILLING_VIEW, acme)
    assert not may(staff, Perm.BILLING_VIEW, globex)
    assert set(customers_for(staff, partner, Perm.BILLING_VIEW)) == {acme}


def test_customers_for_filters_by_scope(partner, staff, acme, globex):
    link(partner, acme, scopes=[Perm.BILLING_VIEW])
    link(partner, globex, scopes=[Perm.MEMBERS_MANAGE])
    assert set(customers_for(staff, partner)) == {acme, globex}
    assert set(customers_for(staff, partner, Perm.BILLING_VIEW)) == {acme}


def test_support_branch_needs_access_in_force_and_the_operator_permission(operator_org, operator_staff, acme):
    assert not may(operator_staff, Perm.ORG_VIEW, acme)
    SupportAccess.objects.create(
        customer=acme, scopes=[Perm.BILLING_VIEW.value], valid_until=timezone.now() + timedelta(days=2)
    )
    assert may(operator_staff, Perm.BILLING_VIEW, acme)
    assert not may(operator_staff, Perm.MEMBERS_MANAGE, acme)
    SupportAccess.objects.update(revoked_at=timezone.now())
    assert not may(operator_staff, Perm.BILLING_VIEW, acme)


def test_a_session_narrows_a_member_to_the_delegated_permissions(partner, staff, acme):
    add_member(staff, acme, Role.OWNER)
    partnership = link(partner, acme, scopes=[Perm.BILLING_VIEW])
    session = ManagementSession.objects.create(
        user=staff, customer=acme, via="partner", acting_org=partner, partnership=partnership, reason="help"
    )
    assert Perm.MEMBERS_MANAGE in perms_for(staff, acme)
    inside = access_for(staff, acme, session_id=session.pk)
    assert inside.perms == frozenset({Perm.BILLING_VIEW, Perm.ORG_VIEW})
    assert inside.session_id == session.pk
    ManagementSession.objects.filter(pk=session.pk).update(last_seen_at=timezone.now() - timedelta(minutes=31))
    assert not access_for(staff, acme, session_id=session.pk)


def test_may_is_one_statement(partner, staff, acme):
    link(partner, acme, scopes=[Perm.BILLING_VIEW])
    with CaptureQueriesContext(connection) as queries:
        assert may(staff, Perm.BILLING_VIEW, acme)
    assert len(queries) == 1


def test_seeing_the_customer_lists_every_managed_customer_whatever_the_scopes(partner, staff, acme, globex):
    link(partner, acme, scopes=[])
    link(partner, globex, scopes=[Perm.BILLING_VIEW])
    assert set(customers_for(staff, partner, Perm.ORG_VIEW)) == {acme, globex}


def test_inside_a_session_the_own_role_neither_ranks_nor_leaves(partner, staff, acme):
    from dataclasses import replace

    from partnerhub.core.errors import ServiceError
    from partnerhub.orgs.models import Membership
    from partnerhub.orgs.queries import actor_rank
    from partnerhub.orgs.services import leave_organisation

    add_member(staff, acme, Role.OWNER)
    add_member(make_user("second-owner@acme.test"), acme, Role.OWNER)
    partnership = link(partner, acme, scopes=[Perm.MEMBERS_MANAGE])
    session = ManagementSession.objects.create(
        user=staff, customer=acme, via="partner", acting_org=partner, partnership=partnership, reason="help"
    )
    from conftest import actor

    inside = replace(actor(staff), session_id=session.pk, session_org_id=acme.pk, partner_id=partner.pk)
    assert actor_rank(actor(staff), acme) == 2
    assert actor_rank(inside, acme) == 0
    with pytest.raises(ServiceError):
        leave_organisation(inside, org=acme)
    assert Membership.objects.filter(user=staff, org=acme).exists()


def test_a_product_is_managed_by_one_partner_only(partner, staff, acme):
    """A full partner manages every product but those a restricted grant hands to another partner."""
    other = Organisation.objects.create(name="Other IT", slug="other-it", is_partner=True)
    other_staff = make_user("staff@other.test")
    add_member(other_staff, other, Role.MEMBER, [Perm.PARTNER_CUSTOMERS_ADMINISTER.value])
    link(partner, acme, scopes=[Perm.PRODUCTS_MANAGE])
    restricted = link(other, acme, scopes=[Perm.PRODUCTS_MANAGE], mode="restricted")
    handed, kept = customer_product(acme), customer_product(acme)
    GrantProduct.objects.create(grant=restricted.grant, customer_product=handed)

    assert may(other_staff, Perm.PRODUCTS_MANAGE, acme, handed)
    assert not may(staff, Perm.PRODUCTS_MANAGE, acme, handed)
    assert may(staff, Perm.PRODUCTS_MANAGE, acme, kept)
    assert not may(other_staff, Perm.PRODUCTS_MANAGE, acme, kept)

    full = access_for(staff, acme)
    assert not full.allows(Perm.PRODUCTS_MANAGE, handed.pk)
    assert full.allows(Perm.PRODUCTS_MANAGE, kept.pk)
    assert list(products_for(staff, acme, Perm.PRODUCTS_MANAGE, access=full)) == [kept]
