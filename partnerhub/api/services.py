"""Creating and revoking API keys (DESIGN §11).

A key belongs to one organisation and acts as its creator, limited to the key's permissions and,
at every request, to what the creator still holds there (``policy.perms_for``). Only the hash of the
secret is stored; the secret is returned once, by :func:`create_api_key`.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from partnerhub.access.perms import Perm
from partnerhub.access.policy import Actor, own_perms
from partnerhub.api.models import ApiKey
from partnerhub.audit.services import record
from partnerhub.core.errors import ServiceError
from partnerhub.orgs.models import Organisation

PREFIX_LENGTH = 12


def key_grantable_perms(actor: Actor, org: Organisation) -> frozenset[Perm]:
    """What a new key may carry: the creator's own permissions, or the calling key's when made through a key."""
    if actor.api_key is not None:
        return own_perms(actor.user, org, api_key=actor.api_key)
    return own_perms(actor.user, org)


def _snapshot(key: ApiKey) -> dict[str, Any]:
    # Never the secret, nor its hash: the prefix is enough to recognise a key.
    return {
        "name": key.name,
        "prefix": key.prefix,
        "perms": sorted(key.scopes),
        "expires_at": key.expires_at,
        "revoked_at": key.revoked_at,
    }


def _check_expiry(expires_at: datetime) -> None:
    if timezone.is_naive(expires_at):
        raise ServiceError({"expires_at": _("Give the expiry with a time zone.")})
    try:
        expires_at.astimezone(UTC)  # stored in UTC: it must exist there
    except OverflowError:
        raise ServiceError({"expires_at": _("Choose an earlier expiry.")}) from None
    if expires_at <= timezone.now():
        raise ServiceError({"expires_at": _("The expiry must be in the future.")})


def create_api_key(
    actor: Actor, *, org: Organisation, name: str, perms: Iterable[Perm], expires_at: datetime | None = None
) -> tuple[ApiKey, str]:
    """Needs api_keys.manage on `org`; the key's permissions are a non-empty subset of the creator's."""
    held = key_grantable_perms(actor, org)
    if Perm.API_KEYS_MANAGE not in held:
        raise PermissionDenied
    try:
        wanted = frozenset(Perm(p) for p in perms)
    except ValueError:
        raise ServiceError({"perms": _("Unknown permission.")}) from None
    name = name.strip()
    if not name:
        raise ServiceError({"name": _("Give the key a name.")})
    if not wanted:
        raise ServiceError({"perms": _("Choose at least one permission.")})
    beyond = wanted - held
    if beyond:
        raise ServiceError(
            {
                "perms": _("You cannot give a key permissions you do not hold yourself: %(perms)s.")
                % {"perms": ", ".join(sorted(beyond))}
            }
        )
    if expires_at is not None:
        _check_expiry(expires_at)
    secret = ApiKey.generate()
    with transaction.atomic():
        key = ApiKey.objects.create(
            org=org,
            name=name[:100],
            prefix=secret[:PREFIX_LENGTH],
            key_hash=ApiKey.hash(secret),
            scopes=sorted(p.value for p in wanted),
            created_by=actor.user,
            expires_at=expires_at,
        )
        record(actor, "api_key.created", org=org, obj=key, after=_snapshot(key))
    return key, secret


def revoke_api_key(actor: Actor, *, key: ApiKey) -> ApiKey:
    """Needs api_keys.manage on the key's organisation; a key is revoked once, for good."""
    if Perm.API_KEYS_MANAGE not in own_perms(actor.user, key.org, api_key=actor.api_key):
        raise PermissionDenied
    with transaction.atomic():
        locked = ApiKey.objects.select_for_update().select_related("org").get(pk=key.pk)
        if locked.revoked_at is not None:
            raise ServiceError(_("This key has already been revoked."))
        before = _snapshot(locked)
        locked.revoked_at = timezone.now()
        locked.save(update_fields=["revoked_at"])
        record(actor, "api_key.revoked", org=locked.org, obj=locked, before=before, after=_snapshot(locked))
    return locked
