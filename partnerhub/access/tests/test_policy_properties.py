"""Property tests of the access rule: random organisations, memberships, extras and API keys.

The expected permissions are written out here from the vocabulary (perms.py) rather than taken from
policy.membership_perms, so these tests state the rule independently of its implementation.

Hypothesis runs many examples inside one test function; each example builds its data inside a
savepoint that is rolled back at its end, so examples never see each other's rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from partnerhub.access.perms import ROLE_OPERATOR_PERMS, ROLE_PARTNER_PERMS, ROLE_PERMS, Perm, Role
from partnerhub.access.policy import can, perms_for, visible_orgs
from partnerhub.accounts.models import User
from partnerhub.api.models import ApiKey
from partnerhub.orgs.models import Membership, Organisation

ALL_PERMS = list(Perm)
PROPERTY_SETTINGS = settings(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@dataclass(frozen=True)
class OrgSpec:
    is_partner: bool
    membership: tuple[Role, frozenset[Perm]] | None  # None: the user is not a member


org_specs = st.builds(
    OrgSpec,
    is_partner=st.booleans(),
    membership=st.none() | st.tuples(st.sampled_from(list(Role)), st.frozensets(st.sampled_from(ALL_PERMS))),
)
worlds = st.tuples(
    st.lists(org_specs, min_size=1, max_size=4),
    st.none() | st.integers(min_value=0, max_value=3),  # which organisation is the operator, if any
    st.sampled_from([True, True, True, False]),  # is the user active
)


def expected_perms(spec: OrgSpec, *, is_operator: bool, active: bool) -> frozenset[Perm]:
    """The rule as DESIGN §2 states it: role set ∪ side sets ∪ extras of the organisation's sides."""
    if spec.membership is None or not active:
        return frozenset()
    role, extras = spec.membership
    sides = {"own"} | ({"partner"} if spec.is_partner else set()) | ({"operator"} if is_operator else set())
    perms = set(ROLE_PERMS[role]) | {p for p in extras if p.side in sides}
    if spec.is_partner:
        perms |= ROLE_PARTNER_PERMS[role]
    if is_operator:
        perms |= ROLE_OPERATOR_PERMS[role]
    return frozenset(perms)


def build(specs: list[OrgSpec], operator_index: int | None, active: bool) -> tuple[User, list[Organisation]]:
    """The user, their organisations, and a bystander owning every organisation (who must not leak)."""
    user = User.objects.create(email="subject@example.test", is_active=active)
    bystander = User.objects.create(email="bystander@example.test")
    orgs = []
    for i, spec in enumerate(specs):
        org = Organisation.objects.create(
            name=f"Org {i}", slug=f"org-{i}", is_partner=spec.is_partner, is_operator=i == operator_index
        )
        Membership.objects.create(user=bystander, org=org, role=Role.OWNER, extra_perms=[str(p) for p in Perm])
        if spec.membership is not None:
            role, extras = spec.membership
            Membership.objects.create(user=user, org=org, role=role, extra_perms=sorted(str(p) for p in extras))
        orgs.append(org)
    return user, orgs


@settings(PROPERTY_SETTINGS, max_examples=100)
@given(world=worlds)
def test_can_holds_exactly_for_the_rules_permissions(db, world):
    specs, operator_index, active = world
    with transaction.atomic():
        user, orgs = build(specs, operator_index, active)
        for i, (spec, org) in enumerate(zip(specs, orgs, strict=True)):
            expected = expected_perms(spec, is_operator=i == operator_index, active=active)
            assert perms_for(user, org) == expected
            for perm in ALL_PERMS:
                assert can(user, perm, org) == (perm in expected), (perm, spec)
        transaction.set_rollback(True)


@settings(PROPERTY_SETTINGS, max_examples=60)
@given(world=worlds)
def test_visible_orgs_is_exactly_where_can_holds(db, world):
    specs, operator_index, active = world
    with transaction.atomic():
        user, orgs = build(specs, operator_index, active)
        for perm in ALL_PERMS:
            visible = set(visible_orgs(user, perm))
            assert visible == {org for org in orgs if can(user, perm, org)}, perm
        transaction.set_rollback(True)


key_states = st.sampled_from(["usable", "usable", "usable", "revoked", "expired", "other_creator"])


@settings(PROPERTY_SETTINGS, max_examples=80)
@given(
    world=worlds,
    key_org=st.integers(min_value=0, max_value=3),
    scopes=st.frozensets(st.sampled_from(ALL_PERMS)),
    state=key_states,
)
def test_can_through_an_api_key_is_can_within_the_keys_scopes(db, world, key_org, scopes, state):
    specs, operator_index, active = world
    with transaction.atomic():
        user, orgs = build(specs, operator_index, active)
        now = timezone.now()
        key = ApiKey.objects.create(
            org=orgs[key_org % len(orgs)],
            name="property key",
            prefix="phk_prop",
            key_hash=ApiKey.hash(ApiKey.generate()),
            scopes=sorted(str(p) for p in scopes),
            created_by=User.objects.get(email="bystander@example.test") if state == "other_creator" else user,
            revoked_at=now - timedelta(seconds=1) if state == "revoked" else None,
            expires_at=now - timedelta(seconds=1) if state == "expired" else now + timedelta(days=1),
        )
        for perm in ALL_PERMS:
            for org in orgs:
                through_key = can(user, perm, org, api_key=key)
                allowed = state == "usable" and org == key.org and can(user, perm, org) and perm in scopes
                assert through_key == allowed, (perm, org.slug, state)
            assert set(visible_orgs(user, perm, api_key=key)) == {
                org for org in orgs if can(user, perm, org, api_key=key)
            }
        transaction.set_rollback(True)
