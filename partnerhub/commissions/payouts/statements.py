"""Monthly statements: per beneficiary and currency, the approved entries not in a payout yet.

:func:`create_statements` runs every day for the month that ended last (``commissions_daily``); it is
idempotent, so a missed day catches up and a second run creates nothing. For the month `period` it
sums, per beneficiary and currency, every approved entry without a payout that was approved before the
month ended (reversals included, so a reversed paid commission is deducted here). A sum of at least
the program's payout minimum (the same number in each currency) becomes an open payout holding those
entries; a smaller or negative sum creates nothing and the balance carries over to the next month.

Attaching is one set-based UPDATE per payout bounded by the highest entry id summed, so an entry
approved meanwhile waits for the next statement. The database keeps one payout per beneficiary,
currency and month (``one_payout_per_month``); a month whose payout was cancelled is not issued
again: its entries, released by the cancellation, go into the next month's statement.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal

from django.db import IntegrityError, connection, transaction
from django.db.models import Max, Sum
from django.utils import timezone

from partnerhub.audit.services import record
from partnerhub.commissions.models import EntryStatus, LedgerEntry, Payout, PayoutStatus
from partnerhub.core.money import to_minor
from partnerhub.orgs.models import Organisation
from partnerhub.partners.models import Program

DEFAULT_MINIMUM = Decimal(50)


@dataclass
class StatementRun:
    """What one run did: payouts created, balances carried over (below the minimum or negative)."""

    created: int = 0
    carried_over: int = 0


class _Changed(Exception):
    """The entries changed between the sum and the attach (another run took them): skip this one."""


def next_month(month: date) -> date:
    return date(month.year + month.month // 12, month.month % 12 + 1, 1)


def previous_month(today: date) -> date:
    first = date(today.year, today.month, 1)
    return date(first.year - (first.month == 1), (first.month - 2) % 12 + 1, 1)


def month_start(month: date) -> datetime:
    """The first moment of `month` in the installation's time zone."""
    return timezone.make_aware(datetime.combine(month, time.min))


def payout_minimum() -> Decimal:
    program = Program.objects.filter(operator__is_operator=True).only("payout_minimum").first()
    return program.payout_minimum if program is not None else DEFAULT_MINIMUM


def _attach(payout: Payout, cutoff: datetime, last_id: int) -> list[int]:
    """Attach the beneficiary's unpaid approved entries up to `last_id` to `payout`; their amounts."""
    table = LedgerEntry._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET payout_id = %s "  # noqa: S608
            "WHERE beneficiary_id = %s AND currency = %s AND status = 'approved' AND payout_id IS NULL "
            "AND approved_at < %s AND id <= %s RETURNING amount_minor",
            [
                payout.pk,
                payout.beneficiary_id,
                payout.currency,
                connection.ops.adapt_datetimefield_value(cutoff),
                last_id,
            ],
        )
        return [row[0] for row in cursor.fetchall()]


def create_statements(period: date, *, now: datetime | None = None) -> StatementRun:
    """Issue the statements of the month `period` (any day in it); idempotent. Returns what it did.

    A month that has not ended yet issues nothing (its entries may still grow).
    """
    now = now or timezone.now()
    period = date(period.year, period.month, 1)
    cutoff = month_start(next_month(period))
    run = StatementRun()
    if cutoff > now:
        return run
    minimum = payout_minimum()
    issued = set(Payout.objects.filter(period=period).values_list("beneficiary_id", "currency"))
    groups = (
        LedgerEntry.objects.filter(status=EntryStatus.APPROVED, payout__isnull=True, approved_at__lt=cutoff)
        .values("beneficiary_id", "currency")
        .annotate(total=Sum("amount_minor"), last=Max("id"))
        .order_by("beneficiary_id", "currency")
    )
    due: list[tuple[int, str, int, int]] = []
    for group in groups:
        key = (group["beneficiary_id"], group["currency"])
        if key in issued:
            continue
        if group["total"] <= 0 or group["total"] < to_minor(minimum, group["currency"]):
            run.carried_over += 1
            continue
        due.append((*key, group["total"], group["last"]))
    orgs = Organisation.objects.in_bulk({row[0] for row in due})
    for beneficiary_id, currency, total, last in due:
        threshold = max(1, to_minor(minimum, currency))
        try:
            with transaction.atomic():
                payout = Payout.objects.create(
                    beneficiary_id=beneficiary_id,
                    currency=currency,
                    period=period,
                    amount_minor=total,
                    status=PayoutStatus.OPEN,
                    created_at=now,
                )
                amount = sum(_attach(payout, cutoff, last))
                if amount != total:
                    if amount < threshold:
                        raise _Changed
                    payout.amount_minor = amount
                    payout.save(update_fields=["amount_minor"])
                record(
                    None,
                    "payout.created",
                    org=orgs[beneficiary_id],
                    obj=payout,
                    after={"period": period.isoformat(), "currency": currency, "amount_minor": amount},
                )
        except (IntegrityError, _Changed):
            continue  # another run issued this month, or took the entries meanwhile
        run.created += 1
    return run


def create_due_statements(*, now: datetime | None = None) -> StatementRun:
    """The daily run's step: the statements of the month that ended last (idempotent catch-up)."""
    now = now or timezone.now()
    return create_statements(previous_month(timezone.localdate(now)), now=now)
