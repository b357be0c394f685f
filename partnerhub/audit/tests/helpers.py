"""Small builders for audit tests: entries are written straight to the table (INSERT is allowed)."""

from __future__ import annotations

from typing import Any

from partnerhub.accounts.models import User
from partnerhub.audit.models import AuditEntry
from partnerhub.orgs.models import Organisation


def add_entry(
    org: Organisation, action: str = "member.invited", *, actor: User | None = None, **fields: Any
) -> AuditEntry:
    return AuditEntry.objects.create(
        org=org, action=action, actor=actor, actor_email=actor.email if actor else "", **fields
    )
