"""The access rule (partnerhub.access.policy) over the cast: roles, extras, sides, keys, removal."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from conftest import add_member, make_user
from partnerhub.access.perms import (
    OPERATOR_PERMS,
    OWN_ORG_PERMS,
    PARTNER_PERMS,
    ROLE_PERMS,
    Perm,
    Role,
)
from partnerhub.access.policy import can, grantable_perms, may_see, perms_for, visible_orgs
from partnerhub.api.models import ApiKey
from partnerhub.orgs.models import Membership, Organisation


def make_key(org, user, scopes, **fields) -> ApiKey:
    return ApiKey.objects.create(
        org=org,
        name="test key",
        prefix="phk_test",
        key_hash=ApiKey.hash(ApiKey.generate()),
        scopes=[str(p) for p in scopes],
        created_by=user,
        **fields,
    )


@pytest.fixture
def partner_org(db):
    return Organisation.objects.create(name="Reseller AG", slug="reseller", is_partner=True)


# Roles on a customer organisation.


def test_owner_and_admin_hold_every_own_org_permission(acme, acme_owner, acme_admin):
    assert perms_for(acme_owner, acme) == OWN_ORG_PERMS
    assert perms_for(acme_admin, acme) == OWN_ORG_PERMS


def test_member_holds_only_the_member_set(acme, acme_member):
    assert perms_for(acme_member, acme) == ROLE_PERMS[Role.MEMBER]
    assert can(acme_member, Perm.ORG_VIEW, acme)
    assert not can(acme_member, Perm.AUDIT_VIEW, acme)
    assert not can(acme_member, Perm.MEMBERS_MANAGE, acme)


def test_roles_on_a_customer_carry_no_partner_or_operator_permissions(acme, acme_owner):
    assert not perms_for(acme_owner, acme) & (PARTNER_PERMS | OPERATOR_PERMS)


def test_extra_permissions_add_to_the_role(acme, acme_member):
    Membership.objects.filter(user=acme_member, org=acme).update(extra_perms=["billing.view", "audit.view"])
    assert perms_for(acme_member, acme) == ROLE_PERMS[Role.MEMBER] | {Perm.BILLING_VIEW, Perm.AUDIT_VIEW}


def test_unknown_extra_permission_names_are_ignored(acme, acme_member):
    Membership.objects.filter(user=acme_member, org=acme).update(extra_perms=["no.such.perm", "billing.view"])
    assert perms_for(acme_member, acme) == ROLE_PERMS[Role.MEMBER] | {Perm.BILLING_VIEW}


def test_extra_permissions_of_another_side_count_nowhere_else(acme, acme_member):
    # An operator or partner permission stored on a customer membership gives nothing.
    Membership.objects.filter(user=acme_member, org=acme).update(
        extra_perms=["operator.payouts.manage", "partner.customers.create"]
    )
    assert perms_for(acme_member, acme) == ROLE_PERMS[Role.MEMBER]


def test_non_member_holds_nothing(acme, outsider, globex_owner):
    assert perms_for(outsider, acme) == frozenset()
    assert perms_for(globex_owner, acme) == frozenset()
    assert not may_see(globex_owner, acme)
    assert not can(globex_owner, Perm.ORG_VIEW, acme)


# Side permissions.


def test_operator_staff_hold_operator_permissions_on_the_operator_org_only(operator_org, operator_staff, acme):
    assert perms_for(operator_staff, operator_org) == OWN_ORG_PERMS | OPERATOR_PERMS
    assert perms_for(operator_staff, acme) == frozenset()
    assert not can(operator_staff, Perm.OPERATOR_SUPPORT_ACCESS, acme)


def test_operator_member_has_no_operator_permissions_without_extras(operator_org):
    member = make_user("member@operator.test")
    membership = add_member(member, operator_org, Role.MEMBER)
    assert not perms_for(member, operator_org) & OPERATOR_PERMS

    membership.extra_perms = ["operator.payouts.manage"]
    membership.save(update_fields=["extra_perms"])
    assert perms_for(member, operator_org) & OPERATOR_PERMS == {Perm.OPERATOR_PAYOUTS_MANAGE}


def test_partner_roles_carry_partner_permissions(partner_org):
    owner, admin, member = (make_user(f"{r}@reseller.test") for r in ("owner", "admin", "member"))
    add_member(owner, partner_org, Role.OWNER)
    add_member(admin, partner_org, Role.ADMIN)
    add_member(member, partner_org, Role.MEMBER)

    assert perms_for(owner, partner_org) == OWN_ORG_PERMS | PARTNER_PERMS
    # Only the legal representatives create customers unless given the extra permission.
    assert perms_for(admin, partner_org) == OWN_ORG_PERMS | (PARTNER_PERMS - {Perm.PARTNER_CUSTOMERS_CREATE})
    assert perms_for(member, partner_org) == ROLE_PERMS[Role.MEMBER]


# Who is nobody.


def test_inactive_user_holds_nothing(acme, acme_owner):
    acme_owner.is_active = False
    acme_owner.save(update_fields=["is_active"])
    assert perms_for(acme_owner, acme) == frozenset()
    assert not may_see(acme_owner, acme)
    assert list(visible_orgs(acme_owner)) == []


def test_anonymous_holds_nothing(acme):
    anonymous = AnonymousUser()
    assert perms_for(anonymous, acme) == frozenset()  # type: ignore[arg-type]
    assert not can(anonymous, Perm.ORG_VIEW, acme)  # type: ignore[arg-type]
    assert not may_see(anonymous, acme)  # type: ignore[arg-type]
    assert list(visible_orgs(anonymous)) == []  # type: ignore[arg-type]
    assert grantable_perms(anonymous, acme) == frozenset()  # type: ignore[arg-type]


# API keys.


def test_api_key_gives_its_scopes_intersected_with_the_creators_permissions(acme, acme_member):
    key = make_key(acme, acme_member, [Perm.ORG_VIEW, Perm.BILLING_VIEW])
    # billing.view is in the key but the member does not hold it: the key cannot widen access.
    assert perms_for(acme_member, acme, api_key=key) == {Perm.ORG_VIEW}
    assert can(acme_member, Perm.ORG_VIEW, acme, api_key=key)
    assert not can(acme_member, Perm.BILLING_VIEW, acme, api_key=key)
    assert not can(acme_member, Perm.TICKETS_USE, acme, api_key=key)


def test_api_key_follows_the_creators_current_permissions(acme, acme_admin):
    key = make_key(acme, acme_admin, [Perm.MEMBERS_MANAGE])
    assert can(acme_admin, Perm.MEMBERS_MANAGE, acme, api_key=key)

    Membership.objects.filter(user=acme_admin, org=acme).update(role=Role.MEMBER)
    assert not can(acme_admin, Perm.MEMBERS_MANAGE, acme, api_key=key)

    Membership.objects.filter(user=acme_admin, org=acme).delete()
    assert perms_for(acme_admin, acme, api_key=key) == frozenset()


def test_api_key_of_another_org_gives_nothing_here(acme, globex, acme_owner):
    add_member(acme_owner, globex, Role.OWNER)
    globex_key = make_key(globex, acme_owner, OWN_ORG_PERMS)
    assert perms_for(acme_owner, acme, api_key=globex_key) == frozenset()
    assert perms_for(acme_owner, globex, api_key=globex_key) == OWN_ORG_PERMS
    assert list(visible_orgs(acme_owner, api_key=globex_key)) == [globex]


def test_api_key_used_by_someone_else_gives_nothing(acme, acme_owner, acme_admin):
    key = make_key(acme, acme_owner, OWN_ORG_PERMS)
    assert perms_for(acme_admin, acme, api_key=key) == frozenset()
    assert list(visible_orgs(acme_admin, api_key=key)) == []


@pytest.mark.parametrize(
    "state",
    [
        {"revoked_at": timezone.now() - timedelta(seconds=1)},
        {"expires_at": timezone.now() - timedelta(seconds=1)},
    ],
    ids=["revoked", "expired"],
)
def test_unusable_api_key_gives_nothing(acme, acme_owner, state):
    key = make_key(acme, acme_owner, OWN_ORG_PERMS, **state)
    assert perms_for(acme_owner, acme, api_key=key) == frozenset()
    assert not may_see(acme_owner, acme, api_key=key)
    assert list(visible_orgs(acme_owner, api_key=key)) == []


def test_api_key_expiring_in_the_future_still_works(acme, acme_owner):
    key = make_key(acme, acme_owner, [Perm.AUDIT_VIEW], expires_at=timezone.now() + timedelta(hours=1))
    assert perms_for(acme_owner, acme, api_key=key) == {Perm.AUDIT_VIEW}


# may_see, visible_orgs, grantable_perms.


def test_may_see_is_any_permission(acme, acme_member, outsider):
    assert may_see(acme_member, acme)
    assert not may_see(outsider, acme)


def test_visible_orgs_lists_exactly_the_orgs_with_the_permission(acme, globex, acme_owner, acme_member, operator_org):
    add_member(acme_member, globex, Role.ADMIN)
    add_member(acme_member, operator_org, Role.MEMBER)

    assert set(visible_orgs(acme_member)) == {acme, globex, operator_org}
    assert set(visible_orgs(acme_member, Perm.AUDIT_VIEW)) == {globex}
    assert set(visible_orgs(acme_member, Perm.OPERATOR_PAYOUTS_MANAGE)) == set()
    assert set(visible_orgs(acme_owner, Perm.AUDIT_VIEW)) == {acme}


def test_grantable_perms_are_what_the_granter_holds(acme, acme_owner, acme_member, operator_org, operator_staff):
    assert grantable_perms(acme_owner, acme) == OWN_ORG_PERMS
    assert grantable_perms(acme_member, acme) == ROLE_PERMS[Role.MEMBER]
    # Operator staff hand out nothing on a customer they do not belong to.
    assert grantable_perms(operator_staff, acme) == frozenset()
    assert grantable_perms(operator_staff, operator_org) == OWN_ORG_PERMS | OPERATOR_PERMS


@pytest.mark.parametrize("count", [1, 20])
def test_visible_orgs_runs_in_constant_queries(outsider, count, django_assert_num_queries):
    # Measured with one membership first: the same number must hold for 1 and for 20.
    orgs = [Organisation.objects.create(name=f"Org {i}", slug=f"org-{i}") for i in range(count)]
    for i, org in enumerate(orgs):
        add_member(outsider, org, [Role.OWNER, Role.ADMIN, Role.MEMBER][i % 3], ["audit.view"] if i % 2 else [])
    baseline_user = make_user("baseline@example.test")
    add_member(baseline_user, Organisation.objects.create(name="Base", slug="base"), Role.OWNER)
    with CaptureQueriesContext(connection) as baseline:
        list(visible_orgs(baseline_user, Perm.AUDIT_VIEW))

    with django_assert_num_queries(len(baseline.captured_queries)):
        visible = list(visible_orgs(outsider, Perm.AUDIT_VIEW))

    assert len(visible) == len([i for i in range(count) if i % 3 != 2 or i % 2])


# The rule is evaluated on every request: nothing is remembered from the last one.


def test_a_removed_member_is_refused_on_the_next_request(client_for, acme, acme_owner, acme_admin):
    client = client_for(acme_admin)
    page = reverse("audit_list", args=[acme.slug])
    assert client.get(page).status_code == 200

    Membership.objects.filter(user=acme_admin, org=acme).delete()

    assert client.get(page).status_code == 404


def test_a_demoted_member_is_refused_on_the_next_request(client_for, acme, acme_admin):
    client = client_for(acme_admin)
    page = reverse("audit_list", args=[acme.slug])
    assert client.get(page).status_code == 200

    Membership.objects.filter(user=acme_admin, org=acme).update(role=Role.MEMBER)

    assert client.get(page).status_code == 403
