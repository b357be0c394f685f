from __future__ import annotations

from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views import i18n

from partnerhub.access.decorators import actor_from, login_only, public
from partnerhub.access.policy import perms_for, visible_orgs
from partnerhub.accounts.services import LANGUAGE_CODES, update_profile


@login_only
def home(request: HttpRequest) -> HttpResponse:
    """Send the user to the organisation they last worked in, or to the list of theirs."""
    user = request.user
    org = user.active_org  # type: ignore[union-attr]
    if org is not None and perms_for(user, org):  # type: ignore[arg-type]
        return redirect("org_overview", org_slug=org.slug)
    orgs = list(visible_orgs(user))  # type: ignore[arg-type]
    if len(orgs) == 1:
        return redirect("org_overview", org_slug=orgs[0].slug)
    return render(request, "core/home.html", {"orgs": orgs})


@public
def healthz(request: HttpRequest) -> HttpResponse:
    """Liveness and database reachability for load balancers."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


@public
def set_language(request: HttpRequest) -> HttpResponse:
    """Django's language switch; a logged-in user's choice is also kept for emails and next logins."""
    response = i18n.set_language(request)
    language = request.POST.get("language", "")
    if request.method == "POST" and request.user.is_authenticated and language in LANGUAGE_CODES:
        # update_profile records only real changes.
        update_profile(actor_from(request), name=request.user.name, language=language)
    return response
