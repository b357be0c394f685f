"""The operator organisation's access helpers (partnerhub.access.operator, partnerhub.access.checks)."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.http import Http404

from conftest import actor, add_member, make_user
from partnerhub.access.checks import holds, require
from partnerhub.access.operator import (
    NoOperator,
    find_operator,
    holds_operator_perm,
    operator_organisation,
    operator_perms,
    require_operator,
)
from partnerhub.access.perms import Perm, Role
from partnerhub.access.policy import Actor

MANAGE = Perm.OPERATOR_PROGRAM_MANAGE


def assert_concealed(who: Actor) -> None:
    """Who cannot see the operator organisation: 404 (conceal) or 403, and holds nothing."""
    with pytest.raises(Http404):
        require_operator(who, MANAGE)
    with pytest.raises(PermissionDenied):
        require_operator(who, MANAGE, conceal=False)
    assert holds_operator_perm(who, MANAGE) is False


def test_without_an_operator_nothing_is_held(acme_owner):
    assert find_operator() is None
    with pytest.raises(NoOperator, match="no operator organisation"):
        operator_organisation()
    assert operator_perms(actor(acme_owner)) == (None, frozenset())
    assert_concealed(Actor(user=acme_owner))


def test_staff_holding_the_permission_get_the_operator(operator_org, operator_staff):
    assert find_operator() == operator_org == operator_organisation()
    assert require_operator(actor(operator_staff), MANAGE) == operator_org
    assert require_operator(actor(operator_staff), MANAGE, conceal=False) == operator_org
    assert holds_operator_perm(actor(operator_staff), MANAGE) is True


def test_those_who_cannot_see_the_operator_get_404_or_403(operator_org, acme_owner, outsider):
    for user in (acme_owner, outsider):
        assert operator_perms(actor(user)) == (operator_org, frozenset())
        assert_concealed(Actor(user=user))


def test_a_member_without_the_permission_gets_403_either_way(operator_org):
    member = make_user("member@operator.test")
    add_member(member, operator_org, Role.MEMBER)
    for conceal in (True, False):
        with pytest.raises(PermissionDenied):
            require_operator(actor(member), MANAGE, conceal=conceal)
    assert holds_operator_perm(actor(member), MANAGE) is False


def test_anonymous_and_deactivated_actors_are_refused_with_403(operator_org, operator_staff):
    operator_staff.is_active = False
    operator_staff.save()
    for who in (Actor(user=AnonymousUser()), actor(operator_staff)):  # type: ignore[arg-type]
        for conceal in (True, False):
            with pytest.raises(PermissionDenied):
                require_operator(who, MANAGE, conceal=conceal)
        assert holds_operator_perm(who, MANAGE) is False
        with pytest.raises(PermissionDenied):
            require(who, Perm.ORG_VIEW, operator_org)
        assert holds(who, Perm.ORG_VIEW, operator_org) is False


def test_require_on_an_organisation_is_404_unseen_and_403_without_the_permission(acme, acme_member, globex_owner):
    assert Perm.ORG_VIEW in require(actor(acme_member), Perm.ORG_VIEW, acme)
    assert holds(actor(acme_member), Perm.ORG_VIEW, acme) is True
    with pytest.raises(PermissionDenied):
        require(actor(acme_member), Perm.MEMBERS_MANAGE, acme)
    assert holds(actor(acme_member), Perm.MEMBERS_MANAGE, acme) is False
    with pytest.raises(Http404):
        require(actor(globex_owner), Perm.ORG_VIEW, acme)
