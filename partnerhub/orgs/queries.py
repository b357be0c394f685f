"""Reads of the organisations area: members, invitations, and what an actor may hand out."""

from __future__ import annotations

from collections.abc import Iterable

from allauth.account.models import EmailAddress
from django.db.models import QuerySet
from django.http import Http404

from partnerhub.access import policy
from partnerhub.access.checks import actor_access, resolve_org
from partnerhub.access.perms import ROLE_RANK, Perm, Role
from partnerhub.access.policy import Actor
from partnerhub.accounts.models import User
from partnerhub.orgs.models import Invitation, Membership, Organisation

PERM_ORDER = {perm: index for index, perm in enumerate(Perm)}


def ordered(perms: Iterable[Perm]) -> list[Perm]:
    """Permissions in vocabulary order (for display)."""
    return sorted(perms, key=PERM_ORDER.__getitem__)


def role_perms(org: Organisation, role: Role, extra: Iterable[Perm] = ()) -> frozenset[Perm]:
    """What a membership with `role` (and `extra`) would hold on `org`, by the one access rule."""
    return policy.role_perms(
        role,
        [str(p) for p in extra],
        is_partner=org.is_partner,
        is_operator=org.is_operator,
        is_affiliate=org.is_affiliate,
    )


def membership_of(user: User, org: Organisation) -> Membership | None:
    if not user.is_authenticated:
        return None
    return Membership.objects.filter(user=user, org=org).first()


def actor_rank(actor: Actor, org: Organisation) -> int:
    """The actor's role rank on `org`.

    Someone who manages members without being a member (delegated access) ranks as a plain
    member: they never appoint or touch admins and owners of an organisation they do not belong to.
    """
    membership = membership_of(actor.user, org)
    if membership is None or actor.session_id is not None:
        # Inside a management session the user's own role does not count, only what was delegated.
        return ROLE_RANK[Role.MEMBER]
    return ROLE_RANK[Role(membership.role)]


def actor_grantable(actor: Actor, org: Organisation) -> frozenset[Perm]:
    """Anti-escalation: what the actor holds on `org` (through an API key: also what the key holds)."""
    return actor_access(actor, org).perms


def grantable_roles(actor: Actor, org: Organisation) -> list[Role]:
    """Roles the actor may give: not above their own rank and carrying nothing they lack."""
    rank = actor_rank(actor, org)
    grantable = actor_grantable(actor, org)
    return [role for role in Role if ROLE_RANK[role] <= rank and role_perms(org, role) <= grantable]


def offerable_extras(actor: Actor, org: Organisation) -> list[Perm]:
    """Extra permissions worth offering: grantable ones the smallest role does not already give."""
    return ordered(actor_grantable(actor, org) - role_perms(org, Role.MEMBER))


def members(org: Organisation) -> QuerySet[Membership]:
    """The members of `org` (the caller resolved access to `org`), oldest first."""
    return Membership.objects.filter(org=org).select_related("user", "org").order_by("created_at", "id")


def open_invitations(org: Organisation) -> QuerySet[Invitation]:
    """Invitations of `org` neither accepted nor cancelled (expired ones included, they can be resent)."""
    return (
        Invitation.objects.filter(org=org, accepted_at=None, cancelled_at=None)
        .select_related("invited_by")
        .order_by("-sent_at", "-id")
    )


def membership_in(org: Organisation, membership_id: int) -> Membership:
    """A membership of `org`; any other id (missing or another organisation's) is a 404."""
    membership = members(org).filter(pk=membership_id).first()
    if membership is None:
        raise Http404
    return membership


def invitation_in(org: Organisation, invitation_id: int) -> Invitation:
    """An invitation of `org`; any other id is a 404."""
    invitation = Invitation.objects.filter(org=org, pk=invitation_id).select_related("org").first()
    if invitation is None:
        raise Http404
    return invitation


def invitation_by_token(token: str) -> Invitation | None:
    """The invitation a link points to, whatever its state (the page explains used or expired links)."""
    return (
        Invitation.objects.select_related("org", "invited_by").filter(token_hash=Invitation.hash_token(token)).first()
    )


def has_verified_email(user: User, email: str) -> bool:
    """True when `email` is one of the user's verified addresses."""
    found: bool = EmailAddress.objects.filter(user=user, email__iexact=email, verified=True).exists()
    return found


def visible_org(actor: Actor, slug: str) -> Organisation:
    """The organisation with `slug` if the actor can see it; otherwise 404."""
    return resolve_org(actor.user, slug, api_key=actor.api_key)[0]
