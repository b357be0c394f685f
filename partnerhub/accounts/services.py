"""Every write of the accounts area that is ours (allauth performs logins, passwords, emails, MFA)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils.translation import gettext as _

from partnerhub.access.policy import Actor
from partnerhub.accounts.models import User
from partnerhub.audit.services import record
from partnerhub.core.errors import ServiceError

LANGUAGE_CODES = frozenset(code for code, _name in settings.LANGUAGES)


def _profile_state(user: User) -> dict[str, Any]:
    return {"name": user.name, "language": user.language}


def update_profile(actor: Actor, *, name: str, language: str) -> User:
    """A user changes their own name and language; nobody edits another person's profile here."""
    if not actor.user.is_authenticated or not actor.user.is_active:
        raise PermissionDenied
    if language not in LANGUAGE_CODES:
        raise ServiceError(_("Unknown language “%(language)s”.") % {"language": language})
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=actor.user.pk)
        before = _profile_state(user)
        user.name = name.strip()
        user.language = language
        after = _profile_state(user)
        if after != before:
            user.save(update_fields=["name", "language"])
            record(actor, "profile.updated", org=None, obj=user, before=before, after=after)
    return user
