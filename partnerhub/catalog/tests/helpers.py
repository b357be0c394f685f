"""Shared helpers of the catalog and program tests."""

from __future__ import annotations

from typing import Any

from django.core import mail

from conftest import actor as actor  # re-exported: the one definition is in conftest.py
from partnerhub.audit.models import AuditEntry
from partnerhub.catalog.models import Category, Price, Product
from partnerhub.partners.models import Program, VolumeTier


def snapshot() -> dict[str, Any]:
    """Everything a refused write must leave untouched."""
    return {
        "categories": list(Category.objects.order_by("pk").values()),
        "products": list(Product.objects.order_by("pk").values()),
        "prices": list(Price.objects.order_by("pk").values()),
        "programs": list(Program.objects.order_by("pk").values()),
        "tiers": list(VolumeTier.objects.order_by("pk").values()),
        "audit": AuditEntry.objects.count(),
        "mails": len(mail.outbox),
    }


def audit_actions() -> list[str]:
    return list(AuditEntry.objects.order_by("pk").values_list("action", flat=True))
