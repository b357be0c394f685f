from __future__ import annotations

import pytest

from conftest import add_member, make_user
from partnerhub.access.perms import Perm, Role
from partnerhub.accounts.models import User
from partnerhub.orgs.models import Organisation


@pytest.fixture
def reseller(db: None) -> Organisation:
    return Organisation.objects.create(name="Reseller AG", slug="reseller", is_partner=True)


@pytest.fixture
def reseller_owner(reseller: Organisation) -> User:
    user = make_user("owner@reseller.test", "Rita Reseller")
    add_member(user, reseller, Role.OWNER)
    return user


@pytest.fixture
def reseller_staff(reseller: Organisation) -> User:
    """Administers customers, defines nothing."""
    user = make_user("staff@reseller.test", "Sam Staff")
    add_member(user, reseller, Role.MEMBER, [str(Perm.PARTNER_CUSTOMERS_ADMINISTER)])
    return user


@pytest.fixture
def other_partner(db: None) -> Organisation:
    return Organisation.objects.create(name="Other Partner", slug="other-partner", is_partner=True)
