"""The API key pages of the portal: list, create (the secret is shown once), revoke."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from partnerhub.access.decorators import require_perm
from partnerhub.access.perms import Perm
from partnerhub.accounts.reauth import reauth_required
from partnerhub.api.forms import ApiKeyForm
from partnerhub.api.models import ApiKey
from partnerhub.api.services import create_api_key, key_grantable_perms, revoke_api_key


@require_perm(Perm.API_KEYS_MANAGE)
def api_key_list(request: HttpRequest) -> HttpResponse:
    """All keys of the organisation, newest first, revoked and expired ones included."""
    keys = ApiKey.objects.filter(org=request.org).select_related("created_by").order_by("-id")  # type: ignore[attr-defined]
    return render(request, "api/apikey_list.html", {"keys": keys})


@require_perm(Perm.API_KEYS_MANAGE)
@reauth_required
def api_key_create(request: HttpRequest) -> HttpResponse:
    """The form; on success a page that shows the secret this one time."""
    actor, org = request.actor, request.org  # type: ignore[attr-defined]
    form = ApiKeyForm(request.POST or None, grantable=key_grantable_perms(actor, org))
    if request.method == "POST" and form.is_valid():
        try:
            key, secret = create_api_key(
                actor,
                org=org,
                name=form.cleaned_data["name"],
                perms=[Perm(p) for p in form.cleaned_data["perms"]],
                expires_at=form.expires_at,
            )
        except ValidationError as exc:
            add_service_error(form, exc)
        else:
            response = render(request, "api/apikey_created.html", {"key": key, "secret": secret})
            # The secret must not linger in a browser or proxy cache.
            response["Cache-Control"] = "no-store"
            return response
    return render(request, "api/apikey_create.html", {"form": form})


@require_perm(Perm.API_KEYS_MANAGE)
@require_POST
@reauth_required
def api_key_revoke(request: HttpRequest, key_id: int) -> HttpResponse:
    """Revoke one of the organisation's keys; it stops working with the next request."""
    key = get_object_or_404(ApiKey.objects.select_related("org"), org=request.org, pk=key_id)  # type: ignore[attr-defined]
    try:
        revoke_api_key(request.actor, key=key)  # type: ignore[attr-defined]
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("The key “%(name)s” has been revoked.") % {"name": key.name})
    return redirect("api_key_list", org_slug=key.org.slug)


def add_service_error(form: ApiKeyForm, exc: ValidationError) -> None:
    """Show a service's refusal on the form field it names (or above the form)."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc)
