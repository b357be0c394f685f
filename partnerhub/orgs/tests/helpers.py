"""Shared helpers of the organisations tests."""

from __future__ import annotations

import re
from typing import Any

from django.core import mail

from conftest import actor as actor  # re-exported: the one definition is in conftest.py
from partnerhub.accounts.models import User
from partnerhub.audit.models import AuditEntry
from partnerhub.orgs.models import Invitation, Membership, Organisation


def snapshot() -> dict[str, Any]:
    """Everything a refused write must leave untouched."""
    return {
        "orgs": list(Organisation.objects.order_by("pk").values()),
        "memberships": list(Membership.objects.order_by("pk").values()),
        "invitations": list(Invitation.objects.order_by("pk").values()),
        "active_orgs": list(User.objects.order_by("pk").values_list("pk", "active_org_id")),
        "audit": AuditEntry.objects.count(),
        "mails": len(mail.outbox),
    }


def token_from_mail(message: Any) -> str:
    match = re.search(r"/invitations/([A-Za-z0-9_-]+)/", message.body)
    assert match, message.body
    return match.group(1)
