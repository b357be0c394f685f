"""Helpers of the partner program tests."""

from __future__ import annotations

from typing import Any

from django.core import mail

from partnerhub.accounts.models import User
from partnerhub.audit.models import AuditEntry
from partnerhub.orgs.models import Membership, Organisation
from partnerhub.partners.models import Application, EligibilityVolume, PartnerProfile, Program
from partnerhub.partnerships.models import Partnership, StaffAssignment


def membership(user: User, org: Organisation) -> Membership:
    return Membership.objects.get(user=user, org=org)


def activate(partner: Organisation, customer: Organisation) -> Partnership:
    """An active partnership (the partnerships area owns the flows; the staff page only lists them)."""
    return Partnership.objects.create(
        partner=partner, customer=customer, flow="created", origin="partner", status="active"
    )


def application_fields(**overrides: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "company_name": "Acme GmbH",
        "register_number": "CHE-123.456.789",
        "country": "CH",
        "website": "https://acme.example",
        "expected_volume": "2500",
        "currency": "CHF",
        "contact_name": "Alice Owner",
        "contact_email": "owner@acme.test",
        "contact_phone": "+41 44 000 00 00",
        "message": "We host 40 shops.",
    }
    fields.update(overrides)
    return fields


def pending(org: Organisation, user: User, **overrides: Any) -> Application:
    fields = application_fields(**overrides)
    return Application.objects.create(org=org, submitted_by=user, unmet_rules=[], **fields)


def snapshot() -> dict[str, Any]:
    """Everything a refused write must leave untouched."""
    return {
        "programs": list(Program.objects.order_by("pk").values()),
        "volumes": list(EligibilityVolume.objects.order_by("pk").values()),
        "applications": list(Application.objects.order_by("pk").values()),
        "profiles": list(PartnerProfile.objects.order_by("pk").values()),
        "partners": list(Organisation.objects.filter(is_partner=True).values_list("pk", flat=True)),
        "memberships": list(Membership.objects.order_by("pk").values()),
        "assignments": list(StaffAssignment.objects.order_by("pk").values()),
        "audit": AuditEntry.objects.count(),
        "mails": len(mail.outbox),
    }


def actions() -> list[str]:
    return list(AuditEntry.objects.order_by("pk").values_list("action", flat=True))
