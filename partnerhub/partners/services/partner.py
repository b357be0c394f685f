"""An approved partner's own settings: its profile and its staff's partner permissions (DESIGN §2, §3).

Staff rights are the five ``partner.*`` permissions, stored as extra permissions of the membership,
plus the limitation to assigned customers (``Membership.assigned_customers_only`` and
``partnerships.StaffAssignment``). Anti-escalation is the organisations area's rule: nobody touches
someone ranked above them, and nobody grants or takes away a permission they do not hold themselves;
someone limited to assigned customers neither lifts that limit for others nor assigns customers
outside their own assignment.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator, validate_email
from django.db import transaction
from django.http import Http404
from django.utils.translation import gettext as _

from partnerhub.access.checks import require
from partnerhub.access.perms import PARTNER_PERMS, Perm, Role
from partnerhub.access.policy import Actor
from partnerhub.audit.services import record
from partnerhub.core.errors import ServiceError
from partnerhub.orgs import queries as org_queries
from partnerhub.orgs import services as org_services
from partnerhub.orgs.models import Membership, Organisation
from partnerhub.partners.models import PartnerProfile
from partnerhub.partnerships.models import Partnership, PartnershipStatus, StaffAssignment

PROFILE_LIMITS = {
    "company_name": 200,
    "register_number": 60,
    "country": 2,
    "website": 200,
    "description": 2000,
    "contact_email": 254,
    "contact_phone": 40,
}


# --- the profile ----------------------------------------------------------------------------------


def profile_of(org: Organisation) -> PartnerProfile:
    """The partner's profile; 404 for an organisation that is not a partner (or has none)."""
    profile = PartnerProfile.objects.filter(org=org).first() if org.is_partner else None
    if profile is None:
        raise Http404
    return profile


def _profile_state(profile: PartnerProfile) -> dict[str, Any]:
    return {name: getattr(profile, name) for name in (*PROFILE_LIMITS, "listed_in_directory")}


def _clean_profile(changes: dict[str, Any]) -> dict[str, Any]:
    errors: dict[str, str] = {}
    cleaned: dict[str, Any] = {}
    for name, value in changes.items():
        if name == "listed_in_directory":
            cleaned[name] = bool(value)
            continue
        if name not in PROFILE_LIMITS:
            raise TypeError(f"not a profile field: {name}")
        text = str(value or "").strip()
        if len(text) > PROFILE_LIMITS[name]:
            errors[name] = _("Use at most %(max)s characters.") % {"max": PROFILE_LIMITS[name]}
        cleaned[name] = text
    for name in ("company_name", "country", "contact_email"):
        if name in cleaned and not cleaned[name]:
            errors[name] = _("This field is required.")
    if cleaned.get("country"):
        cleaned["country"] = cleaned["country"].upper()
        if not (len(cleaned["country"]) == 2 and cleaned["country"].isalpha()):
            errors["country"] = _("Enter the two-letter country code, e.g. CH.")
    for name, check, message in (
        ("website", URLValidator(schemes=["http", "https"]), _("Enter the full address, e.g. https://example.com.")),
        ("contact_email", validate_email, _("Enter a valid email address.")),
    ):
        if cleaned.get(name) and name not in errors:
            try:
                check(cleaned[name])
            except ValidationError:
                errors[name] = message
    if errors:
        raise ServiceError(errors)
    return cleaned


def update_profile(actor: Actor, *, org: Organisation, **changes: Any) -> PartnerProfile:
    """Change the partner's company data, description, contact and directory opt-in; partner.portal.manage.

    Fields left out keep their value; the affiliate code never changes here.
    """
    require(actor, Perm.PARTNER_PORTAL_MANAGE, org)
    cleaned = _clean_profile(changes)
    with transaction.atomic():
        profile = PartnerProfile.objects.select_for_update().filter(pk=profile_of(org).pk).get()
        before = _profile_state(profile)
        for name, value in cleaned.items():
            setattr(profile, name, value)
        if _profile_state(profile) != before:
            profile.save(update_fields=list(cleaned))
            record(actor, "partner.profile_changed", org=org, obj=profile, before=before, after=_profile_state(profile))
    return profile


# --- staff --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StaffChange:
    """What to change on one staff member; None leaves that part as it is."""

    perms: Iterable[str] | None = None  # the partner permissions the member should hold
    assigned_customers_only: bool | None = None
    customer_ids: Iterable[int] | None = None  # the customers assigned (ids of customer organisations)


def active_customers(partner: Organisation) -> list[Organisation]:
    """The customers staff can be assigned to: those of the partner's active partnerships, by name."""
    ids = Partnership.objects.filter(partner=partner, status=PartnershipStatus.ACTIVE).values("customer_id")
    return list(Organisation.objects.filter(pk__in=ids).order_by("name", "id"))


