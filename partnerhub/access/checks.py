"""Checking an actor's permission on one organisation inside a service (the rule is ``policy.perms_for``).

Views and API operations resolve access before they run (``decorators.require_perm``,
``api.routing.operation``); services check again themselves with these, so that every caller
(view, API, task, command) meets the same answer:

- :func:`require` — the permissions held on `org`, or refused: 404 when the actor cannot see `org`
  at all (its existence is not revealed), 403 when they see it but lack `perm`, 403 for anonymous
  or deactivated actors;
- :func:`holds` — the same question as a yes/no answer (no exception);
- :func:`resolve_org` — the organisation a URL names (``org_slug``), with the same 404/403 answers:
  the view decorator ``require_perm``, the API's ``operation`` and the organisation switch use it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied
from django.http import Http404

from partnerhub.access.perms import Perm
from partnerhub.access.policy import Actor, perms_for

if TYPE_CHECKING:
    from partnerhub.accounts.models import User
    from partnerhub.api.models import ApiKey
    from partnerhub.orgs.models import Organisation


def is_acting(actor: Actor) -> bool:
    """True when the actor is a logged-in, active user (anyone else holds nothing anywhere)."""
    return bool(actor.user.is_authenticated and actor.user.is_active)


def require_login(actor: Actor) -> None:
    """403 unless the actor is a logged-in, active user."""
    if not is_acting(actor):
        raise PermissionDenied


def require(actor: Actor, perm: Perm, org: Organisation) -> frozenset[Perm]:
    """404 when the actor cannot see `org` at all, 403 when they see it but lack `perm`."""
    require_login(actor)
    perms = perms_for(actor.user, org, api_key=actor.api_key)
    if not perms:
        raise Http404
    if perm not in perms:
        raise PermissionDenied
    return perms


def holds(actor: Actor, perm: Perm, org: Organisation) -> bool:
    """True when the actor holds `perm` on `org` now (no exception)."""
    return is_acting(actor) and perm in perms_for(actor.user, org, api_key=actor.api_key)


def resolve_org(
    user: User, slug: str, perm: Perm | None = None, *, api_key: ApiKey | None = None
) -> tuple[Organisation, frozenset[Perm]]:
    """The organisation named `slug` and what `user` holds on it.

    404 when there is no such organisation or the user cannot see it (missing and foreign look the
    same), 403 when they see it but lack `perm` (None: seeing it is enough).
    """
    from partnerhub.orgs.models import Organisation

    # No slug holds a NUL character (and PostgreSQL refuses to compare one): no such organisation.
    org = Organisation.objects.filter(slug=slug).first() if "\x00" not in slug else None
    perms = perms_for(user, org, api_key=api_key) if org else frozenset()
    if org is None or not perms:
        raise Http404
    if perm is not None and perm not in perms:
        raise PermissionDenied
    return org, perms
