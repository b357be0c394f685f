"""Management sessions: partner staff (or operator support staff) working inside a customer's organisation.

A session rests on a basis that the access rule checks on every request: the partner's grant (via
partner) or the customer's support access (via support). It ends explicitly, after 30 minutes
without a request (``timeout``) or when its basis goes away (``revoked``). Every start and end is
recorded on the customer's log and on the acting organisation's log, with the real user, the acting
organisation and the session.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from partnerhub.access import policy
from partnerhub.access.checks import require, require_login
from partnerhub.access.perms import Perm, Role
from partnerhub.access.policy import Actor
from partnerhub.audit.services import record
from partnerhub.core.errors import ServiceError
from partnerhub.core.mail import send_templated_mail
from partnerhub.delegation.models import (
    SESSION_IDLE_TIMEOUT,
    EndCause,
    ManagementSession,
    SupportAccess,
    Via,
)
from partnerhub.orgs.models import Membership, Organisation
from partnerhub.partnerships.models import Partnership

REASON_MAX_LENGTH = 500
# The keep-alive writes at most once a minute per session: enough for a 30-minute time-out.
TOUCH_INTERVAL = timedelta(seconds=60)


def session_actor(actor: Actor, session: ManagementSession) -> Actor:
    """`actor` acting inside `session`: the audit log records the acting organisation and the session."""
    return replace(actor, partner_id=session.acting_org_id, session_id=session.pk, session_org_id=session.customer_id)


def _state(session: ManagementSession) -> dict[str, Any]:
    return {
        "user": session.user.email,
        "via": session.via,
        "acting_org": session.acting_org.slug,
        "customer": session.customer.slug,
        "reason": session.reason,
        "started_at": session.started_at,
        "ended_at": session.ended_at,
        "end_cause": session.end_cause,
    }


def _record_both(actor: Actor, action: str, session: ManagementSession, **changes: Any) -> None:
    """One entry on the customer's log and one on the acting organisation's log."""
    inside = session_actor(actor, session)
    record(inside, action, org=session.customer, obj=session, **changes)
    record(inside, action, org=session.acting_org, obj=session, **changes)


# --- starting ------------------------------------------------------------------------------------------


def _clean_reason(reason: str) -> str:
    reason = " ".join(reason.split())
    if not reason:
        raise ServiceError(_("Enter the reason for this session: the customer sees it in its log."))
    if len(reason) > REASON_MAX_LENGTH:
        raise ServiceError(_("The reason can be at most %(max)d characters long.") % {"max": REASON_MAX_LENGTH})
    return reason


def _partner_basis(actor: Actor, partner: Organisation, customer: Organisation) -> Partnership:
    """The active partnership through which `actor` may act for `customer` as staff of `partner`."""
    require(actor, Perm.PARTNER_CUSTOMERS_ADMINISTER, partner)
    access = policy.access_for(actor.user, customer)
    partnership_id = access.partnership_id if access.via == policy.PARTNER and access.partner_id == partner.pk else None
    if partnership_id is None:
        # A direct member of the customer is answered as a member: find the partner's grant itself.
        partnership_id = (
            policy.managed_partnerships(actor.user, partner)
            .filter(customer_id=customer.pk)
            .values_list("pk", flat=True)
            .first()
        )
    if partnership_id is None:
        raise ServiceError(
            _("%(partner)s has no access in force to %(customer)s, or you are not assigned to this customer.")
            % {"partner": partner.name, "customer": customer.name}
        )
    return Partnership.objects.get(pk=partnership_id)


def _support_basis(actor: Actor, operator: Organisation, customer: Organisation) -> SupportAccess:
    """The support access in force that lets operator support staff act for `customer`."""
    require(actor, Perm.OPERATOR_SUPPORT_ACCESS, operator)
    support = SupportAccess.objects.in_force().filter(customer=customer).first()
    if support is None:
        raise ServiceError(
            _("%(customer)s has not granted support access, or it has ended.") % {"customer": customer.name}
        )
    return support


def _end_open_sessions(actor: Actor, user_id: int, customer: Organisation, *, now: datetime) -> None:
    """One open session per user and customer: a stale or forgotten one ends before a new one starts."""
    rows = ManagementSession.objects.select_for_update().select_related("user", "customer", "acting_org")
    for stale in rows.filter(user_id=user_id, customer=customer, ended_at=None):
        _close(actor, stale, cause=EndCause.TIMEOUT if _idle(stale, now) else EndCause.ENDED, now=now)


def start_session(actor: Actor, *, acting_org: Organisation, customer: Organisation, reason: str) -> ManagementSession:
    """Open a management session for `customer` as staff of `acting_org`, with a required reason.

    Via partner: `acting_org` is the partner, the user holds ``partner.customers.administer`` there
    and the partner's grant for `customer` is in force. Via support: `acting_org` is the operator,
    the user holds ``operator.support.access`` there and `customer` granted support access. The
    access rule then decides, inside the new session, that it gives access at all.
    """
    require_login(actor)
    if actor.api_key is not None:
        # Sessions belong to a person in a browser, not to a key.
        raise PermissionDenied
    reason = _clean_reason(reason)
    if acting_org.pk == customer.pk:
        raise ServiceError(_("You cannot open a management session for your own organisation."))
    partnership: Partnership | None = None
    support: SupportAccess | None = None
    if acting_org.is_operator:
        support = _support_basis(actor, acting_org, customer)
    else:
        partnership = _partner_basis(actor, acting_org, customer)
    now = timezone.now()
    with transaction.atomic():
        _end_open_sessions(actor, actor.user.pk, customer, now=now)
        try:
            with transaction.atomic():
                session = ManagementSession.objects.create(
                    user=actor.user,
                    customer=customer,
                    via=Via.SUPPORT if support is not None else Via.PARTNER,
                    acting_org=acting_org,
                    partnership=partnership,
                    support_access=support,
                    reason=reason,
                    started_at=now,
                    last_seen_at=now,
                )
        except IntegrityError as exc:
            raise ServiceError(
                _("You already have an open session for %(customer)s. End it first.") % {"customer": customer.name}
            ) from exc
        # The one rule has the last word: the new session must give access right now.
        if not policy.access_for(actor.user, customer, session_id=session.pk):
            raise ServiceError(
                _("This session would give you no access to %(customer)s.") % {"customer": customer.name}
            )
        _record_both(actor, "management_session.started", session, after=_state(session))
        # The customer's current choice (the caller's copy may be older than its last change).
        if Organisation.objects.filter(pk=customer.pk, notify_management_sessions=True).exists():
            _notify_customer(session)
    return session


def _notify_customer(session: ManagementSession) -> None:
    """Email the customer's owners and admins (each in their language) that someone acts for them."""
    admins = (
        Membership.objects.filter(org=session.customer, role__in=[Role.OWNER, Role.ADMIN], user__is_active=True)
        .exclude(user=session.user)
        .select_related("user")
    )
    url = settings.SITE_URL + reverse("management_session_list", kwargs={"org_slug": session.customer.slug})
    context = {
        "customer_name": session.customer.name,
        "acting_name": session.acting_org.name,
        "via_support": session.via == Via.SUPPORT,
        "user_name": session.user.display_name,
        "user_email": session.user.email,
        "reason": session.reason,
        "started_at": session.started_at,
        "sessions_url": url,
    }
    for membership in admins:
        send_templated_mail(
            template="delegation/email/session_started",
            to=[membership.user.email],
            context=context,
            language=membership.user.language,
        )


