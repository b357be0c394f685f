import pytest
from django.core.exceptions import PermissionDenied

from partnerhub.access.perms import Perm
from partnerhub.access.tasks import authorize
from partnerhub.orgs.models import Membership


def test_a_task_acts_for_a_user_who_still_holds_the_permission(acme, acme_admin):
    actor, org = authorize(user_id=acme_admin.pk, perm=Perm.AUDIT_VIEW, org_id=acme.pk)
    assert actor.user == acme_admin
    assert org == acme


def test_a_task_queued_before_the_user_was_removed_is_refused_when_it_runs(acme, acme_admin):
    Membership.objects.filter(user=acme_admin, org=acme).delete()
    with pytest.raises(PermissionDenied):
        authorize(user_id=acme_admin.pk, perm=Perm.AUDIT_VIEW, org_id=acme.pk)


def test_a_task_is_refused_for_a_permission_the_role_lacks(acme, acme_member):
    with pytest.raises(PermissionDenied):
        authorize(user_id=acme_member.pk, perm=Perm.AUDIT_VIEW, org_id=acme.pk)


def test_a_task_for_a_deactivated_user_or_missing_org_is_refused(acme, acme_admin):
    with pytest.raises(PermissionDenied):
        authorize(user_id=acme_admin.pk, perm=Perm.ORG_VIEW, org_id=acme.pk + 999)
    acme_admin.is_active = False
    acme_admin.save(update_fields=["is_active"])
    with pytest.raises(PermissionDenied):
        authorize(user_id=acme_admin.pk, perm=Perm.ORG_VIEW, org_id=acme.pk)
