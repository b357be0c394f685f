"""The single access rule (DESIGN §5) in both shapes: a yes/no answer and a queryset.

    may(user, perm, customer, product=None) ⇔
         user is a direct member of customer whose own permissions include perm
      ∨ (partner grant branch: delegated-access issue)
      ∨ (operator support branch: delegated-access issue)

Today only the first branch exists; the other two are added here, and only here. Nothing is cached
beyond the current call, so a removed member or revoked key is refused on the very next request.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.db.models import QuerySet

from partnerhub.access.perms import (
    ROLE_OPERATOR_PERMS,
    ROLE_PARTNER_PERMS,
    ROLE_PERMS,
    Perm,
    Role,
    parse_perms,
)

if TYPE_CHECKING:
    from partnerhub.accounts.models import User
    from partnerhub.api.models import ApiKey
    from partnerhub.orgs.models import Membership, Organisation


@dataclass(frozen=True)
class Actor:
    """Who acts: the real user, plus how they reached us (API key, address)."""

    user: User
    api_key: ApiKey | None = None
    ip: str | None = None
    user_agent: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def system(cls, user: User) -> Actor:
        return cls(user=user)


def role_perms(role: str, extra: Iterable[str], *, is_partner: bool, is_operator: bool) -> frozenset[Perm]:
    """A membership's own permissions: the role's set, its side sets, and the extra permissions.

    Extra permissions count only on their own side: partner.* on a partner, operator.* on the operator.
    """
    held = Role(role)
    perms = set(ROLE_PERMS[held])
    sides = {"own"}
    if is_partner:
        perms |= ROLE_PARTNER_PERMS[held]
        sides.add("partner")
    if is_operator:
        perms |= ROLE_OPERATOR_PERMS[held]
        sides.add("operator")
    perms |= {p for p in parse_perms(list(extra)) if p.side in sides}
    return frozenset(perms)


def membership_perms(membership: Membership) -> frozenset[Perm]:
    """The permissions one membership carries on its organisation."""
    org = membership.org
    return role_perms(membership.role, membership.extra_perms, is_partner=org.is_partner, is_operator=org.is_operator)


def _active(user: User) -> bool:
    return bool(user.is_authenticated and user.is_active)


def perms_for(user: User, org: Organisation, *, api_key: ApiKey | None = None) -> frozenset[Perm]:
    """Everything `user` may do on `org` right now (through an API key: the key's subset of it)."""
    from partnerhub.orgs.models import Membership

    if not _active(user):
        return frozenset()
    # One indexed lookup, no ORDER BY: this runs on every request.
    rows = list(Membership.objects.filter(user_id=user.pk, org_id=org.pk).values_list("role", "extra_perms")[:1])
    if not rows:
        return frozenset()
    role, extra = rows[0]
    perms = role_perms(role, extra, is_partner=org.is_partner, is_operator=org.is_operator)
    if api_key is not None:
        if not api_key.is_usable or api_key.org_id != org.pk or api_key.created_by_id != user.pk:
            return frozenset()
        perms = perms & api_key.perms
    return perms


def can(user: User, perm: Perm, org: Organisation, *, product: Any = None, api_key: ApiKey | None = None) -> bool:
    """True when `user` holds `perm` on `org` (and, later, on `product`) at this moment."""
    return perm in perms_for(user, org, api_key=api_key)


def may_see(user: User, org: Organisation, *, api_key: ApiKey | None = None) -> bool:
    """True when `org` exists for `user` at all; otherwise it is answered with 404."""
    return bool(perms_for(user, org, api_key=api_key))


def visible_orgs(user: User, perm: Perm = Perm.ORG_VIEW, *, api_key: ApiKey | None = None) -> QuerySet[Organisation]:
    """The organisations on which `user` holds `perm`, in two queries whatever their number (for lists)."""
    from partnerhub.orgs.models import Membership, Organisation

    if not _active(user):
        return Organisation.objects.none()
    if api_key is not None and (perm not in api_key.perms or not api_key.is_usable or api_key.created_by_id != user.pk):
        return Organisation.objects.none()
    rows = Membership.objects.filter(user_id=user.pk)
    if api_key is not None:
        rows = rows.filter(org_id=api_key.org_id)
    ids = [
        org_id
        for org_id, role, extra, is_partner, is_operator in rows.values_list(
            "org_id", "role", "extra_perms", "org__is_partner", "org__is_operator"
        )
        if perm in role_perms(role, extra, is_partner=is_partner, is_operator=is_operator)
    ]
    return Organisation.objects.filter(pk__in=ids)


def grantable_perms(user: User, org: Organisation) -> frozenset[Perm]:
    """Anti-escalation: what `user` may hand out on `org` is what they hold there themselves."""
    return perms_for(user, org)
