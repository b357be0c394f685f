"""Shared helpers of the partnerships tests (plain functions)."""

from __future__ import annotations

import re
from typing import Any

from django.core import mail

from conftest import actor as actor  # re-exported: the one definition is in conftest.py
from partnerhub.audit.models import AuditEntry
from partnerhub.orgs.models import Invitation, Membership, Organisation
from partnerhub.partnerships.models import Grant, GrantProduct, Partnership


def snapshot() -> dict[str, Any]:
    """Everything a refused write must leave untouched."""
    return {
        "orgs": list(Organisation.objects.order_by("pk").values()),
        "memberships": list(Membership.objects.order_by("pk").values()),
        "invitations": Invitation.objects.count(),
        "partnerships": list(Partnership.objects.order_by("pk").values()),
        "grants": list(Grant.objects.order_by("pk").values()),
        "grant_products": list(GrantProduct.objects.order_by("pk").values_list("grant_id", "customer_product_id")),
        "audit": AuditEntry.objects.count(),
        "mails": len(mail.outbox),
    }


def token_from(message: Any) -> str:
    match = re.search(r"/partnerships/answer/([A-Za-z0-9_-]+)/", message.body)
    assert match, message.body
    return match.group(1)
