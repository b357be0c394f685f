"""The browser's side of management sessions: which sessions this browser has open, keeping them alive,
and noticing on the next request that one closed (ended elsewhere, idle for 30 minutes, basis gone).

``access.decorators.require_perm`` calls :func:`keep_alive` and :func:`closed_session_response`;
the banner reads :func:`banner_sessions` through the context processor.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy

from partnerhub.access.decorators import SESSIONS_KEY, actor_from, browser_sessions
from partnerhub.access.policy import Access, own_perms
from partnerhub.delegation import queries
from partnerhub.delegation.models import SESSION_IDLE_TIMEOUT, EndCause, ManagementSession
from partnerhub.delegation.services import end_session, touch_session
from partnerhub.orgs.models import Organisation


def remember(request: HttpRequest, session: ManagementSession) -> None:
    """This browser works inside `session` for its customer from now on."""
    request.session[SESSIONS_KEY] = {**browser_sessions(request), str(session.customer_id): session.pk}


def forget(request: HttpRequest, customer_id: int) -> None:
    """This browser no longer works inside a session for `customer_id`."""
    sessions = browser_sessions(request)
    if str(customer_id) in sessions:
        request.session[SESSIONS_KEY] = {k: v for k, v in sessions.items() if k != str(customer_id)}


def keep_alive(access: Access) -> None:
    """A request inside a session keeps it alive (at most one UPDATE, none within a minute)."""
    if access.session_id is not None:
        touch_session(access.session_id)


END_MESSAGES = {
    EndCause.TIMEOUT: gettext_lazy("Your management session for %(customer)s ended after 30 minutes without activity."),
    EndCause.REVOKED: gettext_lazy(
        "Your management session for %(customer)s ended: the access it relied on was withdrawn."
    ),
    EndCause.ENDED: gettext_lazy("Your management session for %(customer)s has ended."),
}


def _end_message(session: ManagementSession) -> str:
    template = END_MESSAGES.get(EndCause(session.end_cause or EndCause.ENDED), END_MESSAGES[EndCause.ENDED])
    return str(template) % {"customer": session.customer.name}


def closed_session_response(request: HttpRequest, org_slug: str) -> HttpResponse | None:
    """When the browser has a session for the organisation `org_slug` that gives no access any more:
    end it (``timeout`` when idle, else ``revoked``), forget it, say so and go back to the acting
    organisation. None when the browser has no session there (the caller answers as usual)."""
    sessions = browser_sessions(request)
    org = Organisation.objects.filter(slug=org_slug).first() if "\x00" not in org_slug else None
    if org is None or str(org.pk) not in sessions:
        return None
    session_id = sessions[str(org.pk)]
    forget(request, org.pk)
    session = (
        ManagementSession.objects.select_related("user", "customer", "acting_org")
        .filter(pk=session_id, user_id=request.user.pk or 0)
        .first()
        if isinstance(session_id, int)
        else None
    )
    if session is None:
        return None
    if session.ended_at is None:
        idle = session.last_seen_at <= timezone.now() - SESSION_IDLE_TIMEOUT
        session = end_session(
            actor_from(request, web=True), session, cause=EndCause.TIMEOUT if idle else EndCause.REVOKED
        )
    messages.warning(request, _end_message(session))
    acting = session.acting_org
    if own_perms(request.user, acting):  # type: ignore[arg-type]
        target = reverse("org_overview", kwargs={"org_slug": acting.slug})
    else:
        target = reverse("home")
    if getattr(request, "htmx", False):
        # htmx would swap the next page into a part of this one: load it whole instead.
        return HttpResponse(status=204, headers={"HX-Redirect": target})
    return redirect(target)


def banner_sessions(request: HttpRequest) -> list[ManagementSession]:
    """The open sessions of this browser, for the permanent banner (no query without any)."""
    sessions = browser_sessions(request)
    if not sessions:
        return []
    return queries.open_sessions(request.user, sessions.values())  # type: ignore[arg-type]
