"""Every write of the organisations area (DESIGN §2): organisations, members, invitations.

Each service checks access itself through partnerhub.access (callers are not trusted), runs in one
transaction, records an audit entry in it and sends emails once it commits.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_email, validate_slug
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from partnerhub.access.checks import require, require_login
from partnerhub.access.perms import ROLE_RANK, Perm, Role
from partnerhub.access.policy import Actor, may_see
from partnerhub.accounts.models import User
from partnerhub.audit.services import record
from partnerhub.core.errors import ServiceError
from partnerhub.core.mail import send_templated_mail
from partnerhub.orgs import queries
from partnerhub.orgs.models import INVITATION_VALIDITY, Invitation, Membership, Organisation

SLUG_MAX_LENGTH = 60
# The ServiceError code of a slug another organisation already has (the API answers it with 409).
SLUG_TAKEN = "slug_taken"


# --- parsing (access is checked with partnerhub.access.checks) ------------------------------------


def _parse_role(role: str) -> Role:
    if role not in Role.values:
        raise ServiceError(_("Unknown role “%(role)s”.") % {"role": role})
    return Role(role)


def _parse_extras(values: Iterable[str]) -> frozenset[Perm]:
    known = {p.value for p in Perm}
    unknown = sorted(str(v) for v in values if v not in known)
    if unknown:
        raise ServiceError(_("Unknown permissions: %(perms)s.") % {"perms": ", ".join(unknown)})
    return frozenset(Perm(v) for v in values)


def _check_grant(actor: Actor, org: Organisation, role: Role, extras: frozenset[Perm]) -> list[str]:
    """Anti-escalation: the role is not above the actor's and confers nothing they lack.

    Returns the extras worth storing (those the role does not already give), sorted.
    """
    if ROLE_RANK[role] > queries.actor_rank(actor, org):
        raise ServiceError(_("You cannot give the role “%(role)s”: it is above your own.") % {"role": role.label})
    # Extras that do not apply on this organisation's side are never held here, so they count as missing.
    conferred = queries.role_perms(org, role, extras) | extras
    missing = conferred - queries.actor_grantable(actor, org)
    if missing:
        labels = ", ".join(str(p.label) for p in queries.ordered(missing))
        raise ServiceError(_("You cannot grant permissions you do not hold yourself: %(perms)s.") % {"perms": labels})
    return [str(p) for p in queries.ordered(extras - queries.role_perms(org, role))]


def _check_rank_over(actor: Actor, org: Organisation, role: str) -> None:
    if ROLE_RANK[Role(role)] > queries.actor_rank(actor, org):
        raise ServiceError(_("You cannot change or remove someone whose role is above yours."))


def _lock_owners(org: Organisation) -> list[Membership]:
    return list(Membership.objects.select_for_update().filter(org=org, role=Role.OWNER))


def _check_not_last_owner(membership: Membership, message: str) -> None:
    owners = _lock_owners(membership.org)
    if membership.role == Role.OWNER and len(owners) <= 1:
        raise ServiceError(message)


def _clear_active_org(user_id: int, org: Organisation) -> None:
    User.objects.filter(pk=user_id, active_org=org).update(active_org=None)


def _org_state(org: Organisation) -> dict[str, Any]:
    return {
        "name": org.name,
        "slug": org.slug,
        "country": org.country,
        "website": org.website,
        "billing_email": org.billing_email,
    }


def _membership_state(membership: Membership) -> dict[str, Any]:
    return {"user": membership.user.email, "role": membership.role, "extra_perms": list(membership.extra_perms)}


def _invitation_state(invitation: Invitation) -> dict[str, Any]:
    return {
        "email": invitation.email,
        "role": invitation.role,
        "extra_perms": list(invitation.extra_perms),
        "expires_at": invitation.expires_at,
    }


# --- organisations ---------------------------------------------------------------------------------


def _unique_slug(name: str) -> str:
    base = slugify(name)[: SLUG_MAX_LENGTH - 4].strip("-") or "org"
    taken = set(
        Organisation.objects.filter(Q(slug=base) | Q(slug__startswith=f"{base}-")).values_list("slug", flat=True)
    )
    if base not in taken:
        return base
    suffix = 2
    while f"{base}-{suffix}" in taken:
        suffix += 1
    return f"{base}-{suffix}"


def create_organisation(actor: Actor, *, name: str, slug: str | None = None) -> Organisation:
    """Any logged-in user may create an organisation; they become its owner and work in it next."""
    require_login(actor)
    if actor.api_key is not None:
        # A key is scoped to one organisation; it does not found new ones.
        raise PermissionDenied
    name = name.strip()
    if not name:
        raise ServiceError(_("Enter a name for the organisation."))
    if slug:
        slug = slug.strip().lower()
        try:
            validate_slug(slug)
        except ValidationError as exc:
            raise ServiceError(_("The short name may only contain letters, digits, hyphens and underscores.")) from exc
    with transaction.atomic():
        slug = slug or _unique_slug(name)
        try:
            with transaction.atomic():
                org = Organisation.objects.create(name=name[:200], slug=slug)
        except IntegrityError as exc:
            raise ServiceError(
                _("The short name “%(slug)s” is already taken.") % {"slug": slug}, code=SLUG_TAKEN
            ) from exc
        Membership.objects.create(user=actor.user, org=org, role=Role.OWNER)
        actor.user.active_org = org
        actor.user.save(update_fields=["active_org"])
        record(actor, "org.created", org=org, obj=org, after=_org_state(org))
        # A founder who arrived through a referral link binds the organisation to that affiliate.
        from partnerhub.affiliates.services.binding import bind_new_organisation

        bind_new_organisation(actor, org)
    return org


def update_organisation(
    actor: Actor, *, org: Organisation, name: str, country: str, website: str, billing_email: str
) -> Organisation:
    """Change the organisation's settings; needs org.settings.manage."""
    require(actor, Perm.ORG_SETTINGS_MANAGE, org)
    with transaction.atomic():
        locked = Organisation.objects.select_for_update().get(pk=org.pk)
        before = _org_state(locked)
        locked.name = name.strip()
        locked.country = country.strip().upper()
        locked.website = website.strip()
        locked.billing_email = billing_email.strip()
        fields = ["name", "country", "website", "billing_email"]
        locked.full_clean(exclude=[f.name for f in Organisation._meta.fields if f.name not in fields])
        if _org_state(locked) != before:
            locked.save(update_fields=fields)
            record(actor, "org.updated", org=locked, obj=locked, before=before, after=_org_state(locked))
    return locked


