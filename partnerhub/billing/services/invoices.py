"""Invoices: gapless numbers per currency, and the status machine
``open → paid | overdue | cancelled``, ``overdue → paid | cancelled``, ``paid → refunded``.

Cancelling or refunding an invoice whose order credited cashback to a partner's wallet reverses that
cashback (all of it, or the refunded share) in the same transaction, listed in the audit entry.

Operator staff with the billing permission (:data:`OPERATOR_BILLING`) mark invoices paid, refund
and cancel them. Paid and refunded invoices emit billing events (the input of commission accrual)
in the same transaction.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any, Protocol

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from partnerhub.access.operator import require_operator
from partnerhub.access.policy import Actor
from partnerhub.audit.services import record
from partnerhub.billing import wallets
from partnerhub.billing.models import (
    BillingEventKind,
    CustomerProduct,
    Invoice,
    InvoiceKind,
    InvoiceLine,
    InvoiceSequence,
    InvoiceStatus,
    Order,
    OrderStatus,
    ProductStatus,
    WalletEntry,
    WalletEntryKind,
)
from partnerhub.billing.services.common import OPERATOR_BILLING
from partnerhub.catalog.models import Product
from partnerhub.core.errors import ServiceError
from partnerhub.core.money import MAX_AMOUNT, parse_amount, round_money
from partnerhub.orgs.models import Organisation

INVOICE_DUE_DAYS = 14
PAYABLE = (InvoiceStatus.OPEN, InvoiceStatus.OVERDUE)


class InvalidPaymentTime(ServiceError):
    """The ``paid_at`` given is in the future or before the invoice was issued (the API answers 422)."""


# A payment time "now" sent by a client whose clock runs a little ahead is not "in the future".
PAID_AT_SKEW = timedelta(minutes=5)


def invoice_state(invoice: Invoice) -> dict[str, Any]:
    return {
        "number": invoice.display_number,
        "status": invoice.status,
        "total": str(invoice.total),
        "refunded_amount": str(invoice.refunded_amount),
        "paid_at": invoice.paid_at.isoformat() if invoice.paid_at else None,
    }


def _next_number(currency: str) -> int:
    """The next number in `currency`, holding the sequence row's lock until the caller's transaction ends.

    Numbers come without gaps because the increment commits or rolls back together with the invoice.
    """
    sequence = InvoiceSequence.objects.select_for_update().filter(currency=currency).first()
    if sequence is None:
        try:
            with transaction.atomic():
                InvoiceSequence.objects.create(currency=currency, last_number=0)
        except IntegrityError:
            pass  # a concurrent transaction created it first; wait for its lock below
        sequence = InvoiceSequence.objects.select_for_update().get(currency=currency)
    sequence.last_number += 1
    sequence.save(update_fields=["last_number"])
    return sequence.last_number


class InvoiceableLine(Protocol):
    """What an invoice line is made of: an order line, or a renewal's priced line."""

    @property
    def product(self) -> Product: ...
    @property
    def description(self) -> str: ...
    @property
    def quantity(self) -> int: ...
    @property
    def unit_price(self) -> Decimal: ...
    @property
    def list_total(self) -> Decimal: ...
    @property
    def discount(self) -> Decimal: ...
    @property
    def total(self) -> Decimal: ...


def issue_invoice(
    *,
    org: Organisation,
    currency: str,
    lines: Iterable[InvoiceableLine],
    order: Order | None = None,
    kind: str = InvoiceKind.ORDER,
) -> Invoice | None:
    """Invoice `lines` to `org` (the payer); None when there is nothing to invoice.

    A ledger primitive for the order and renewal services: call it inside that service's
    transaction (it checked access and records the audit entry). The number is drawn in the same
    transaction. ``kind`` is ``renewal`` for renewal invoices (their payment is a renewal event).
    """
    rows = list(lines)
    if not rows:
        return None
    if transaction.get_autocommit():
        raise RuntimeError("issue_invoice must run inside the caller's transaction")
    zero = round_money(Decimal(0), currency)
    invoice = Invoice.objects.create(
        number=_next_number(currency),
        kind=kind,
        currency=currency,
        org=org,
        order=order,
        due_on=timezone.localdate() + timedelta(days=INVOICE_DUE_DAYS),
        subtotal=sum((line.list_total for line in rows), zero),
        discount_total=sum((line.discount for line in rows), zero),
        total=sum((line.total for line in rows), zero),
    )
    InvoiceLine.objects.bulk_create(
        InvoiceLine(
            invoice=invoice,
            line_no=number,
            product=line.product,
            category_slug=line.product.category.slug,
            description=line.description,
            quantity=line.quantity,
            unit_price=line.unit_price,
            discount=line.discount,
            total=line.total,
        )
        for number, line in enumerate(rows, start=1)
    )
    return invoice


def _emit(actor: Actor, invoice: Invoice, kind: str, amount: Decimal | None = None) -> None:
    from partnerhub.billing.events import record_invoice_event

    record_invoice_event(invoice, kind, amount=amount, actor=actor)


