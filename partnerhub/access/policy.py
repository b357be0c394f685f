"""The single access rule (DESIGN §5) in both shapes: a yes/no answer and a queryset.

    may(user, perm, customer, product=None) ⇔
         user is a direct member of customer whose own permissions include perm
      ∨ (partner grant branch: delegated-access issue)
      ∨ (operator support branch: delegated-access issue)

Today only the first branch exists; the other two are added here, and only here. Nothing is cached
beyond the current call, so a removed member or revoked key is refused on the very next request.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.db.models import QuerySet

from partnerhub.access.perms import (
    ROLE_OPERATOR_PERMS,
    ROLE_PARTNER_PERMS,
    ROLE_PERMS,
    Perm,
    Role,
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


def membership_perms(membership: Membership) -> frozenset[Perm]:
    """A membership's own permissions: the role's set, its side sets, and the extra permissions."""
    role = Role(membership.role)
    perms = set(ROLE_PERMS[role])
    org = membership.org
    if org.is_partner:
        perms |= ROLE_PARTNER_PERMS[role]
    if org.is_operator:
        perms |= ROLE_OPERATOR_PERMS[role]
    # Extra permissions count only on their own side: partner.* on a partner, operator.* on the operator.
    sides = {"own"} | ({"partner"} if org.is_partner else set()) | ({"operator"} if org.is_operator else set())
    perms |= {p for p in membership.extra if p.side in sides}
    return frozenset(perms)


def _membership(user: User, org: Organisation) -> Membership | None:
    from partnerhub.orgs.models import Membership

    if not user.is_authenticated or not user.is_active:
        return None
    return Membership.objects.select_related("org").filter(user=user, org=org).first()


def perms_for(user: User, org: Organisation, *, api_key: ApiKey | None = None) -> frozenset[Perm]:
    """Everything `user` may do on `org` right now (through an API key: the key's subset of it)."""
    membership = _membership(user, org)
    perms = membership_perms(membership) if membership else frozenset()
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
    """The organisations on which `user` holds `perm`, as one query (for list pages)."""
    from partnerhub.orgs.models import Membership, Organisation

    if not user.is_authenticated or not user.is_active:
        return Organisation.objects.none()
    memberships = Membership.objects.filter(user=user).select_related("org")
    if api_key is not None:
        memberships = memberships.filter(org_id=api_key.org_id)
    ids = [m.org_id for m in memberships if perm in membership_perms(m)]
    if api_key is not None and (perm not in api_key.perms or not api_key.is_usable or api_key.created_by_id != user.pk):
        ids = []
    return Organisation.objects.filter(pk__in=ids)


def grantable_perms(user: User, org: Organisation) -> frozenset[Perm]:
    """Anti-escalation: what `user` may hand out on `org` is what they hold there themselves."""
    return perms_for(user, org)