def switch_organisation(actor: Actor, *, org: Organisation) -> None:
    """Remember `org` as the user's working organisation; they must be able to see it.

    Not audited: this is the user's own navigation preference, not a change to the organisation.
    """
    require_login(actor)
    if not may_see(actor.user, org, api_key=actor.api_key):
        raise Http404
    if actor.user.active_org_id != org.pk:
        actor.user.active_org = org
        actor.user.save(update_fields=["active_org"])


# --- invitations -----------------------------------------------------------------------------------


def _renew_token(invitation: Invitation) -> str:
    token = Invitation.new_token()
    now = timezone.now()
    invitation.token_hash = Invitation.hash_token(token)
    invitation.sent_at = now
    invitation.expires_at = now + INVITATION_VALIDITY
    return token


def accept_url(token: str) -> str:
    return settings.SITE_URL + reverse("invitation_accept", kwargs={"token": token})


def _send_invitation(actor: Actor, invitation: Invitation, token: str) -> None:
    # The recipient may have no account yet: then the inviter's language is the best guess.
    recipient = User.objects.filter(email__iexact=invitation.email).only("language").first()
    language = recipient.language if recipient else actor.user.language
    send_templated_mail(
        template="orgs/email/invitation",
        to=[invitation.email],
        context={
            "invitation": invitation,
            "org_name": invitation.org.name,
            "inviter_name": actor.user.display_name,
            "accept_url": accept_url(token),
        },
        language=language,
    )