def partner_perms_of(membership: Membership) -> frozenset[Perm]:
    """The partner permissions `membership` holds (by role or extra) on its partner organisation."""
    return org_queries.role_perms(membership.org, Role(membership.role), membership.extra) & PARTNER_PERMS


def role_partner_perms(membership: Membership) -> frozenset[Perm]:
    """The partner permissions `membership`'s role gives by itself (not changeable on the staff page)."""
    return org_queries.role_perms(membership.org, Role(membership.role)) & PARTNER_PERMS


def _parse_partner_perms(values: Iterable[str]) -> frozenset[Perm]:
    perms = org_services._parse_extras(values)
    other = perms - PARTNER_PERMS
    if other:
        raise ServiceError(
            _("Only partner permissions are set here: %(perms)s are not.")
            % {"perms": ", ".join(str(p) for p in org_queries.ordered(other))}
        )
    return perms


def _check_perms(actor: Actor, membership: Membership, wanted: frozenset[Perm]) -> list[str]:
    """The membership's new extra permissions; refused when the change touches what the actor lacks."""
    org = membership.org
    by_role = role_partner_perms(membership)
    kept_by_role = by_role - wanted
    if kept_by_role:
        raise ServiceError(
            _("These come with the role “%(role)s” and cannot be taken away here: %(perms)s.")
            % {
                "role": membership.get_role_display(),
                "perms": ", ".join(str(p.label) for p in org_queries.ordered(kept_by_role)),
            }
        )
    changed = partner_perms_of(membership) ^ wanted
    missing = changed - org_queries.actor_grantable(actor, org)
    if missing:
        labels = ", ".join(str(p.label) for p in org_queries.ordered(missing))
        raise ServiceError(_("You cannot grant permissions you do not hold yourself: %(perms)s.") % {"perms": labels})
    others = [p for p in membership.extra if p not in PARTNER_PERMS]
    return [str(p) for p in org_queries.ordered({*others, *(wanted - by_role)})]


def _actor_limit(actor: Actor, org: Organisation) -> set[int] | None:
    """The customers the actor is limited to on `org` (None: not limited)."""
    own = org_queries.membership_of(actor.user, org)
    if own is None or not own.assigned_customers_only:
        return None if own is not None else set()
    return set(StaffAssignment.objects.filter(membership=own).values_list("customer_id", flat=True))


def _staff_state(membership: Membership) -> dict[str, Any]:
    return {
        "user": membership.user.email,
        "partner_perms": [str(p) for p in org_queries.ordered(partner_perms_of(membership))],
        "assigned_customers_only": membership.assigned_customers_only,
        "customers": sorted(
            StaffAssignment.objects.filter(membership=membership).values_list("customer_id", flat=True)
        ),
    }


def _apply_assignments(membership: Membership, wanted: set[int], allowed: set[int] | None) -> None:
    current = set(StaffAssignment.objects.filter(membership=membership).values_list("customer_id", flat=True))
    eligible = {c.pk for c in active_customers(membership.org)}
    if wanted - eligible:
        raise ServiceError({"customers": _("Only customers with an active partnership can be assigned.")})
    if allowed is not None and (wanted ^ current) - allowed:
        raise ServiceError(
            {"customers": _("You are limited to your assigned customers: you cannot assign or unassign others.")}
        )
    StaffAssignment.objects.filter(membership=membership, customer_id__in=current - wanted).delete()
    StaffAssignment.objects.bulk_create(
        [StaffAssignment(membership=membership, customer_id=customer) for customer in sorted(wanted - current)]
    )


def update_staff(actor: Actor, *, membership: Membership, change: StaffChange) -> Membership:
    """Set a member's partner permissions, assigned-only switch and assigned customers; partner.portal.manage."""
    org = membership.org
    require(actor, Perm.PARTNER_PORTAL_MANAGE, org)
    wanted_perms = None if change.perms is None else _parse_partner_perms(change.perms)
    wanted_customers = None if change.customer_ids is None else {int(c) for c in change.customer_ids}
    with transaction.atomic():
        locked = Membership.objects.select_for_update().select_related("user", "org").get(pk=membership.pk)
        org_services._check_rank_over(actor, org, locked.role)
        before = _staff_state(locked)
        limit = _actor_limit(actor, org)
        if wanted_perms is not None:
            locked.extra_perms = _check_perms(actor, locked, wanted_perms)
        if (
            change.assigned_customers_only is not None
            and locked.assigned_customers_only != change.assigned_customers_only
        ):
            if limit is not None and not change.assigned_customers_only:
                raise ServiceError(
                    _("You are limited to your assigned customers yourself, so you cannot lift that limit for others.")
                )
            locked.assigned_customers_only = change.assigned_customers_only
        locked.save(update_fields=["extra_perms", "assigned_customers_only"])
        if wanted_customers is not None:
            _apply_assignments(locked, wanted_customers, limit)
        after = _staff_state(locked)
        if after != before:
            record(actor, "partner.staff_changed", org=org, obj=locked, before=before, after=after)
    return locked
