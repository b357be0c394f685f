"""The billing events of Partnerhub's own invoices (paid, refunded): :func:`record_invoice_event`."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC
from decimal import ROUND_FLOOR, Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from partnerhub.access.operator import find_operator
from partnerhub.access.policy import Actor
from partnerhub.billing.events.payload import (
    INVOICE_PREFIX,
    REVERSIBLE,
    REVERSING,
    _Event,
    _Line,
    payload_hash,
)
from partnerhub.billing.events.store import _write_one
from partnerhub.billing.models import (
    BillingEvent,
    BillingEventKind,
    BillingEventLine,
    Invoice,
    InvoiceKind,
    InvoiceLine,
)
from partnerhub.core.errors import ServiceError
from partnerhub.core.money import exponent

# --- Partnerhub's own invoices -------------------------------------------------------------------


def invoice_event_id(invoice: Invoice, suffix: str) -> str:
    """``invoice:CHF-000123:paid``, ``invoice:CHF-000123:refund:2``."""
    return f"{INVOICE_PREFIX}{invoice.display_number}:{suffix}"


def split_proportionally(weights: Sequence[Decimal], amount: Decimal, currency: str) -> list[Decimal]:
    """Share `amount` among lines in proportion to `weights`, in whole minor units, summing exactly.

    Largest-remainder (Hamilton) apportionment: each line first gets its exact share rounded *down*
    to the minor unit; the minor units still missing go one each to the lines with the largest
    remainders (ties: the earlier line). Whenever rounding every share half-up already adds up to
    `amount`, this gives exactly that result; otherwise it moves the fewest possible minor units.
    With 0 ≤ amount ≤ sum(weights) and weights in whole minor units, no share is negative and no
    share exceeds its weight.
    """
    quantum = exponent(currency)
    total = sum(weights, Decimal(0))
    if amount < 0 or amount > total:
        raise ValueError("amount must lie between 0 and the sum of the weights")
    if amount != amount.quantize(quantum):
        raise ValueError("amount has more decimals than the currency's minor unit")
    if total == 0:
        return [Decimal(0).quantize(quantum) for _ in weights]
    units = int((amount / quantum).to_integral_value())
    exact = [weight * units / total for weight in weights]
    floors = [int(share.to_integral_value(rounding=ROUND_FLOOR)) for share in exact]
    missing = units - sum(floors)
    by_remainder = sorted(range(len(weights)), key=lambda i: (-(exact[i] - floors[i]), i))
    for i in by_remainder[:missing]:
        floors[i] += 1
    return [(Decimal(units_i) * quantum).quantize(quantum) for units_i in floors]


def record_invoice_event(
    invoice: Invoice, kind: str, *, amount: Decimal | None = None, actor: Actor | None = None
) -> BillingEvent:
    """The billing event of one of Partnerhub's own invoices; call it inside the invoice's transaction.

    - ``kind="payment"`` (or ``"renewal"``) when the invoice is paid. The event's kind follows the
      invoice: ``renewal`` for renewal invoices (``Invoice.kind``), ``payment`` for order invoices.
      One line per invoice line with a positive total
      (product, its category, the line total), ``external_id`` ``invoice:<CUR>-<number>:paid``,
      ``occurred_at`` = ``invoice.paid_at`` (or now). Calling it again for the same invoice returns
      the stored payment event (nothing new is written).
    - ``kind="refund"`` when (part of) it is refunded: `amount` (default: everything not refunded
      yet) is split over the paid event's lines in proportion to what is still unrefunded on each
      line (:func:`split_proportionally`: sums to `amount` exactly, no line above what is left of
      it, none negative; lines whose share is zero are left out, each line keeps the paid line's
      number). ``external_id`` ``invoice:<CUR>-<number>:refund:<n>`` (n = 1, 2, … per invoice).

    No access check: the invoice service calling it has done that. Raises ``ServiceError`` for a
    refund without a recorded payment, or an amount that is not positive or exceeds what is left.
    Writes one ``billing_event.created`` audit entry (operator organisation, like the API's).
    """
    if kind in REVERSIBLE:
        return _record_invoice_payment(invoice, actor)
    if kind == BillingEventKind.REFUND:
        return _record_invoice_refund(invoice, amount, actor)
    raise ValueError(f"record_invoice_event: kind must be payment, renewal or refund, not {kind!r}")


def _invoice_line_source(line: InvoiceLine) -> tuple[str, int | None, str]:
    sku = line.product.sku if line.product is not None else ""
    return sku, line.product_id, line.category_slug or (line.product.category.slug if line.product else "")


def _record_invoice_payment(invoice: Invoice, actor: Actor | None) -> BillingEvent:
    external_id = invoice_event_id(invoice, "paid")
    # Asked again for the same invoice (a retried task, say): the payment is recorded already.
    # (Only a shortcut: two concurrent first calls are still decided by the unique constraint.)
    stored = BillingEvent.objects.filter(external_id=external_id, invoice_id=invoice.pk).first()
    if stored is not None:
        return stored
    currency = invoice.currency
    lines = []
    for line in invoice.lines.select_related("product__category").order_by("line_no"):
        amount = line.total.quantize(exponent(currency))
        if amount <= 0:
            continue
        sku, product_id, category = _invoice_line_source(line)
        lines.append(_Line(sku=sku, amount=amount, product_id=product_id, category_slug=category, line_no=line.line_no))
    event = _Event(
        external_id=external_id,
        kind=BillingEventKind.RENEWAL if invoice.kind == InvoiceKind.RENEWAL else BillingEventKind.PAYMENT,
        org_slug=invoice.org.slug,
        currency=currency,
        occurred_at=(invoice.paid_at or timezone.now()).astimezone(UTC),
        refers_to="",
        lines=lines,
    )
    event.hash = payload_hash(event.canonical())
    with transaction.atomic():
        return _write_one(
            actor, event, invoice.org, audit_org=find_operator(), source="invoice", invoice_id=invoice.pk
        ).event


def _record_invoice_refund(invoice: Invoice, amount: Decimal | None, actor: Actor | None) -> BillingEvent:
    currency = invoice.currency
    quantum = exponent(currency)
    paid_id = invoice_event_id(invoice, "paid")
    with transaction.atomic():
        paid = BillingEvent.objects.select_for_update().filter(external_id=paid_id).first()
        if paid is None:
            raise ServiceError(_("The invoice %(number)s has no recorded payment to refund.") % {"number": invoice})
        paid_lines = list(paid.lines.order_by("line_no"))
        refunded: dict[int, Decimal] = defaultdict(Decimal)
        for line_no, value in BillingEventLine.objects.filter(
            event__refers_to=paid_id, event__kind__in=list(REVERSING)
        ).values_list("line_no", "base_amount"):
            refunded[line_no] += value
        left = [max(line.base_amount - refunded[line.line_no], Decimal(0)).quantize(quantum) for line in paid_lines]
        remaining = sum(left, Decimal(0))
        wanted = remaining if amount is None else amount
        if isinstance(wanted, float) or wanted != wanted.quantize(quantum):
            raise ServiceError(_("The amount has more decimals than %(currency)s allows.") % {"currency": currency})
        wanted = wanted.quantize(quantum)
        if wanted <= 0:
            raise ServiceError(_("There is nothing left to refund on this invoice."))
        if wanted > remaining:
            raise ServiceError(
                _("Only %(left)s %(currency)s of this invoice is left to refund.")
                % {"left": remaining, "currency": currency}
            )
        shares = split_proportionally(left, wanted, currency)
        count = BillingEvent.objects.filter(
            refers_to=paid_id, invoice_id=invoice.pk, kind=BillingEventKind.REFUND
        ).count()
        lines = [
            _Line(
                sku=line.product_sku,
                amount=share,
                product_id=line.product_id,
                category_slug=line.category_slug,
                line_no=line.line_no,
            )
            for line, share in zip(paid_lines, shares, strict=True)
            if share > 0
        ]
        event = _Event(
            external_id=invoice_event_id(invoice, f"refund:{count + 1}"),
            kind=BillingEventKind.REFUND,
            org_slug=invoice.org.slug,
            currency=currency,
            occurred_at=timezone.now().astimezone(UTC),
            refers_to=paid_id,
            lines=lines,
        )
        event.hash = payload_hash(event.canonical())
        return _write_one(
            actor, event, invoice.org, audit_org=find_operator(), source="invoice", invoice_id=invoice.pk
        ).event