def _is_member(org: Organisation, email: str) -> bool:
    return (
        Membership.objects.filter(org=org)
        .filter(Q(user__email__iexact=email) | Q(user__emailaddress__email__iexact=email))
        .exists()
    )


def invite_member(
    actor: Actor, *, org: Organisation, email: str, role: str, extra_perms: Iterable[str]
) -> tuple[Invitation, str]:
    """Invite `email` with a role and extras the actor may grant; an open invitation is renewed.

    Returns the invitation and the raw token (only its hash is stored).
    """
    require(actor, Perm.MEMBERS_MANAGE, org)
    email = email.strip().lower()
    try:
        validate_email(email)
    except ValidationError as exc:
        raise ServiceError(_("Enter a valid email address.")) from exc
    parsed_role = _parse_role(role)
    extras = _check_grant(actor, org, parsed_role, _parse_extras(extra_perms))
    with transaction.atomic():
        if _is_member(org, email):
            raise ServiceError(_("%(email)s is already a member of this organisation.") % {"email": email})
        invitation = (
            Invitation.objects.select_for_update()
            .filter(org=org, email__iexact=email, accepted_at=None, cancelled_at=None)
            .first()
        )
        action = "invitation.renewed"
        before = _invitation_state(invitation) if invitation else None
        if invitation is None:
            action = "invitation.created"
            invitation = Invitation(org=org, email=email)
        invitation.role = parsed_role
        invitation.extra_perms = extras
        invitation.invited_by = actor.user
        token = _renew_token(invitation)
        try:
            with transaction.atomic():
                invitation.save()
        except IntegrityError as exc:
            # Another request invited the same address a moment ago.
            raise ServiceError(_("An invitation for %(email)s was just sent.") % {"email": email}) from exc
        record(actor, action, org=org, obj=invitation, before=before, after=_invitation_state(invitation))
        _send_invitation(actor, invitation, token)
    return invitation, token


def _lock_open_invitation(invitation: Invitation) -> Invitation:
    locked = Invitation.objects.select_for_update().select_related("org").get(pk=invitation.pk)
    if locked.accepted_at is not None:
        raise ServiceError(_("This invitation has already been accepted."))
    if locked.cancelled_at is not None:
        raise ServiceError(_("This invitation has been cancelled."))
    return locked


def resend_invitation(actor: Actor, *, invitation: Invitation) -> tuple[Invitation, str]:
    """Send a pending (or expired) invitation again with a new link valid for another 7 days."""
    require(actor, Perm.MEMBERS_MANAGE, invitation.org)
    with transaction.atomic():
        locked = _lock_open_invitation(invitation)
        # Re-issuing a link hands out its role again: the same anti-escalation applies.
        _check_grant(actor, locked.org, Role(locked.role), locked.extra)
        before = _invitation_state(locked)
        token = _renew_token(locked)
        locked.invited_by = actor.user
        locked.save(update_fields=["token_hash", "sent_at", "expires_at", "invited_by"])
        record(actor, "invitation.resent", org=locked.org, obj=locked, before=before, after=_invitation_state(locked))
        _send_invitation(actor, locked, token)
    return locked, token


def cancel_invitation(actor: Actor, *, invitation: Invitation) -> Invitation:
    """Withdraw an open invitation; its link stops working at once."""
    require(actor, Perm.MEMBERS_MANAGE, invitation.org)
    with transaction.atomic():
        locked = _lock_open_invitation(invitation)
        _check_rank_over(actor, locked.org, locked.role)
        locked.cancelled_at = timezone.now()
        locked.save(update_fields=["cancelled_at"])
        record(actor, "invitation.cancelled", org=locked.org, obj=locked, before=_invitation_state(locked))
    return locked


