"""Builders for the payout tests: a partner with Gold rates (20 % on web hosting) and a customer,
commissions approved at a chosen time, and a snapshot of everything a refused action must keep."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.core import mail

from partnerhub.accounts.models import User
from partnerhub.audit.models import AuditEntry
from partnerhub.billing.models import BillingEvent
from partnerhub.commissions.accrual import accrue_pending
from partnerhub.commissions.ledger import approve_due, recompute_totals, stored_totals
from partnerhub.commissions.models import LedgerEntry, Payout, PayoutDetails, Totals
from partnerhub.commissions.tests.factories import customer_org, event, link, partner_org, set_tier
from partnerhub.orgs.models import Organisation
from partnerhub.partners.models import Program

ZURICH = ZoneInfo("Europe/Zurich")
T0 = datetime(2026, 1, 2, 12, tzinfo=ZURICH)


def at(year: int, month: int, day: int, hour: int = 12) -> datetime:
    return datetime(year, month, day, hour, tzinfo=ZURICH)


class Earner:
    """A Gold partner (20 % on web hosting) with one customer since T0."""

    def __init__(self, program: Program, slug: str = "bergwerk") -> None:
        self.org: Organisation = partner_org(slug)
        self.customer = customer_org(f"{slug}-kunde")
        link(self.org, self.customer, since=T0)
        set_tier(self.org, "Gold", T0, program)

    def earn(self, commission: str, when: datetime) -> BillingEvent:
        """A payment paying `commission` (20 % of five times it) at `when`, accrued."""
        base = Decimal(commission) * 5
        e = event(self.customer, "payment", [("web-hosting", f"{base:.2f}")], at=when)
        accrue_pending()
        return e

    def refund(self, original: BillingEvent, when: datetime) -> BillingEvent:
        line = original.lines.get()
        e = event(self.customer, "refund", [("web-hosting", line.base_amount)], at=when, refers_to=original)
        accrue_pending()
        return e


def approve(when: datetime) -> int:
    return approve_due(now=when)


def details(org: Organisation, user: User | None = None) -> PayoutDetails:
    return PayoutDetails.objects.create(
        org=org, account_holder="Bergwerk GmbH", iban="CH9300762011623852957", updated_by=user
    )


def month(year: int, month_number: int) -> date:
    return date(year, month_number, 1)


def totals_match() -> bool:
    return stored_totals() == recompute_totals()


def snapshot() -> dict[str, Any]:
    """Everything a refused payout action must leave untouched."""
    return {
        "payouts": list(Payout.objects.order_by("pk").values()),
        "entries": list(LedgerEntry.objects.order_by("pk").values("pk", "status", "payout_id", "paid_at")),
        "totals": list(Totals.objects.order_by("pk").values()),
        "details": list(PayoutDetails.objects.order_by("pk").values()),
        "audit": AuditEntry.objects.count(),
        "mails": len(mail.outbox),
    }
