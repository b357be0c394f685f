"""Invoices: gapless numbers per currency, and the status machine
``open → paid | overdue | cancelled``, ``overdue → paid | cancelled``, ``paid → refunded``.

Operator staff with the billing permission (:data:`OPERATOR_BILLING`) mark invoices paid, refund
and cancel them. Paid and refunded invoices emit billing events (the input of commission accrual)
in the same transaction.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from partnerhub.access.policy import Actor
from partnerhub.audit.services import record
from partnerhub.billing.models import (
    BillingEventKind,
    Invoice,
    InvoiceLine,
    InvoiceSequence,
    InvoiceStatus,
    Order,
    OrderLine,
)
from partnerhub.billing.services.common import require_operator
from partnerhub.core.errors import ServiceError
from partnerhub.core.money import parse_amount, round_money
from partnerhub.orgs.models import Organisation

INVOICE_DUE_DAYS = 14
PAYABLE = (InvoiceStatus.OPEN, InvoiceStatus.OVERDUE)


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


def issue_invoice(
    *, org: Organisation, currency: str, lines: Iterable[OrderLine], order: Order | None = None
) -> Invoice | None:
    """Invoice `lines` to `org` (the payer); None when there is nothing to invoice.

    A ledger primitive for the order service: call it inside that service's transaction (it checked
    access and records the audit entry). The number is drawn in the same transaction.
    """
    rows = list(lines)
    if not rows:
        return None
    if transaction.get_autocommit():
        raise RuntimeError("issue_invoice must run inside the caller's transaction")
    zero = round_money(Decimal(0), currency)
    invoice = Invoice.objects.create(
        number=_next_number(currency),
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


def _locked(invoice: Invoice) -> Invoice:
    return Invoice.objects.select_for_update().select_related("org").get(pk=invoice.pk)


def mark_invoice_paid(actor: Actor, *, invoice: Invoice, paid_at: datetime | None = None) -> Invoice:
    """Operator billing staff record the payment of an open or overdue invoice (emits a payment event)."""
    require_operator(actor)
    with transaction.atomic():
        locked = _locked(invoice)
        if locked.status not in PAYABLE:
            raise ServiceError(
                _("Invoice %(number)s is %(status)s: it cannot be marked paid.")
                % {"number": locked.display_number, "status": locked.get_status_display()}
            )
        before = invoice_state(locked)
        locked.status = InvoiceStatus.PAID
        locked.paid_at = paid_at or timezone.now()
        locked.save(update_fields=["status", "paid_at"])
        _emit(actor, locked, BillingEventKind.PAYMENT)
        record(actor, "invoice.paid", org=locked.org, obj=locked, before=before, after=invoice_state(locked))
    return locked


def refund_invoice(actor: Actor, *, invoice: Invoice, amount: Decimal | str) -> Invoice:
    """Operator billing staff refund part or all of a paid invoice, never more than what was paid."""
    require_operator(actor)
    try:
        value = parse_amount(amount)
    except (ValueError, TypeError) as exc:
        raise ServiceError(_("Enter an amount, e.g. 12.50.")) from exc
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
        record(actor, "invoice.refunded", org=locked.org, obj=locked, before=before, after=after)
    return locked


def cancel_invoice(actor: Actor, *, invoice: Invoice) -> Invoice:
    """Operator billing staff cancel an open or overdue invoice (paid ones are refunded instead)."""
    require_operator(actor)
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
        record(actor, "invoice.cancelled", org=locked.org, obj=locked, before=before, after=invoice_state(locked))
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
