"""Operator support access (the customer lets the vendor's support staff in for 1–14 days) and VIP codes.

At most one support access is in force per customer: granting again replaces the one in force (its
sessions go on under the new one), revoking ends it and the sessions resting on it at once.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from partnerhub.access.checks import actor_access, require
from partnerhub.access.operator import require_operator
from partnerhub.access.perms import Perm
from partnerhub.access.policy import DELEGABLE_PERMS, Actor
from partnerhub.accounts.models import SUPPORT_CODE_ALPHABET
from partnerhub.audit.services import record
from partnerhub.core.errors import ServiceError
from partnerhub.delegation.models import SUPPORT_ACCESS_MAX_DAYS, SUPPORT_ACCESS_MIN_DAYS, SupportAccess
from partnerhub.delegation.services.sessions import end_sessions_of_support_access
from partnerhub.orgs.models import Organisation

NOTE_MAX_LENGTH = 500
VIP_CODE_LENGTH = 8
# The code space is 32^8: a clash is rare, a few attempts always find a free code.
VIP_CODE_ATTEMPTS = 5
# The ServiceError code of a support access that is no longer in force (the API answers 409).
NOT_IN_FORCE = "not_in_force"


def _support_state(support: SupportAccess) -> dict[str, Any]:
    return {
        "scopes": sorted(support.scopes),
        "note": support.note,
        "valid_until": support.valid_until,
        "revoked_at": support.revoked_at,
    }


def _parse_scopes(values: Iterable[str]) -> frozenset[Perm]:
    known = {p.value for p in Perm}
    names = {str(v) for v in values}
    unknown = sorted(names - known)
    if unknown:
        raise ServiceError(_("Unknown permissions: %(perms)s.") % {"perms": ", ".join(unknown)})
    scopes = frozenset(Perm(v) for v in names)
    not_delegable = scopes - DELEGABLE_PERMS
    if not_delegable:
        labels = ", ".join(sorted(str(p.label) for p in not_delegable))
        raise ServiceError(_("These permissions cannot be given to support: %(perms)s.") % {"perms": labels})
    return scopes


def grant_support_access(
    actor: Actor,
    *,
    customer: Organisation,
    days: int,
    note: str = "",
    scopes: Iterable[str] = DELEGABLE_PERMS,
) -> SupportAccess:
    """Let operator support staff act in `customer` for `days` (1–14) with `scopes` (``providers.manage``).

    Anti-escalation: only permissions the granting person holds themselves. A support access in
    force is replaced.
    """
    require(actor, Perm.PROVIDERS_MANAGE, customer)
    if customer.is_operator:
        raise ServiceError(_("The operator's own staff need no support access to their organisation."))
    if not SUPPORT_ACCESS_MIN_DAYS <= days <= SUPPORT_ACCESS_MAX_DAYS:
        raise ServiceError(
            _("Support access lasts from %(min)d to %(max)d days.")
            % {"min": SUPPORT_ACCESS_MIN_DAYS, "max": SUPPORT_ACCESS_MAX_DAYS}
        )
    note = note.strip()
    if len(note) > NOTE_MAX_LENGTH:
        raise ServiceError(_("The note can be at most %(max)d characters long.") % {"max": NOTE_MAX_LENGTH})
    wanted = _parse_scopes(scopes)
    missing = wanted - actor_access(actor, customer).perms
    if missing:
        labels = ", ".join(sorted(str(p.label) for p in missing))
        raise ServiceError(_("You cannot grant permissions you do not hold yourself: %(perms)s.") % {"perms": labels})
    now = timezone.now()
    with transaction.atomic():
        # Serialises grants for one customer: at most one support access in force.
        Organisation.objects.select_for_update().filter(pk=customer.pk).first()
        replaced = list(SupportAccess.objects.select_for_update().in_force().filter(customer=customer))
        for old in replaced:
            old.revoked_at = now
            old.revoked_by = actor.user
            old.save(update_fields=["revoked_at", "revoked_by"])
        support = SupportAccess.objects.create(
            customer=customer,
            scopes=sorted(p.value for p in wanted),
            note=note,
            granted_by=actor.user,
            granted_at=now,
            valid_until=now + timedelta(days=days),
        )
        before = _support_state(replaced[0]) if replaced else None
        after = {**_support_state(support), "days": days}
        record(actor, "support_access.granted", org=customer, obj=support, before=before, after=after)
    return support


def revoke_support_access(actor: Actor, *, support: SupportAccess) -> SupportAccess:
    """End `support` at once (``providers.manage`` on its customer); sessions resting on it end too."""
    customer = support.customer
    require(actor, Perm.PROVIDERS_MANAGE, customer)
    now = timezone.now()
    with transaction.atomic():
        locked = SupportAccess.objects.select_for_update().get(pk=support.pk)
        if not locked.is_in_force:
            raise ServiceError(_("This support access has already ended."), code=NOT_IN_FORCE)
        before = _support_state(locked)
        locked.revoked_at = now
        locked.revoked_by = actor.user
        locked.save(update_fields=["revoked_at", "revoked_by"])
        record(actor, "support_access.revoked", org=customer, obj=locked, before=before, after=_support_state(locked))
        end_sessions_of_support_access(actor, locked, now=now)
    return locked


# --- VIP codes ------------------------------------------------------------------------------------------


def new_vip_code() -> str:
    return "".join(secrets.choice(SUPPORT_CODE_ALPHABET) for _ in range(VIP_CODE_LENGTH))


def assign_vip_code(actor: Actor, *, customer: Organisation) -> Organisation:
    """Give `customer` a new VIP code for premium support (``operator.support.access``)."""
    operator = require_operator(actor, Perm.OPERATOR_SUPPORT_ACCESS)
    if customer.is_operator:
        raise ServiceError(_("The operator organisation does not get a VIP code."))
    with transaction.atomic():
        locked = Organisation.objects.select_for_update().get(pk=customer.pk)
        before = {"vip_code": locked.vip_code}
        for attempt in range(VIP_CODE_ATTEMPTS):
            locked.vip_code = new_vip_code()
            try:
                with transaction.atomic():
                    locked.save(update_fields=["vip_code"])
                break
            except IntegrityError:
                if attempt == VIP_CODE_ATTEMPTS - 1:
                    raise
        after = {"vip_code": locked.vip_code}
        record(actor, "vip_code.assigned", org=locked, obj=locked, before=before, after=after)
        record(actor, "vip_code.assigned", org=operator, obj=locked, before=before, after=after)
    return locked


def remove_vip_code(actor: Actor, *, customer: Organisation) -> Organisation:
    """Take `customer`'s VIP code away (``operator.support.access``)."""
    operator = require_operator(actor, Perm.OPERATOR_SUPPORT_ACCESS)
    with transaction.atomic():
        locked = Organisation.objects.select_for_update().get(pk=customer.pk)
        if locked.vip_code is None:
            raise ServiceError(_("%(org)s has no VIP code.") % {"org": locked.name}, code=NOT_IN_FORCE)
        before = {"vip_code": locked.vip_code}
        locked.vip_code = None
        locked.save(update_fields=["vip_code"])
        record(actor, "vip_code.removed", org=locked, obj=locked, before=before, after={"vip_code": None})
        record(actor, "vip_code.removed", org=operator, obj=locked, before=before, after={"vip_code": None})
    return locked