def _cashback_reversals(invoice: Invoice, *, refunded: Decimal | None) -> list[dict[str, Any]]:
    """Reverse the cashback credited for the order lines of `invoice`; inside the invoice's transaction.

    ``refunded=None`` (the invoice is cancelled, or refunded in full) reverses everything that remains
    of each cashback entry. Otherwise `refunded` is the invoice's refunded amount so far, this refund
    included: the cashback reversed in total becomes ``cashback × refunded / invoice total``, rounded
    half-up to the minor unit and shared over the lines in proportion to their cashback with
    :func:`~partnerhub.billing.events.split_proportionally` (largest remainders: no line gets more
    than it was credited); each line is reversed by what it still lacks of its share. Computing the
    cumulative target, not each refund's own share, keeps repeated partial refunds from drifting: the
    last one reverses exactly what remains. Returns the reversals for the audit entry's ``after``.
    """
    if invoice.order_id is None or invoice.kind != InvoiceKind.ORDER:
        return []
    entries = list(
        WalletEntry.objects.filter(kind=WalletEntryKind.CASHBACK, order_line__order_id=invoice.order_id)
        .select_related("wallet__org")
        .order_by("id")
    )
    if not entries:
        return []
    done: dict[int, Decimal] = dict.fromkeys((entry.pk for entry in entries), Decimal(0))
    # Summed here, not with SQL SUM: SQLite adds decimals as floats.
    for entry_id, amount in WalletEntry.objects.filter(reverses__in=entries).values_list("reverses_id", "amount"):
        done[entry_id] -= amount
    currency = invoice.currency
    credited = [entry.amount for entry in entries]
    if refunded is None or invoice.total <= 0 or refunded >= invoice.total:
        targets = credited
    else:
        from partnerhub.billing.events import split_proportionally

        target = round_money(sum(credited, Decimal(0)) * refunded / invoice.total, currency)
        targets = split_proportionally(credited, target, currency)
    reason = (
        _("Cashback reversed: invoice %(number)s cancelled")
        if invoice.status == InvoiceStatus.CANCELLED
        else _("Cashback reversed: refund of invoice %(number)s")
    ) % {"number": invoice.display_number}
    reversals = []
    for entry, target in zip(entries, targets, strict=True):
        amount = round_money(min(target, entry.amount) - done[entry.pk], currency)
        if amount <= 0:
            continue
        reversal = wallets.reverse_entry(entry=entry, amount=amount, description=reason)
        reversals.append(
            {
                "wallet": f"{entry.wallet.org.slug} {entry.wallet.currency}",
                "entry": reversal.pk,
                "reverses": entry.pk,
                "amount": str(reversal.amount),
            }
        )
    return reversals


VOID = (InvoiceStatus.CANCELLED, InvoiceStatus.REFUNDED)


def _void_order(actor: Actor, invoice: Invoice) -> dict[str, Any]:
    """Cancel the order of a cancelled or fully refunded order invoice; inside the invoice's transaction.

    Once every invoice of the order is cancelled or refunded, the order becomes cancelled and the
    customer products created from it end now (each with its ``customer_product.cancelled`` audit
    entry): they were never paid, so they must not be renewal-invoiced later. Renewal invoices leave
    their products alone: invoicing a renewal already moved the renewal date past the term it
    covers, so a cancelled or refunded renewal invoice is not issued again for that term (the
    operator suspends or cancels the product if the customer does not pay). Returns what to add to
    the invoice's audit entry.
    """
    if invoice.kind != InvoiceKind.ORDER or invoice.order_id is None:
        return {}
    from partnerhub.billing.services.products import end_customer_product

    order = Order.objects.select_for_update().get(pk=invoice.order_id)
    if order.status == OrderStatus.CANCELLED:
        return {}
    if order.invoices.exclude(status__in=VOID).exists():
        return {}
    order.status = OrderStatus.CANCELLED
    order.save(update_fields=["status"])
    products = list(
        CustomerProduct.objects.select_for_update()
        .filter(order_line__order=order)
        .exclude(status=ProductStatus.CANCELLED)
        .select_related("org", "product")
        .order_by("id")
    )
    for cp in products:
        end_customer_product(actor, cp)
    record(
        actor,
        "order.cancelled",
        org=order.org,
        obj=order,
        before={"order": str(order), "status": OrderStatus.PLACED.value},
        after={"order": str(order), "status": order.status, "invoice": invoice.display_number},
    )
    return {"order_cancelled": str(order), "products_ended": [cp.pk for cp in products]}


def _locked(invoice: Invoice) -> Invoice:
    return Invoice.objects.select_for_update().select_related("org").get(pk=invoice.pk)


