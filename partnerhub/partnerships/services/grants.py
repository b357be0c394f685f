"""Changing the grant of an active partnership (DESIGN §5): every change is a version in the audit log.

Only the customer's members with ``providers.manage`` change grants (views and API also ask for the
password). The daily :func:`grant_maintenance` extends grants set to auto-extend and warns both sides
14 and 3 days before a grant ends.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from partnerhub.access.checks import require
from partnerhub.access.perms import Perm
from partnerhub.access.policy import Actor
from partnerhub.audit.services import record
from partnerhub.core.errors import ServiceError
from partnerhub.partnerships.models import (
    GRANT_WARNING_DAYS,
    MAX_GRANT_DAYS,
    Grant,
    GrantMode,
    Partnership,
    PartnershipStatus,
)
from partnerhub.partnerships.services import emails
from partnerhub.partnerships.services.common import (
    CONFLICT,
    GrantInput,
    apply_grant,
    check_grant_input,
    check_one_full,
    check_validity,
    grant_state,
    lock_customer,
    lock_partnership,
    partner_administrators,
    provider_managers,
)

MAX_RUN = timedelta(days=MAX_GRANT_DAYS)
# Grants set to auto-extend are extended by the daily run when they end within this time.
AUTO_EXTEND_WINDOW = timedelta(days=1)


def _lock_active(actor: Actor, partnership: Partnership) -> tuple[Partnership, Grant]:
    require(actor, Perm.PROVIDERS_MANAGE, partnership.customer)
    lock_customer(partnership.customer)
    locked = lock_partnership(partnership)
    if locked.status != PartnershipStatus.ACTIVE:
        raise ServiceError(_("The access of a partnership can only be changed while it is active."), code=CONFLICT)
    return locked, Grant.objects.select_for_update().get(pk=locked.grant.pk)


def change_grant(actor: Actor, partnership: Partnership, grant: GrantInput) -> Grant:
    """The customer (providers.manage) grants new access: a new version valid for its days from now;
    the partner is emailed when the payment means change."""
    with transaction.atomic():
        locked, current = _lock_active(actor, partnership)
        data = check_grant_input(locked.customer, grant)
        if data.mode == GrantMode.FULL:
            check_one_full(locked.customer, except_partnership=locked.pk)
        before = grant_state(current)
        apply_grant(current, data, by=actor.user, now=timezone.now())
        record(actor, "grant.changed", org=locked.customer, obj=locked, before=before, after=grant_state(current))
        if before["payment_means"] != current.payment_means:
            context = {
                **emails.base_context(locked, actor.user),
                "payment_means": emails.access_summary(
                    mode=current.mode,
                    scopes=(),
                    product_ids=(),
                    payment_means=current.payment_means,
                    validity_days=current.validity_days,
                )["payment_means"],
                "partner_pays": current.payment_means == "partner",
                "link": emails.partnerships_url(locked),
            }
            emails.send("payment_means_changed", partner_administrators(locked.partner, locked.customer), context)
    return current


def extend_grant(actor: Actor, partnership: Partnership, *, days: int) -> Grant:
    """The customer (providers.manage) extends the grant by `days` from its end (or from now when it
    ended); it never runs more than 730 days ahead. A revoked grant is granted again instead."""
    check_validity(days)
    with transaction.atomic():
        locked, current = _lock_active(actor, partnership)
        if current.revoked_at is not None:
            raise ServiceError(_("This access was revoked: grant it again instead of extending it."), code=CONFLICT)
        now = timezone.now()
        base = max(now, current.valid_until or now)
        until = base + timedelta(days=days)
        if until - now > MAX_RUN:
            left = max((now + MAX_RUN - base).days, 0)
            raise ServiceError(
                _("Access can run at most %(max)s days ahead: extend it by at most %(days)s days.")
                % {"max": MAX_GRANT_DAYS, "days": left}
            )
        before = grant_state(current)
        if current.valid_until is None or current.valid_until <= now:
            current.valid_from = now
        current.valid_until = until
        current.warned_days = []
        current.version += 1
        current.updated_at = now
        current.save(update_fields=["valid_from", "valid_until", "warned_days", "version", "updated_at"])
        record(actor, "grant.extended", org=locked.customer, obj=locked, before=before, after=grant_state(current))
    return current


def revoke_grant(actor: Actor, partnership: Partnership) -> Grant:
    """The customer (providers.manage) revokes the grant: it grants nothing from the next request on;
    the partnership stays active (and keeps its products) until it is ended or granted again."""
    with transaction.atomic():
        locked, current = _lock_active(actor, partnership)
        if current.revoked_at is not None:
            raise ServiceError(_("This access has already been revoked."), code=CONFLICT)
        before = grant_state(current)
        now = timezone.now()
        current.revoked_at = now
        current.revoked_by = actor.user
        current.version += 1
        current.updated_at = now
        current.save(update_fields=["revoked_at", "revoked_by", "version", "updated_at"])
        record(actor, "grant.revoked", org=locked.customer, obj=locked, before=before, after=grant_state(current))
    return current


# --- the daily run -----------------------------------------------------------------------------------------


def _in_force(now: datetime) -> Any:
    return Grant.objects.filter(partnership__status=PartnershipStatus.ACTIVE, revoked_at=None, valid_until__gt=now)


def _auto_extend(now: datetime) -> int:
    count = 0
    due = _in_force(now).filter(auto_extend=True, valid_until__lte=now + AUTO_EXTEND_WINDOW)
    for pk in due.values_list("pk", flat=True):
        with transaction.atomic():
            grant = (
                _in_force(now)
                .select_for_update(of=("self",))
                .select_related("partnership__customer")
                .filter(pk=pk, auto_extend=True, valid_until__lte=now + AUTO_EXTEND_WINDOW)
                .first()
            )
            if grant is None or grant.valid_until is None:
                continue
            before = grant_state(grant)
            grant.valid_until = min(grant.valid_until + timedelta(days=grant.validity_days), now + MAX_RUN)
            grant.warned_days = []
            grant.version += 1
            grant.updated_at = now
            grant.save(update_fields=["valid_until", "warned_days", "version", "updated_at"])
            partnership = grant.partnership
            record(
                None,
                "grant.auto_extended",
                org=partnership.customer,
                obj=partnership,
                before=before,
                after=grant_state(grant),
            )
            count += 1
    return count


def _warn(grant: Grant, now: datetime) -> bool:
    """Send the expiry warning now due (once per threshold and validity); True when one went out."""
    assert grant.valid_until is not None
    left = grant.valid_until - now
    due = {d for d in GRANT_WARNING_DAYS if left <= timedelta(days=d)}
    if not due - set(grant.warned_days):
        return False
    grant.warned_days = sorted(due | set(grant.warned_days))
    grant.save(update_fields=["warned_days"])
    partnership = grant.partnership
    context = {
        **emails.base_context(partnership, None),
        "valid_until": grant.valid_until,
        "days": min(due),
        "auto_extend": grant.auto_extend,
    }
    emails.send(
        "expiry_warning_partner",
        partner_administrators(partnership.partner, partnership.customer),
        {**context, "link": emails.partnerships_url(partnership)},
    )
    emails.send(
        "expiry_warning_customer",
        provider_managers(partnership.customer),
        {**context, "link": emails.providers_url(partnership)},
    )
    return True


def grant_maintenance(*, now: datetime | None = None) -> dict[str, int]:
    """Auto-extend the grants that end within a day; warn both sides 14 and 3 days before the others end."""
    now = now or timezone.now()
    extended = _auto_extend(now)
    warned = 0
    horizon = now + timedelta(days=max(GRANT_WARNING_DAYS))
    for pk in _in_force(now).filter(auto_extend=False, valid_until__lte=horizon).values_list("pk", flat=True):
        with transaction.atomic():
            grant = (
                _in_force(now)
                .select_for_update(of=("self",))
                .select_related("partnership__partner", "partnership__customer")
                .filter(pk=pk)
                .first()
            )
            if grant is not None and _warn(grant, now):
                warned += 1
    return {"extended": extended, "warned": warned}
