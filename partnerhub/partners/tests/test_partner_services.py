"""The partner's profile and staff rights: the services, with their anti-escalation rules."""

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404

from conftest import actor, add_member, make_user
from partnerhub.access.perms import Perm, Role
from partnerhub.access.policy import perms_for
from partnerhub.core.errors import ServiceError
from partnerhub.partners.models import PartnerProfile
from partnerhub.partners.services.partner import StaffChange, update_profile, update_staff
from partnerhub.partners.tests.helpers import actions, activate, membership, snapshot
from partnerhub.partnerships.models import StaffAssignment

# --- profile -----------------------------------------------------------------------------------------


def test_update_profile(partner, partner_owner):
    profile = update_profile(
        actor(partner_owner), org=partner, description=" Hosting and shops ", listed_in_directory=True, country="de"
    )

    assert (profile.description, profile.listed_in_directory, profile.country) == ("Hosting and shops", True, "DE")
    assert profile.affiliate_code == "bergwerk-1"
    assert actions() == ["partner.profile_changed"]


def test_profile_validation(partner, partner_owner):
    before = snapshot()

    with pytest.raises(ServiceError) as refused:
        update_profile(actor(partner_owner), org=partner, company_name="", website="nope", contact_email="x")

    assert set(refused.value.message_dict) == {"company_name", "website", "contact_email"}
    assert snapshot() == before


def test_profile_needs_portal_management(partner, partner_staff, acme_owner):
    before = snapshot()
    with pytest.raises(PermissionDenied):
        update_profile(actor(partner_staff), org=partner, description="mine now")
    with pytest.raises(Http404):
        update_profile(actor(acme_owner), org=partner, description="mine now")
    assert snapshot() == before


def test_a_non_partner_has_no_profile(acme, acme_owner):
    with pytest.raises((Http404, PermissionDenied)):
        update_profile(actor(acme_owner), org=acme, description="x")
    assert not PartnerProfile.objects.filter(org=acme).exists()


# --- staff: permissions -----------------------------------------------------------------------------


def test_owner_grants_partner_permissions(partner, partner_owner, partner_staff):
    staff = membership(partner_staff, partner)

    update_staff(
        actor(partner_owner),
        membership=staff,
        change=StaffChange(perms=["partner.customers.create", "partner.offers.manage"]),
    )

    staff.refresh_from_db()
    assert sorted(staff.extra_perms) == ["partner.customers.create", "partner.offers.manage"]
    held = perms_for(partner_staff, partner)
    assert Perm.PARTNER_CUSTOMERS_CREATE in held and Perm.PARTNER_CUSTOMERS_ADMINISTER not in held
    assert actions() == ["partner.staff_changed"]


def test_other_extra_permissions_are_kept(partner, partner_owner, partner_staff):
    staff = membership(partner_staff, partner)
    staff.extra_perms = ["billing.view", "partner.customers.administer"]
    staff.save()

    update_staff(actor(partner_owner), membership=staff, change=StaffChange(perms=[]))

    staff.refresh_from_db()
    assert staff.extra_perms == ["billing.view"]


def test_nobody_grants_what_they_do_not_hold(partner, partner_admin, partner_staff):
    # Admins lack partner.customers.create by role (only owners create customers, seed 001).
    staff = membership(partner_staff, partner)
    before = snapshot()

    with pytest.raises(ServiceError, match="do not hold yourself"):
        update_staff(
            actor(partner_admin),
            membership=staff,
            change=StaffChange(perms=["partner.customers.administer", "partner.customers.create"]),
        )

    assert snapshot() == before


def test_nobody_removes_what_they_do_not_hold(partner, partner_owner, partner_admin, partner_staff):
    staff = membership(partner_staff, partner)
    update_staff(
        actor(partner_owner),
        membership=staff,
        change=StaffChange(perms=["partner.customers.administer", "partner.customers.create"]),
    )
    before = snapshot()

    with pytest.raises(ServiceError, match="do not hold yourself"):
        update_staff(actor(partner_admin), membership=staff, change=StaffChange(perms=["partner.customers.administer"]))

    assert snapshot() == before


