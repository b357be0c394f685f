"""The user's own profile page (allauth serves login, signup, passwords, email addresses, MFA)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.translation import gettext as _

from partnerhub.access.decorators import login_only
from partnerhub.accounts.adapter import set_language_cookie
from partnerhub.accounts.forms import ProfileForm
from partnerhub.accounts.mfa import has_totp
from partnerhub.accounts.services import update_profile
from partnerhub.core.errors import ServiceError
from partnerhub.orgs.models import Membership


@login_only
def profile(request: HttpRequest) -> HttpResponse:
    """Name, language, support code, security links and the user's organisations."""
    user = request.user
    initial = {"name": user.name, "language": user.language}  # type: ignore[union-attr]
    form = ProfileForm(request.POST) if request.method == "POST" else ProfileForm(initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            user = update_profile(request.actor, **form.cleaned_data)  # type: ignore[attr-defined]
        except ServiceError as exc:
            form.add_error(None, exc)
        else:
            translation.activate(user.language)
            messages.success(request, _("Your profile has been saved."))
            response = redirect("profile")
            set_language_cookie(response, user.language)
            return response
    memberships = Membership.objects.filter(user=user).select_related("org").order_by("org__name", "org_id")  # type: ignore[misc]
    return render(
        request, "accounts/profile.html", {"form": form, "memberships": memberships, "has_totp": has_totp(user)}
    )
