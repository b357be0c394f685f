"""Declaring and enforcing access at the edge: HTML views (here), API operations (api.routing).

Every view carries an ``access_rule`` attribute: ``"public"``, ``"login"`` or a :class:`Perm`.
The route-coverage test walks the URL resolver and fails on any view without one.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, cast

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponseBase

from partnerhub.access.checks import resolve_access
from partnerhub.access.perms import Perm
from partnerhub.access.policy import Access, Actor

# The browser session key holding the open management sessions: {customer org id: session id}.
SESSIONS_KEY = "management_sessions"

PUBLIC = "public"
LOGIN = "login"


def client_ip(request: HttpRequest) -> str | None:
    return request.META.get("REMOTE_ADDR") or None


def browser_sessions(request: HttpRequest) -> dict[str, int]:
    """The management sessions this browser has open, by customer organisation id."""
    session = getattr(request, "session", None)
    value = session.get(SESSIONS_KEY) if session is not None else None
    return value if isinstance(value, dict) else {}


def actor_from(request: HttpRequest, access: Access | None = None, *, web: bool = False) -> Actor:
    """The actor of a request: the logged-in user, with address and agent for the audit log, and (with
    `access` through a partner or support branch) whom they act for and in which session."""
    access = access if access is not None else getattr(request, "access", None)
    org = getattr(request, "org", None)
    delegated = access is not None and access.delegated
    return Actor(
        user=request.user,  # type: ignore[arg-type]
        api_key=getattr(request, "api_key", None),
        ip=client_ip(request),
        user_agent=request.META.get("HTTP_USER_AGENT", "")[:300],
        session_id=access.session_id if delegated and access else None,
        session_org_id=org.pk if delegated and access and access.session_id and org is not None else None,
        partner_id=access.partner_id if delegated and access else None,
        web=web,
    )


# Views may answer with any response: streamed ones (CSV/XLSX exports, files) included.
def declare[V: Callable[..., HttpResponseBase]](rule: str | Perm) -> Callable[[V], V]:
    def mark(view: V) -> V:
        view.access_rule = rule  # type: ignore[attr-defined]
        return view

    return mark


def public[V: Callable[..., HttpResponseBase]](view: V) -> V:
    """Anyone may open this view, logged in or not."""
    return declare(PUBLIC)(view)


def login_only[V: Callable[..., HttpResponseBase]](view: V) -> V:
    """Any logged-in user may open this view; it touches only their own account."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path(), settings.LOGIN_URL)
        request.actor = actor_from(request, web=True)  # type: ignore[attr-defined]
        return view(request, *args, **kwargs)

    return declare(LOGIN)(cast(V, wrapper))


def require_perm[V: Callable[..., HttpResponseBase]](perm: Perm) -> Callable[[V], V]:
    """The view acts on the organisation in the URL (``org_slug``) and needs `perm` there.

    An organisation that does not exist or that the user cannot see answers 404; one the user can
    see but without `perm` answers 403. Sets ``request.org``, ``request.access``, ``request.perms``
    and ``request.actor``. Inside a management session on that organisation only the session's
    delegated permissions apply: each request keeps the session alive, and the first request after it
    closed ends it and leads back to the acting organisation (``partnerhub.delegation.browser``).
    """

    def decorator(view: V) -> V:
        @wraps(view)
        def wrapper(request: HttpRequest, org_slug: str, *args: Any, **kwargs: Any) -> HttpResponseBase:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path(), settings.LOGIN_URL)
            sessions = browser_sessions(request)
            try:
                org, access = resolve_access(request.user, org_slug, perm, sessions=sessions, web=True)
            except Http404:
                # A management session this browser has for the organisation closed (ended, idle for
                # 30 minutes, grant or support access withdrawn): end it, say so, go back.
                closed = _closed_session_response(request, org_slug) if sessions else None
                if closed is None:
                    raise
                return closed
            if access.session_id is not None:
                _keep_alive(access)
            request.org = org  # type: ignore[attr-defined]
            request.access = access  # type: ignore[attr-defined]
            request.perms = access.perms  # type: ignore[attr-defined]
            request.actor = actor_from(request, access, web=True)  # type: ignore[attr-defined]
            return view(request, *args, **kwargs)

        return declare(perm)(cast(V, wrapper))

    return decorator


def _closed_session_response(request: HttpRequest, org_slug: str) -> HttpResponseBase | None:
    from partnerhub.delegation.browser import closed_session_response

    return closed_session_response(request, org_slug)


def _keep_alive(access: Access) -> None:
    from partnerhub.delegation.browser import keep_alive

    keep_alive(access)


def check(request: HttpRequest, perm: Perm) -> None:
    """Inside a view that already resolved ``request.org``: refuse unless `perm` is held too."""
    if perm not in getattr(request, "perms", frozenset()):
        raise PermissionDenied