def test_role_permissions_cannot_be_taken_away_here(partner, partner_owner, partner_admin):
    with pytest.raises(ServiceError, match="come with the role"):
        update_staff(actor(partner_owner), membership=membership(partner_admin, partner), change=StaffChange(perms=[]))


def test_an_admin_may_receive_customer_creation_as_extra(partner, partner_owner, partner_admin):
    admin = membership(partner_admin, partner)
    everything = [str(p) for p in Perm if p.side == "partner"]

    update_staff(actor(partner_owner), membership=admin, change=StaffChange(perms=everything))

    admin.refresh_from_db()
    assert admin.extra_perms == ["partner.customers.create"]


def test_nobody_changes_someone_ranked_above(partner, partner_owner, partner_admin):
    before = snapshot()
    with pytest.raises(ServiceError, match="above yours"):
        update_staff(
            actor(partner_admin),
            membership=membership(partner_owner, partner),
            change=StaffChange(assigned_customers_only=True),
        )
    assert snapshot() == before


def test_non_partner_permissions_are_refused(partner, partner_owner, partner_staff):
    with pytest.raises(ServiceError, match="Only partner permissions"):
        update_staff(
            actor(partner_owner),
            membership=membership(partner_staff, partner),
            change=StaffChange(perms=["billing.view"]),
        )


@pytest.mark.parametrize("who", ["partner_staff", "acme_owner"])
def test_staff_changes_need_portal_management(request, partner, partner_admin, who):
    user = request.getfixturevalue(who)
    before = snapshot()

    with pytest.raises((PermissionDenied, Http404)):
        update_staff(
            actor(user), membership=membership(partner_admin, partner), change=StaffChange(assigned_customers_only=True)
        )

    assert snapshot() == before


# --- staff: assigned customers ------------------------------------------------------------------------


def test_limit_to_assigned_customers(partner, partner_owner, partner_staff, acme, globex):
    activate(partner, acme)
    activate(partner, globex)
    staff = membership(partner_staff, partner)

    update_staff(
        actor(partner_owner), membership=staff, change=StaffChange(assigned_customers_only=True, customer_ids=[acme.pk])
    )

    staff.refresh_from_db()
    assert staff.assigned_customers_only
    assert list(StaffAssignment.objects.values_list("customer_id", flat=True)) == [acme.pk]

    update_staff(actor(partner_owner), membership=staff, change=StaffChange(customer_ids=[globex.pk]))
    assert list(StaffAssignment.objects.values_list("customer_id", flat=True)) == [globex.pk]
    assert actions() == ["partner.staff_changed", "partner.staff_changed"]


def test_only_active_customers_can_be_assigned(partner, partner_owner, partner_staff, acme, globex):
    activate(partner, acme).__class__.objects.filter(customer=acme).update(status="ended")
    before = snapshot()

    with pytest.raises(ServiceError) as refused:
        update_staff(
            actor(partner_owner),
            membership=membership(partner_staff, partner),
            change=StaffChange(customer_ids=[acme.pk]),
        )

    assert "customers" in refused.value.message_dict
    assert snapshot() == before


def test_limited_managers_do_not_lift_limits_or_assign_others(partner, partner_staff, acme, globex):
    activate(partner, acme)
    activate(partner, globex)
    manager = make_user("manager@bergwerk.test")
    managing = add_member(manager, partner, Role.MEMBER, ["partner.portal.manage", "partner.customers.administer"])
    managing.assigned_customers_only = True
    managing.save()
    StaffAssignment.objects.create(membership=managing, customer=acme)
    staff = membership(partner_staff, partner)
    staff.assigned_customers_only = True
    staff.save()
    before = snapshot()

    with pytest.raises(ServiceError, match="cannot lift that limit"):
        update_staff(actor(manager), membership=staff, change=StaffChange(assigned_customers_only=False))
    with pytest.raises(ServiceError):
        update_staff(actor(manager), membership=staff, change=StaffChange(customer_ids=[globex.pk]))
    assert snapshot() == before

    # Within their own assignment they may.
    update_staff(actor(manager), membership=staff, change=StaffChange(customer_ids=[acme.pk]))
    assert StaffAssignment.objects.filter(membership=staff, customer=acme).exists()
