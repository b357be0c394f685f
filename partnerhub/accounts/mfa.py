"""Who must protect their account with an authenticator app.

:func:`mfa_required_for` is the single place that decides it: operator staff, when the setting
PARTNERHUB_REQUIRE_MFA_FOR_OPERATORS is on; owners of partner organisations, when the partner program
requires it (``Program.partner_owner_mfa``). RequireMFAMiddleware and the profile page follow
automatically.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings


def is_operator_staff(user: Any) -> bool:
    """True for members of the operator organisation, whatever their role."""
    from partnerhub.orgs.models import Membership

    return Membership.objects.filter(user=user, org__is_operator=True).exists()


def mfa_required_for(user: Any) -> bool:
    """True when `user` may only use the portal with two-factor authentication (one query)."""
    if not user.is_authenticated:
        return False
    from django.db.models import Exists, Q

    from partnerhub.orgs.models import Membership
    from partnerhub.partners.models import Program

    # Owners of a partner organisation, while the partner program requires it.
    groups = Q(Exists(Program.objects.filter(partner_owner_mfa=True)), role="owner", org__is_partner=True)
    if settings.PARTNERHUB_REQUIRE_MFA_FOR_OPERATORS:
        groups |= Q(org__is_operator=True)
    return bool(Membership.objects.filter(groups, user=user).exists())


def has_totp(user: Any) -> bool:
    """True when `user` has activated an authenticator app."""
    from allauth.mfa.models import Authenticator

    return bool(Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists())


def must_enrol_mfa(user: Any) -> bool:
    """True when `user` is required to use two-factor authentication but has not set it up."""
    return mfa_required_for(user) and not has_totp(user)
