"""Accounts that must be protected by an authenticator app are sent to enrol before using the portal.

Who must enrol is decided by :func:`partnerhub.accounts.mfa.mfa_required_for` alone.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django_htmx.http import HttpResponseClientRedirect

from partnerhub.accounts.mfa import must_enrol_mfa
from partnerhub.api.problems import problem_response

# Paths a user who still has to enrol may reach: allauth's pages (enrolment, re-authentication,
# logout, email and password management), switching the language, health checks.
ALLOWED_PREFIXES = ("/accounts/", "/i18n/", "/healthz")
API_PREFIX = "/api/"


class RequireMFAMiddleware:
    """Send users who must enrol in TOTP to allauth's activation page (API: answer 403)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if self.exempt(request) or not must_enrol_mfa(request.user):
            return self.get_response(request)
        message = _("Please set up two-factor authentication with an authenticator app before continuing.")
        if request.path.startswith(API_PREFIX):
            return problem_response(403, message)
        messages.warning(request, message)
        target = reverse("mfa_activate_totp")
        if getattr(request, "htmx", False):
            return HttpResponseClientRedirect(target)
        return HttpResponseRedirect(target)

    @staticmethod
    def exempt(request: HttpRequest) -> bool:
        """Anonymous visitors, allauth's own pages, static files and API-key requests are not checked."""
        if not request.user.is_authenticated:
            return True
        if request.path.startswith((*ALLOWED_PREFIXES, settings.STATIC_URL)):
            return True
        # An API key acts on its own credential; only the browser session is held to enrolment.
        return request.path.startswith(API_PREFIX) and "HTTP_AUTHORIZATION" in request.META