# --- keeping alive and ending ----------------------------------------------------------------------------


def _idle(session: ManagementSession, now: datetime) -> bool:
    return session.last_seen_at <= now - SESSION_IDLE_TIMEOUT


def _close(actor: Actor, session: ManagementSession, *, cause: str, now: datetime) -> ManagementSession:
    """End a locked, open session with `cause` and record it on both logs."""
    before = _state(session)
    # A time-out ended the session when it went idle, not when somebody noticed.
    session.ended_at = min(now, session.last_seen_at + SESSION_IDLE_TIMEOUT) if cause == EndCause.TIMEOUT else now
    session.end_cause = cause
    session.save(update_fields=["ended_at", "end_cause"])
    _record_both(actor, "management_session.ended", session, before=before, after=_state(session))
    return session


def end_session(actor: Actor, session: ManagementSession, *, cause: str = EndCause.ENDED) -> ManagementSession:
    """End `session`; only its own user ends it. A session already ended stays as it is; one that went
    idle meanwhile is recorded as timed out, whatever `cause` was asked for."""
    require_login(actor)
    if session.user_id != actor.user.pk:
        raise Http404
    if cause not in EndCause.values:
        raise ServiceError(_("Unknown reason for ending a session."))
    now = timezone.now()
    with transaction.atomic():
        locked = (
            ManagementSession.objects.select_for_update()
            .select_related("user", "customer", "acting_org")
            .get(pk=session.pk)
        )
        if locked.ended_at is not None:
            return locked
        return _close(actor, locked, cause=EndCause.TIMEOUT if _idle(locked, now) else cause, now=now)