def mark_invoice_paid(actor: Actor, *, invoice: Invoice, paid_at: datetime | None = None) -> Invoice:
    """Operator billing staff record the payment of an open or overdue invoice (emits a payment event).

    ``paid_at`` (default: now) is an aware moment between the invoice's issue and now (up to
    :data:`PAID_AT_SKEW` ahead is taken as now); anything else is a ServiceError.
    """
    require_operator(actor, OPERATOR_BILLING)
    with transaction.atomic():
        locked = _locked(invoice)
        if locked.status not in PAYABLE:
            raise ServiceError(
                _("Invoice %(number)s is %(status)s: it cannot be marked paid.")
                % {"number": locked.display_number, "status": locked.get_status_display()}
            )
        now = timezone.now()
        if paid_at is not None:
            if timezone.is_naive(paid_at):
                raise InvalidPaymentTime(_("Enter the payment time with a time zone."))
            if paid_at > now + PAID_AT_SKEW:
                raise InvalidPaymentTime(_("The payment time cannot be in the future."))
            if paid_at < locked.issued_at:
                raise InvalidPaymentTime(
                    _("The payment time cannot be before invoice %(number)s was issued (%(issued)s).")
                    % {"number": locked.display_number, "issued": locked.issued_at.isoformat(timespec="seconds")}
                )
        before = invoice_state(locked)
        locked.status = InvoiceStatus.PAID
        locked.paid_at = min(paid_at, now) if paid_at is not None else now
        locked.save(update_fields=["status", "paid_at"])
        _emit(actor, locked, BillingEventKind.PAYMENT)
        record(actor, "invoice.paid", org=locked.org, obj=locked, before=before, after=invoice_state(locked))
    return locked


def refund_invoice(actor: Actor, *, invoice: Invoice, amount: Decimal | str) -> Invoice:
    """Operator billing staff refund part or all of a paid invoice, never more than what was paid."""
    require_operator(actor, OPERATOR_BILLING)
    try:
        value = parse_amount(amount)
    except (ValueError, TypeError, InvalidOperation) as exc:
        raise ServiceError(_("Enter an amount, e.g. 12.50.")) from exc
    # Bounded before quantizing: a huge value (e.g. "1e30") makes quantize raise InvalidOperation.
    if value >= MAX_AMOUNT:
        raise ServiceError(_("The amount is too large."))
    with transaction.atomic():
        locked = _locked(invoice)
        if locked.status != InvoiceStatus.PAID:
            raise ServiceError(
                _("Invoice %(number)s is %(status)s: only paid invoices can be refunded.")
                % {"number": locked.display_number, "status": locked.get_status_display()}
            )
        if value <= 0 or round_money(value, locked.currency) != value:
            raise ServiceError(
                _("A refund is a positive amount in whole %(currency)s minor units.") % {"currency": locked.currency}
            )
        left = locked.total - locked.refunded_amount
        if value > left:
            raise ServiceError(
                _("At most %(left)s %(currency)s of this invoice can still be refunded.")
                % {"left": round_money(left, locked.currency), "currency": locked.currency}
            )
        before = invoice_state(locked)
        locked.refunded_amount += value
        if locked.refunded_amount == locked.total:
            locked.status = InvoiceStatus.REFUNDED
        locked.save(update_fields=["refunded_amount", "status"])
        _emit(actor, locked, BillingEventKind.REFUND, value)
        after = {**invoice_state(locked), "refund": str(value)}
        reversals = _cashback_reversals(
            locked, refunded=None if locked.status == InvoiceStatus.REFUNDED else locked.refunded_amount
        )
        if reversals:
            after["cashback_reversed"] = reversals
        if locked.status == InvoiceStatus.REFUNDED:
            after.update(_void_order(actor, locked))
        record(actor, "invoice.refunded", org=locked.org, obj=locked, before=before, after=after)
    return locked


def cancel_invoice(actor: Actor, *, invoice: Invoice) -> Invoice:
    """Operator billing staff cancel an open or overdue invoice (paid ones are refunded instead)."""
    require_operator(actor, OPERATOR_BILLING)
    with transaction.atomic():
        locked = _locked(invoice)
        if locked.status not in PAYABLE:
            raise ServiceError(
                _("Invoice %(number)s is %(status)s: only open or overdue invoices can be cancelled.")
                % {"number": locked.display_number, "status": locked.get_status_display()}
            )
        before = invoice_state(locked)
        locked.status = InvoiceStatus.CANCELLED
        locked.cancelled_at = timezone.now()
        locked.save(update_fields=["status", "cancelled_at"])
        after = invoice_state(locked)
        reversals = _cashback_reversals(locked, refunded=None)
        if reversals:
            after["cashback_reversed"] = reversals
        after.update(_void_order(actor, locked))
        record(actor, "invoice.cancelled", org=locked.org, obj=locked, before=before, after=after)
    return locked


def mark_overdue_invoices(*, today: date | None = None) -> int:
    """The system marks open invoices past their due date overdue (one UPDATE); returns how many."""
    today = today or timezone.localdate()
    with transaction.atomic():
        due = Invoice.objects.select_for_update().filter(status=InvoiceStatus.OPEN, due_on__lt=today)
        rows = list(due.select_related("org"))
        Invoice.objects.filter(pk__in=[row.pk for row in rows]).update(status=InvoiceStatus.OVERDUE)
        for row in rows:
            before = invoice_state(row)
            row.status = InvoiceStatus.OVERDUE
            record(None, "invoice.overdue", org=row.org, obj=row, before=before, after=invoice_state(row))
    return len(rows)
