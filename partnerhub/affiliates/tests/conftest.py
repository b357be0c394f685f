"""The affiliate cast on top of the root conftest: the program, an individual affiliate (Sonja's blog)
with its owner, and helpers that build approved affiliates and clicks directly."""

from __future__ import annotations

import pytest

from conftest import add_member, make_user
from partnerhub.access.perms import Role
from partnerhub.accounts.models import User
from partnerhub.affiliates.models import Affiliate, AffiliateStatus
from partnerhub.orgs.models import Organisation
from partnerhub.partners.models import Program


@pytest.fixture
def program(operator_org: Organisation) -> Program:
    return Program.objects.create(operator=operator_org)


@pytest.fixture
def blog(db: None) -> Organisation:
    return Organisation.objects.create(name="Sonja's Blog", slug="sonja")


@pytest.fixture
def blog_owner(blog: Organisation) -> User:
    user = make_user("sonja@sonja-blog.test", "Sonja Blog")
    add_member(user, blog, Role.OWNER)
    return user


@pytest.fixture
def affiliate(blog: Organisation, blog_owner: User, program: Program) -> Affiliate:
    """Sonja's blog, an approved affiliate with the code ``sonja``."""
    return make_affiliate(blog, "sonja")


def make_affiliate(org: Organisation, code: str, status: str = AffiliateStatus.APPROVED) -> Affiliate:
    affiliate = Affiliate.objects.create(org=org, code=code, status=status, message="My blog")
    if status in (AffiliateStatus.APPROVED, AffiliateStatus.SUSPENDED):
        Organisation.objects.filter(pk=org.pk).update(is_affiliate=True)
        org.is_affiliate = True
    return affiliate