def accept_invitation(actor: Actor, *, token: str) -> Membership:
    """The logged-in user joins through a pending invitation sent to one of their verified addresses."""
    require_login(actor)
    if actor.api_key is not None:
        raise PermissionDenied
    user = actor.user
    with transaction.atomic():
        # The row lock makes the link single-use even when it is clicked twice at the same moment.
        invitation = (
            Invitation.objects.select_for_update()
            .select_related("org")
            .filter(token_hash=Invitation.hash_token(token))
            .first()
        )
        if invitation is None:
            raise Http404
        status = invitation.status
        if status == "accepted":
            raise ServiceError(_("This invitation has already been used."))
        if status == "cancelled":
            raise ServiceError(_("This invitation has been cancelled."))
        if status == "expired":
            raise ServiceError(_("This invitation has expired. Ask for a new one."))
        if not queries.has_verified_email(user, invitation.email):
            raise ServiceError(
                _(
                    "This invitation was sent to %(email)s. Log in with that address, or add and verify it "
                    "in your account, then open the link again."
                )
                % {"email": invitation.email}
            )
        org = invitation.org
        try:
            with transaction.atomic():
                membership = Membership.objects.create(
                    user=user, org=org, role=invitation.role, extra_perms=list(invitation.extra_perms)
                )
        except IntegrityError as exc:
            raise ServiceError(_("You are already a member of %(org)s.") % {"org": org.name}) from exc
        invitation.accepted_at = timezone.now()
        invitation.accepted_by = user
        invitation.save(update_fields=["accepted_at", "accepted_by"])
        user.active_org = org
        user.save(update_fields=["active_org"])
        record(
            actor,
            "member.joined",
            org=org,
            obj=membership,
            after={**_membership_state(membership), "invitation": invitation.pk},
        )
    return membership


# --- members ---------------------------------------------------------------------------------------


def change_member(actor: Actor, *, membership: Membership, role: str, extra_perms: Iterable[str]) -> Membership:
    """Change a member's role and extras: not above the actor's rank, never demoting the last owner."""
    org = membership.org
    require(actor, Perm.MEMBERS_MANAGE, org)
    parsed_role = _parse_role(role)
    extras = _parse_extras(extra_perms)
    with transaction.atomic():
        locked = Membership.objects.select_for_update().select_related("user", "org").get(pk=membership.pk)
        _check_rank_over(actor, org, locked.role)
        stored_extras = _check_grant(actor, org, parsed_role, extras)
        if parsed_role != Role.OWNER:
            _check_not_last_owner(locked, _("The last owner cannot be demoted. Make someone else an owner first."))
        before = _membership_state(locked)
        locked.role = parsed_role
        locked.extra_perms = stored_extras
        if _membership_state(locked) != before:
            locked.save(update_fields=["role", "extra_perms"])
            record(actor, "member.changed", org=org, obj=locked, before=before, after=_membership_state(locked))
    return locked


def remove_member(actor: Actor, *, membership: Membership) -> None:
    """Remove a member: not above the actor's rank, never the last owner."""
    org = membership.org
    require(actor, Perm.MEMBERS_MANAGE, org)
    with transaction.atomic():
        locked = Membership.objects.select_for_update().select_related("user", "org").get(pk=membership.pk)
        _check_rank_over(actor, org, locked.role)
        _check_not_last_owner(locked, _("The last owner cannot be removed. Make someone else an owner first."))
        record(actor, "member.removed", org=org, obj=locked, before=_membership_state(locked))
        user_id = locked.user_id
        locked.delete()
        _clear_active_org(user_id, org)


def leave_organisation(actor: Actor, *, org: Organisation) -> None:
    """The actor leaves `org`; the last owner cannot leave. Not from inside a management session: there
    the user acts for a partner or support, and their own membership is not what is in play."""
    require_login(actor)
    if actor.session_id is not None:
        raise ServiceError(_("End the management session first: inside it you act for someone else."))
    with transaction.atomic():
        membership = (
            Membership.objects.select_for_update()
            .select_related("user", "org")
            .filter(user=actor.user, org=org)
            .first()
        )
        if membership is None:
            raise Http404
        _check_not_last_owner(
            membership, _("You are the last owner: make someone else an owner before leaving the organisation.")
        )
        record(actor, "member.left", org=org, obj=membership, before=_membership_state(membership))
        membership.delete()
        _clear_active_org(actor.user.pk, org)
        if actor.user.active_org_id == org.pk:
            actor.user.active_org = None
