"""An organisation that is an affiliate but not a partner holds the partner portal only (DESIGN §7):
its owners and admins run the referral link, commissions and payouts; nothing about customers."""

from __future__ import annotations

import pytest

from conftest import add_member, make_user
from partnerhub.access.perms import AFFILIATE_PERMS, PARTNER_PERMS, Perm, Role
from partnerhub.access.policy import may, own_perms, perms_for, visible_orgs
from partnerhub.orgs.models import Organisation

pytestmark = pytest.mark.django_db

KINDS = {
    "customer": {},
    "affiliate": {"is_affiliate": True},
    "partner": {"is_partner": True},
    "both": {"is_partner": True, "is_affiliate": True},
}


@pytest.mark.parametrize("kind", list(KINDS))
@pytest.mark.parametrize("role", list(Role))
@pytest.mark.parametrize("extra", [[], [Perm.PARTNER_PORTAL_MANAGE.value, Perm.PARTNER_CUSTOMERS_ADMINISTER.value]])
def test_partner_side_by_kind_of_organisation(kind, role, extra):
    org = Organisation.objects.create(name=kind, slug=kind, **KINDS[kind])
    user = make_user(f"{kind}@example.test")
    add_member(user, org, role, extra)
    held = perms_for(user, org)
    partner_side = held & PARTNER_PERMS
    if org.is_partner:
        assert Perm.PARTNER_CUSTOMERS_ADMINISTER in partner_side or (role == Role.MEMBER and not extra)
    elif org.is_affiliate:
        assert partner_side <= AFFILIATE_PERMS
        assert (Perm.PARTNER_PORTAL_MANAGE in partner_side) == (role != Role.MEMBER or bool(extra))
    else:
        assert partner_side == frozenset()
    # The one-statement question (the SQLite fast path) and the row path agree on every permission.
    for perm in Perm:
        assert may(user, perm, org) == (perm in held), (kind, role, extra, perm)
    assert own_perms(user, org) == held
    assert (org in visible_orgs(user, Perm.PARTNER_PORTAL_MANAGE)) == (Perm.PARTNER_PORTAL_MANAGE in held)


def test_withdrawing_affiliate_status_takes_effect_on_the_next_check():
    org = Organisation.objects.create(name="Solo", slug="solo", is_affiliate=True)
    user = make_user("solo@example.test")
    add_member(user, org, Role.OWNER)
    assert may(user, Perm.PARTNER_PORTAL_MANAGE, org)
    Organisation.objects.filter(pk=org.pk).update(is_affiliate=False)
    assert not may(user, Perm.PARTNER_PORTAL_MANAGE, org)
    assert Perm.PARTNER_PORTAL_MANAGE not in perms_for(user, org)
