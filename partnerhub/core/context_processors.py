from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest

from partnerhub.access.policy import perms_for, visible_orgs


def portal(request: HttpRequest) -> dict[str, Any]:
    """Navigation context: the organisation in view, its permissions, the orgs to switch to."""
    context: dict[str, Any] = {"site_name": settings.SITE_NAME}
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return context
    org = getattr(request, "org", None)
    perms = getattr(request, "perms", None)
    if org is None and user.active_org_id:
        org = user.active_org
        perms = perms_for(user, org, delegated=False) if org else None
        if not perms:
            org = None
    context["nav_org"] = org
    context["nav_perms"] = {str(p) for p in perms} if perms else set()
    context["switch_orgs"] = list(visible_orgs(user))
    # The permanent banner: the management sessions this browser has open (none: no query).
    from partnerhub.delegation.browser import banner_sessions

    context["management_sessions"] = banner_sessions(request)
    return context
