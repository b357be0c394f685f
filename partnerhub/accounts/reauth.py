"""Re-authentication for sensitive actions: the user re-enters their password (or an authenticator
code) if they have not done so within ACCOUNT_REAUTHENTICATION_TIMEOUT.

Usage on a function view, with the access decorator outermost so that access is decided first
(an organisation the user cannot see answers 404 without asking for a password)::

    @require_perm(Perm.API_KEYS_MANAGE)
    @reauth_required
    def api_key_create(request): ...

The other order works too: ``reauth_required`` carries the ``access_rule`` over to its wrapper.
A user who has not re-authenticated recently is sent to ``/accounts/reauthenticate/?next=<path>``;
a suspended POST is replayed once they confirm (allauth's flow).

Typing the password (or an authenticator code) to log in counts as confirming it: right after
logging in nobody is asked again (allauth's own MFA pages follow the same rule, see the adapter).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import wraps
from typing import Any, cast

from allauth.account import app_settings as account_settings
from allauth.account.internal.flows import reauthentication
from allauth.account.internal.flows.login import get_authentication_records
from allauth.core.exceptions import ReauthenticationRequired
from django.http import HttpRequest, HttpResponse

# Ways of logging in that prove the person knows the account's secrets.
CONFIRMING_METHODS = frozenset({"password", "mfa"})


def entered_credentials_recently(request: HttpRequest) -> bool:
    """True when this session logged in or re-authenticated by password or code within the time-out."""
    records = get_authentication_records(request, request.user)
    latest = max((r["at"] for r in records if r.get("method") in CONFIRMING_METHODS), default=None)
    return latest is not None and time.time() - latest < account_settings.REAUTHENTICATION_TIMEOUT


def recently_reauthenticated(request: HttpRequest) -> bool:
    """True when the logged-in user entered their password or a code within the time-out."""
    if not request.user.is_authenticated:
        return False
    return entered_credentials_recently(request) or bool(reauthentication.did_recently_reauthenticate(request))


def reauth_required[ViewFunc: Callable[..., HttpResponse]](view: ViewFunc) -> ViewFunc:
    """Run `view` only for a user who re-authenticated recently; send others to confirm first."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not recently_reauthenticated(request):
            # allauth's AccountMiddleware turns this into the redirect (and keeps a POST for replay).
            raise ReauthenticationRequired
        return view(request, *args, **kwargs)

    rule = getattr(view, "access_rule", None)
    if rule is not None:
        wrapper.access_rule = rule  # type: ignore[attr-defined]
    return cast(ViewFunc, wrapper)
