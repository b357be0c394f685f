"""The operator organisation and the operator permissions (DESIGN §5).

The installation has at most one operator organisation (``Organisation.is_operator``; a database
constraint keeps it single). ``operator.*`` permissions only count on it, so every operator-wide
action — the program, the catalog, billing events, invoices and products handled by operator
staff — asks here:

- :func:`find_operator` / :func:`operator_organisation` — the organisation (None, or
  :class:`NoOperator` when it is not set up yet);
- :func:`operator_perms` — what an actor holds on it;
- :func:`require_operator` — the organisation when the actor holds `perm` on it, or refused;
- :func:`holds_operator_perm` — the same question as a yes/no answer.

How a refusal answers depends on whether the caller names an organisation. Pages and services
behind the operator's own pages conceal it from those who cannot see it (404, like every other
organisation: ``conceal=True``). Operator-wide operations whose path names no organisation (the
billing-event API) have nothing to hide and refuse with 403 (``conceal=False``).
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils.translation import gettext as _

from partnerhub.access.checks import is_acting
from partnerhub.access.perms import Perm
from partnerhub.access.policy import Actor, perms_for
from partnerhub.core.errors import ServiceError
from partnerhub.orgs.models import Organisation


class NoOperator(ServiceError):
    """The installation has no operator organisation yet, so there is no program to read or change."""


def find_operator() -> Organisation | None:
    """The installation's single operator organisation (None before it is set up)."""
    return Organisation.objects.filter(is_operator=True).first()


def operator_organisation() -> Organisation:
    """The installation's operator organisation (at most one exists); NoOperator when there is none."""
    org = find_operator()
    if org is None:
        raise NoOperator(_("This installation has no operator organisation yet. Set one up first."))
    return org


def operator_perms(actor: Actor) -> tuple[Organisation | None, frozenset[Perm]]:
    """The operator organisation and everything `actor` may do on it (nothing without an operator)."""
    org = find_operator()
    if org is None or not is_acting(actor):
        return org, frozenset()
    return org, perms_for(actor.user, org, api_key=actor.api_key)


def require_operator(actor: Actor, perm: Perm, *, conceal: bool = True) -> Organisation:
    """The operator organisation, when `actor` holds `perm` on it; otherwise refused.

    Anonymous or deactivated actors: 403. Without an operator organisation, or for an actor who
    cannot see it: 404 with `conceal` (the default), else 403. Seen but without `perm`: 403.
    """
    if not is_acting(actor):
        raise PermissionDenied
    org, perms = operator_perms(actor)
    if org is None or not perms:
        if conceal:
            raise Http404
        raise PermissionDenied
    if perm not in perms:
        raise PermissionDenied
    return org


def holds_operator_perm(actor: Actor, perm: Perm) -> bool:
    """True when `actor` holds `perm` on the operator organisation (e.g. to show retired products)."""
    return perm in operator_perms(actor)[1]