def terminate_session(actor: Actor, session: ManagementSession) -> ManagementSession:
    """The customer ends a session in its organisation at once (``providers.manage``): cause ``revoked``.

    The partner's or support's user is sent back on their next request."""
    require(actor, Perm.PROVIDERS_MANAGE, session.customer)
    now = timezone.now()
    with transaction.atomic():
        locked = (
            ManagementSession.objects.select_for_update()
            .select_related("user", "customer", "acting_org")
            .get(pk=session.pk)
        )
        if locked.ended_at is not None:
            raise ServiceError(_("This session has already ended."))
        cause = EndCause.TIMEOUT if _idle(locked, now) else EndCause.REVOKED
        before = _state(locked)
        locked.ended_at = min(now, locked.last_seen_at + SESSION_IDLE_TIMEOUT) if cause == EndCause.TIMEOUT else now
        locked.end_cause = cause
        locked.save(update_fields=["ended_at", "end_cause"])
        # Recorded as the customer's own act (not in the session), on both logs.
        for org in (locked.customer, locked.acting_org):
            record(actor, "management_session.terminated", org=org, obj=locked, before=before, after=_state(locked))
    return locked


def touch_session(session_id: int, *, now: datetime | None = None) -> bool:
    """Keep an open session alive (``last_seen_at``): one UPDATE at most, none when it was touched
    in the last minute. Not audited: it records activity, not a change."""
    now = now or timezone.now()
    updated = ManagementSession.objects.filter(
        pk=session_id,
        ended_at=None,
        last_seen_at__gt=now - SESSION_IDLE_TIMEOUT,
        last_seen_at__lte=now - TOUCH_INTERVAL,
    ).update(last_seen_at=now)
    return bool(updated)


def end_sessions_of_support_access(actor: Actor, support: SupportAccess, *, now: datetime) -> int:
    """End the open sessions that rest on `support` (it was revoked or replaced): cause ``revoked``."""
    rows = ManagementSession.objects.select_for_update().select_related("user", "customer", "acting_org")
    count = 0
    for session in rows.filter(support_access=support, ended_at=None):
        _close(actor, session, cause=EndCause.TIMEOUT if _idle(session, now) else EndCause.REVOKED, now=now)
        count += 1
    return count


def close_idle_sessions(*, now: datetime | None = None) -> int:
    """End every session idle for 30 minutes (cause ``timeout``), for cron; returns how many ended.

    Requests end their own idle session already; this keeps the customer's session list exact for
    sessions nobody came back to.
    """
    now = now or timezone.now()
    count = 0
    with transaction.atomic():
        rows = ManagementSession.objects.select_for_update().select_related("user", "customer", "acting_org")
        for session in rows.filter(ended_at=None, last_seen_at__lte=now - SESSION_IDLE_TIMEOUT):
            _close(Actor.system(session.user), session, cause=EndCause.TIMEOUT, now=now)
            count += 1
    return count


# --- the customer's choice ---------------------------------------------------------------------------------


def set_session_notifications(actor: Actor, *, customer: Organisation, enabled: bool) -> Organisation:
    """The customer chooses whether its owners and admins are emailed when a session starts
    (``org.settings.manage``)."""
    require(actor, Perm.ORG_SETTINGS_MANAGE, customer)
    with transaction.atomic():
        locked = Organisation.objects.select_for_update().get(pk=customer.pk)
        if locked.notify_management_sessions != enabled:
            before = {"notify_management_sessions": locked.notify_management_sessions}
            locked.notify_management_sessions = enabled
            locked.save(update_fields=["notify_management_sessions"])
            record(
                actor,
                "management_session.notifications_changed",
                org=locked,
                obj=locked,
                before=before,
                after={"notify_management_sessions": enabled},
            )
    return locked
