"""The partnerships cast: a partner (Bergwerk) with owner, admin and plain member, a second partner,
and customer products of Acme for restricted grants."""

from __future__ import annotations

import pytest

from conftest import add_member, make_user
from partnerhub.access.perms import Role
from partnerhub.accounts.models import User
from partnerhub.billing.models import CustomerProduct
from partnerhub.catalog.tests.factories import make_category, make_product
from partnerhub.orgs.models import Organisation


@pytest.fixture
def partner(db: None) -> Organisation:
    return Organisation.objects.create(name="Bergwerk IT", slug="bergwerk", is_partner=True)


@pytest.fixture
def partner_owner(partner: Organisation) -> User:
    user = make_user("owner@bergwerk.test", "Paula Partner")
    add_member(user, partner, Role.OWNER)
    return user


@pytest.fixture
def partner_admin(partner: Organisation) -> User:
    """Administers customers but may not create them (only owners do by default)."""
    user = make_user("admin@bergwerk.test", "Peter Staff")
    add_member(user, partner, Role.ADMIN)
    return user


@pytest.fixture
def partner_member(partner: Organisation) -> User:
    user = make_user("member@bergwerk.test", "Pia Member")
    add_member(user, partner, Role.MEMBER)
    return user


@pytest.fixture
def rival(db: None) -> Organisation:
    return Organisation.objects.create(name="Nordlicht Digital", slug="nordlicht", is_partner=True)


@pytest.fixture
def rival_owner(rival: Organisation) -> User:
    user = make_user("owner@nordlicht.test", "Rita Rival")
    add_member(user, rival, Role.OWNER)
    return user


@pytest.fixture
def acme_products(acme: Organisation) -> list[CustomerProduct]:
    """Two products of Acme: web hosting and a domain."""
    category = make_category("shared-hosting")
    hosting = make_product(category, "web-hosting", name="Web hosting")
    domain = make_product(make_category("domains-ssl"), "domain-ch", name="Domain .ch")
    return [
        CustomerProduct.objects.create(org=acme, product=hosting, quantity=1),
        CustomerProduct.objects.create(org=acme, product=domain, quantity=1),
    ]
