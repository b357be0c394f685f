"""The partner program's cast on top of the root conftest: a program with eligibility rules, a partner
organisation with its staff, and applications."""

from __future__ import annotations

from decimal import Decimal

import pytest

from conftest import add_member, make_user
from partnerhub.access.perms import Perm, Role
from partnerhub.accounts.models import User
from partnerhub.orgs.models import Organisation
from partnerhub.partners.models import EligibilityVolume, PartnerProfile, Program


@pytest.fixture
def program(operator_org: Organisation) -> Program:
    """CHF 2000 / EUR 1800, registered company and website required (seed 001)."""
    program = Program.objects.create(
        operator=operator_org, registered_company_required=True, active_website_required=True
    )
    EligibilityVolume.objects.create(program=program, currency="CHF", min_amount=Decimal(2000))
    EligibilityVolume.objects.create(program=program, currency="EUR", min_amount=Decimal(1800))
    return program


@pytest.fixture
def reviewer(operator_org: Organisation) -> User:
    """Operator staff who only reviews applications (an extra permission on a plain membership)."""
    user = make_user("reviewer@operator.test", "Rita Reviewer")
    add_member(user, operator_org, Role.MEMBER, [str(Perm.OPERATOR_APPLICATIONS_REVIEW)])
    return user


@pytest.fixture
def partner(db: None) -> Organisation:
    org = Organisation.objects.create(name="Bergwerk Digital GmbH", slug="bergwerk", is_partner=True, country="AT")
    PartnerProfile.objects.create(
        org=org, company_name=org.name, country="AT", contact_email="hello@bergwerk.test", affiliate_code="bergwerk-1"
    )
    return org


@pytest.fixture
def partner_owner(partner: Organisation) -> User:
    user = make_user("owner@bergwerk.test", "Petra Bergwerk")
    add_member(user, partner, Role.OWNER)
    return user


@pytest.fixture
def partner_admin(partner: Organisation) -> User:
    user = make_user("admin@bergwerk.test", "Anton Admin")
    add_member(user, partner, Role.ADMIN)
    return user


@pytest.fixture
def partner_staff(partner: Organisation) -> User:
    user = make_user("staff@bergwerk.test", "Stefan Staff")
    add_member(user, partner, Role.MEMBER, [str(Perm.PARTNER_CUSTOMERS_ADMINISTER)])
    return user
