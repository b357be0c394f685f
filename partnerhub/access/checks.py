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
from partnerhub.access.policy import NO_ACCESS, Access, Actor, access_for

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


def actor_access(actor: Actor, org: Organisation) -> Access:
    """What the actor may do on `org` now: inside their management session only what it delegates;
    in the browser without one only their own membership; through the API the whole rule."""
    if not is_acting(actor):
        return NO_ACCESS
    session_id = actor.session_id if actor.session_org_id == org.pk else None
    return access_for(actor.user, org, api_key=actor.api_key, session_id=session_id, delegated=not actor.web)


def require(actor: Actor, perm: Perm, org: Organisation, *, product: object = None) -> frozenset[Perm]:
    """404 when the actor cannot see `org` at all, 403 when they see it but lack `perm` (on `product`,
    a customer product, when given: a restricted grant covers only its products)."""
    require_login(actor)
    access = actor_access(actor, org)
    if not access:
        raise Http404
    product_id = getattr(product, "pk", product)
    if not access.allows(perm, product_id if isinstance(product_id, int) else None):
        raise PermissionDenied
    return access.perms


def holds(actor: Actor, perm: Perm, org: Organisation, *, product: object = None) -> bool:
    """True when the actor holds `perm` on `org` (and `product`) now (no exception)."""
    product_id = getattr(product, "pk", product)
    return actor_access(actor, org).allows(perm, product_id if isinstance(product_id, int) else None)


def resolve_access(
    user: User,
    slug: str,
    perm: Perm | None = None,
    *,
    api_key: ApiKey | None = None,
    sessions: dict[str, int] | None = None,
    web: bool = False,
) -> tuple[Organisation, Access]:
    """The organisation named `slug` and the access `user` has on it.

    404 when there is no such organisation or the user cannot see it (missing and foreign look the
    same), 403 when they see it but lack `perm` (None: seeing it is enough). `sessions` maps
    organisation ids to the management sessions the browser has open (``web``: without one, only the
    user's own membership counts).
    """
    from partnerhub.orgs.models import Organisation

    # No slug holds a NUL character (and PostgreSQL refuses to compare one): no such organisation.
    org = Organisation.objects.filter(slug=slug).first() if "\x00" not in slug else None
    if org is None:
        raise Http404
    session_id = (sessions or {}).get(str(org.pk))
    access = access_for(user, org, api_key=api_key, session_id=session_id, delegated=not web)
    if not access:
        raise Http404
    if perm is not None and perm not in access.perms:
        raise PermissionDenied
    return org, access


def resolve_org(
    user: User, slug: str, perm: Perm | None = None, *, api_key: ApiKey | None = None
) -> tuple[Organisation, frozenset[Perm]]:
    """:func:`resolve_access` for callers that need only the permissions (API, organisation switch)."""
    org, access = resolve_access(user, slug, perm, api_key=api_key)
    return org, access.perms
