"""Operator staff must protect their accounts with TOTP (setting PARTNERHUB_REQUIRE_MFA_FOR_OPERATORS)."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _

# Paths an operator without MFA may still reach: enrolment itself, logging out, static files.
ALLOWED_PREFIXES = ("/accounts/", "/static/", "/i18n/", "/healthz")


class RequireMFAMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if (
            settings.PARTNERHUB_REQUIRE_MFA_FOR_OPERATORS
            and request.user.is_authenticated
            and not request.path.startswith(ALLOWED_PREFIXES)
            and not request.path.startswith("/api/")
            and needs_mfa(request.user)  # type: ignore[arg-type]
        ):
            messages.warning(request, _("Operator staff must set up two-factor authentication before continuing."))
            return redirect(reverse("mfa_activate_totp"))
        return self.get_response(request)


def needs_mfa(user: object) -> bool:
    """True for operator staff without an authenticator app."""
    from allauth.mfa.models import Authenticator

    from partnerhub.orgs.models import Membership

    if not Membership.objects.filter(user=user, org__is_operator=True).exists():
        return False
    return not Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()
