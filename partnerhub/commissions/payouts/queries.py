"""What the payout pages and the API read: a beneficiary's payouts and carried-over balance, the
operator's review queue, a payout's entries. Missing or foreign rows answer 404."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, QuerySet, Sum
from django.http import Http404

from partnerhub.commissions.models import EntryStatus, LedgerEntry, Payout, PayoutDetails, PayoutStatus
from partnerhub.core.money import from_minor
from partnerhub.core.paging import Keyset, keyset_page
from partnerhub.orgs.models import Organisation

PAGE_SIZE = 25


@dataclass(frozen=True)
class Balance:
    """Approved commissions not in a payout yet (they go into the next statement), per currency."""

    currency: str
    amount_minor: int
    entries: int

    @property
    def amount(self) -> Decimal:
        return from_minor(self.amount_minor, self.currency)


def payouts_of(org: Organisation) -> QuerySet[Payout]:
    return Payout.objects.filter(beneficiary=org).order_by("-id")


def payout_page(org: Organisation, *, before: int | None = None, after: int | None = None) -> Keyset[Payout]:
    return keyset_page(payouts_of(org), before=before, after=after, size=PAGE_SIZE)


def payout_of(org: Organisation, payout_id: int) -> Payout:
    payout = Payout.objects.filter(beneficiary=org, pk=payout_id).select_related("beneficiary").first()
    if payout is None:
        raise Http404
    return payout


def carried_over(org: Organisation) -> list[Balance]:
    """The balance that carries over: approved entries without a payout, per currency (may be negative)."""
    rows = (
        LedgerEntry.objects.filter(beneficiary=org, status=EntryStatus.APPROVED, payout__isnull=True)
        .values("currency")
        .annotate(total=Sum("amount_minor"), n=Count("id"))
        .order_by("currency")
    )
    return [Balance(currency=r["currency"], amount_minor=r["total"] or 0, entries=r["n"] or 0) for r in rows]


def details_of(org: Organisation) -> PayoutDetails | None:
    return PayoutDetails.objects.filter(org=org).first()


def payouts_for_review(status: str = "") -> QuerySet[Payout]:
    rows = Payout.objects.select_related("beneficiary").order_by("-id")
    if status:
        rows = rows.filter(status=status)
    return rows


def review_page(status: str = "", *, before: int | None = None, after: int | None = None) -> Keyset[Payout]:
    return keyset_page(payouts_for_review(status), before=before, after=after, size=PAGE_SIZE)


def payout_for_review(payout_id: int) -> Payout:
    payout = Payout.objects.filter(pk=payout_id).select_related("beneficiary", "approved_by", "paid_by").first()
    if payout is None:
        raise Http404
    return payout


def entries_of(payout: Payout) -> QuerySet[LedgerEntry]:
    """The entries a payout holds (a cancelled payout holds none any more), oldest first."""
    return LedgerEntry.objects.filter(payout=payout).select_related("customer").order_by("id")


def open_statuses() -> tuple[str, ...]:
    return (PayoutStatus.OPEN, PayoutStatus.APPROVED)
