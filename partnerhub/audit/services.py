"""Writing audit entries. Called by every service inside its transaction."""

from __future__ import annotations

from typing import Any

from django.db import models

from partnerhub.access.policy import Actor
from partnerhub.audit.models import AuditEntry
from partnerhub.orgs.models import Organisation


def record(
    actor: Actor | None,
    action: str,
    *,
    org: Organisation | None,
    obj: models.Model | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> AuditEntry:
    """Append one audit entry; the caller's transaction makes it part of the same write."""
    user = actor.user if actor and actor.user.is_authenticated else None
    return AuditEntry.objects.create(
        actor=user,
        actor_email=user.email if user else "",
        org=org,
        action=action,
        object_type=obj._meta.label_lower if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
        object_repr=str(obj)[:200] if obj is not None else "",
        before=before,
        after=after,
        ip=actor.ip if actor else None,
        user_agent=actor.user_agent if actor else "",
        api_key_id=actor.api_key.pk if actor and actor.api_key else None,
        # Acting for a customer (partner grant or support access): whom for, and in which session.
        on_behalf_of_partner_id=actor.partner_id if actor and org is not None and actor.partner_id != org.pk else None,
        management_session_id=actor.session_id if actor else None,
    )
