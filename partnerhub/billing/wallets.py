"""The prepaid wallet: one per organisation and currency, its balance the sum of append-only entries.

The writing functions here are ledger primitives, not user-facing services: they take no actor,
check no permission and write no audit entry. Their callers (the order service crediting cashback,
the refund service reversing it) are the services that check access and record the audit entry,
and they call these inside their own ``transaction.atomic()`` so that the wallet entry and the
order/refund commit or roll back together.

Entries are never changed or deleted (database triggers refuse it): a correction is a new,
negative ``reversal`` entry pointing at the entry it corrects.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.db.models import Count, DecimalField, QuerySet, Sum, Value
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _

from partnerhub.billing.models import OrderLine, Wallet, WalletEntry, WalletEntryKind
from partnerhub.core.errors import ServiceError
from partnerhub.core.money import round_money
from partnerhub.core.paging import Keyset, keyset_page
from partnerhub.orgs.models import Organisation

PAGE_SIZE = 50
ZERO = Decimal(0)
_SUM_FIELD = DecimalField(max_digits=18, decimal_places=4)


def _check_amount(amount: Decimal, currency: str) -> None:
    if isinstance(amount, float) or not isinstance(amount, Decimal) or not amount.is_finite():
        raise TypeError("a wallet amount is a finite Decimal, never a float")
    if round_money(amount, currency) != amount:
        raise ValueError(f"{amount} is not rounded to the minor unit of {currency}")


def credit_cashback(
    *, org: Organisation, currency: str, amount: Decimal, order_line: OrderLine | None, description: str
) -> WalletEntry:
    """Credit `amount` (> 0, rounded to the minor unit) of cashback to `org`'s wallet in `currency`.

    Creates the wallet on first use (race-safe: the unique (org, currency) constraint decides, a
    concurrent creator's row is read back). Call it inside the order service's transaction; that
    service checks access and records the audit entry (none is written here).
    """
    _check_amount(amount, currency)
    if amount <= 0:
        raise ValueError("cashback is a positive amount")
    if order_line is not None and order_line.order.currency != currency:
        raise ValueError("cashback is credited in the currency of its order")
    with transaction.atomic():
        wallet, _created = Wallet.objects.get_or_create(org=org, currency=currency)
        return WalletEntry.objects.create(
            wallet=wallet,
            kind=WalletEntryKind.CASHBACK,
            amount=amount,
            description=description[:200],
            order_line=order_line,
        )


def remaining(entry: WalletEntry) -> Decimal:
    """What of `entry` has not been reversed yet (its amount plus its reversals, which are negative)."""
    reversed_total: Decimal = WalletEntry.objects.filter(reverses=entry).aggregate(
        total=Coalesce(Sum("amount"), Value(ZERO), output_field=_SUM_FIELD)
    )["total"]
    return entry.amount + reversed_total


def reverse_entry(*, entry: WalletEntry, amount: Decimal | None = None, description: str) -> WalletEntry:
    """Post a negative reversal of `entry` (all that remains of it, or `amount` of it), linked to it.

    Only cashback entries can be reversed, and never by more than what remains of them after earlier
    reversals (ServiceError). The wallet row is locked so that concurrent reversals of the same
    entry are counted one after the other. Like :func:`credit_cashback`, the calling service checks
    access and records the audit entry.
    """
    with transaction.atomic():
        wallet = Wallet.objects.select_for_update().get(pk=entry.wallet_id)
        entry = WalletEntry.objects.get(pk=entry.pk)
        if entry.kind != WalletEntryKind.CASHBACK:
            raise ServiceError(_("Only a cashback entry can be reversed."))
        left = round_money(remaining(entry), wallet.currency)
        if left <= 0:
            raise ServiceError(_("This entry has already been reversed in full."))
        if amount is None:
            amount = left
        _check_amount(amount, wallet.currency)
        if amount <= 0:
            raise ServiceError(_("A reversal needs a positive amount."))
        if amount > left:
            raise ServiceError(
                _("At most %(left)s %(currency)s of this entry can still be reversed.")
                % {"left": left, "currency": wallet.currency}
            )
        return WalletEntry.objects.create(
            wallet=wallet,
            kind=WalletEntryKind.REVERSAL,
            amount=-amount,
            description=description[:200],
            order_line_id=entry.order_line_id,
            reverses=entry,
        )


def balance(org: Organisation, currency: str) -> Decimal:
    """`org`'s wallet balance in `currency` (zero without a wallet), in one aggregate query."""
    total = WalletEntry.objects.filter(wallet__org=org, wallet__currency=currency).aggregate(
        total=Coalesce(Sum("amount"), Value(ZERO), output_field=_SUM_FIELD)
    )["total"]
    return round_money(total, currency)


@dataclass(frozen=True)
class WalletBalance:
    currency: str
    balance: Decimal
    entry_count: int


def balances(org: Organisation) -> list[WalletBalance]:
    """Every wallet of `org` with its balance, by currency, in one query."""
    wallets = (
        Wallet.objects.filter(org=org)
        .annotate(total=Coalesce(Sum("entries__amount"), Value(ZERO), output_field=_SUM_FIELD), n=Count("entries"))
        .order_by("currency")
    )
    return [
        WalletBalance(currency=w.currency, balance=round_money(w.total, w.currency), entry_count=w.n) for w in wallets
    ]


def entries_for(org: Organisation, currency: str | None = None) -> QuerySet[WalletEntry]:
    """`org`'s wallet entries (of one currency, or all), newest first."""
    entries = WalletEntry.objects.filter(wallet__org=org).select_related("wallet").order_by("-id")
    if currency:
        entries = entries.filter(wallet__currency=currency)
    return entries


def page_of(
    org: Organisation,
    *,
    currency: str | None = None,
    before: int | None = None,
    after: int | None = None,
    size: int = PAGE_SIZE,
) -> Keyset[WalletEntry]:
    """Keyset pagination by id: the `size` entries older than `before`, or newer than `after`, or the newest."""
    return keyset_page(entries_for(org, currency), before=before, after=after, size=size)
