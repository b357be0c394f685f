"""What happens to a partnership after it began: resend or cancel while pending, expiry, ending."""

from __future__ import annotations

from datetime import datetime

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from partnerhub.access.checks import actor_access, holds, require
from partnerhub.access.perms import Perm
from partnerhub.access.policy import Actor
from partnerhub.audit.services import record
from partnerhub.core.errors import ServiceError
from partnerhub.orgs.models import Organisation
from partnerhub.partnerships.models import Flow, GrantProduct, Partnership, PartnershipStatus
from partnerhub.partnerships.services import emails
from partnerhub.partnerships.services.common import (
    CONFLICT,
    lock_customer,
    lock_partnership,
    partnership_state,
    side_recipients,
)
from partnerhub.partnerships.services.flows import new_link, send_invitation, send_request

SIDE_PERMS = {"customer": Perm.PROVIDERS_MANAGE, "partner": Perm.PARTNER_CUSTOMERS_ADMINISTER}


def side_org(partnership: Partnership, side: str) -> Organisation:
    return partnership.customer if side == "customer" else partnership.partner


def initiating_side(partnership: Partnership) -> str:
    """The side that sent a pending request ("partner") or invitation ("customer")."""
    return "customer" if partnership.flow == Flow.INVITED else "partner"


def _require_side(actor: Actor, partnership: Partnership, side: str) -> None:
    require(actor, SIDE_PERMS[side], side_org(partnership, side))


def _check_pending(partnership: Partnership) -> None:
    if partnership.status != PartnershipStatus.PENDING:
        raise ServiceError(_("Only a pending request or invitation can be sent again or withdrawn."), code=CONFLICT)


def resend(actor: Actor, partnership: Partnership) -> Partnership:
    """The initiating side sends a pending request or invitation again: a new link, another 30 days."""
    side = initiating_side(partnership)
    _require_side(actor, partnership, side)
    with transaction.atomic():
        locked = lock_partnership(partnership)
        _check_pending(locked)
        before = partnership_state(locked)
        token = new_link(locked)
        locked.save(update_fields=["token_hash", "sent_at", "expires_at"])
        record(
            actor,
            "partnership.resent",
            org=side_org(locked, side),
            obj=locked,
            before=before,
            after=partnership_state(locked),
        )
        if locked.flow == Flow.INVITED:
            send_invitation(locked, token, actor.user)
        else:
            send_request(locked, token, actor.user)
    return locked


def cancel(actor: Actor, partnership: Partnership) -> Partnership:
    """The initiating side withdraws a pending request or invitation; its link stops working at once."""
    side = initiating_side(partnership)
    _require_side(actor, partnership, side)
    with transaction.atomic():
        locked = lock_partnership(partnership)
        _check_pending(locked)
        before = partnership_state(locked)
        locked.status = PartnershipStatus.CANCELLED
        locked.token_hash = None
        locked.save(update_fields=["status", "token_hash"])
        record(
            actor,
            "partnership.cancelled",
            org=side_org(locked, side),
            obj=locked,
            before=before,
            after=partnership_state(locked),
        )
    return locked


def expire_pending(*, now: datetime | None = None) -> int:
    """Mark the pending partnerships past their 30 days expired (they already grant and answer nothing)."""
    now = now or timezone.now()
    count = 0
    for pk in Partnership.objects.filter(status=PartnershipStatus.PENDING, expires_at__lte=now).values_list(
        "pk", flat=True
    ):
        with transaction.atomic():
            locked = (
                Partnership.objects.select_for_update()
                .select_related("partner", "customer")
                .filter(pk=pk, status=PartnershipStatus.PENDING, expires_at__lte=now)
                .first()
            )
            if locked is None:
                continue
            before = partnership_state(locked)
            locked.status = PartnershipStatus.EXPIRED
            locked.token_hash = None
            locked.save(update_fields=["status", "token_hash"])
            org = side_org(locked, initiating_side(locked))
            record(None, "partnership.expired", org=org, obj=locked, before=before, after=partnership_state(locked))
            count += 1
    return count


def acting_side(actor: Actor, partnership: Partnership, side: str | None = None) -> str:
    """Which side the actor ends for: `side` when the caller knows it (the page or API path used),
    else the customer's provider managers before the partner's administrators.

    Refused with 404 when the actor sees neither organisation, 403 when they see one but hold neither
    permission (on the named side).
    """
    if side in (None, "customer") and holds(actor, Perm.PROVIDERS_MANAGE, partnership.customer):
        return "customer"
    if side in (None, "partner") and holds(actor, Perm.PARTNER_CUSTOMERS_ADMINISTER, partnership.partner):
        return "partner"
    if actor_access(actor, partnership.customer) or actor_access(actor, partnership.partner):
        raise PermissionDenied
    raise Http404


def end_partnership(
    actor: Actor, partnership: Partnership, *, reason: str = "", side: str | None = None
) -> Partnership:
    """Either side ends an active partnership (the caller checked the password): the grant stops at
    once, products are free again, future commissions stop (``ended_at``), the other side is emailed.

    `side` ("customer" / "partner") is the side whose page or API path was used: someone who is both
    partner staff and a member of the customer ends for the side they acted on.
    """
    side = acting_side(actor, partnership, side)
    reason = (reason or "").strip()
    if len(reason) > 500:
        raise ServiceError(_("The reason can be at most 500 characters long."))
    with transaction.atomic():
        lock_customer(partnership.customer)
        locked = lock_partnership(partnership)
        if locked.status != PartnershipStatus.ACTIVE:
            raise ServiceError(_("Only an active partnership can be ended."), code=CONFLICT)
        before = partnership_state(locked)
        locked.status = PartnershipStatus.ENDED
        locked.ended_at = timezone.now()
        locked.ended_by = actor.user
        locked.ended_by_side = side
        locked.end_reason = reason
        locked.token_hash = None
        locked.save(
            update_fields=[
                "status",
                "ended_at",
                "ended_by",
                "ended_by_side",
                "end_reason",
                "token_hash",
            ]
        )
        # Its products are free again; the grant's coverage keeps which they were (for late events).
        GrantProduct.objects.filter(grant__partnership=locked).delete()
        record(
            actor,
            "partnership.ended",
            org=side_org(locked, side),
            obj=locked,
            before=before,
            after=partnership_state(locked),
        )
        other = "partner" if side == "customer" else "customer"
        context = {
            **emails.base_context(locked, actor.user),
            "ended_by_side": side,
            "reason": reason,
            "link": emails.url_for_side(locked, other),
        }
        emails.send("ended", side_recipients(locked, other), context)
    return locked
