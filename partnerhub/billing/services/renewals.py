"""Renewals: the system invoices the next term of the products that are due (DESIGN §6, seed 004).

Due are active products (not trials, not cancelled at the end of their term) with a recurring
billing period whose renewal date has come. Every run (daily, ``partnerhub billing_daily``):

- prices each due product at the current catalog price in its currency (the currency of the order
  it came from, else of the organisation's latest order) through the pricing service, for as many
  terms as its renewal date moves on (a missed run catches up in one invoice line);
- relative licences are recounted first: they renew for the organisation's active members (seed 003);
- issues one renewal invoice (``Invoice.kind = renewal``, so its payment is a *renewal* billing event)
  per organisation and currency, with the gapless number of that currency;
- moves each renewal date past today — so a second run on the same day finds nothing due (idempotent);
- skips a product without a price in its currency (or without a known currency): it stays due, is
  logged, and gets one ``customer_product.renewal_skipped`` audit entry a day until someone acts.

A renewal invoice that is later cancelled or refunded leaves its products as they are: their renewal
date already moved past the terms it covered, so those terms are never invoiced again (the operator
suspends or cancels an unpaid product). Cancelling or fully refunding an *order* invoice instead
cancels the order and ends its products (``invoices._void_order``), so they are never due here.

Audit entries have no actor (the system). Everything happens in one transaction, the due products
locked (``SELECT … FOR UPDATE``): two concurrent runs cannot invoice the same renewal twice.

The partnership (delegated-access issue) plugs in through `partnership_for`: given the customer, it
returns the partnership's pricing inputs or None. Its reward is decided as for an order the customer
places; a partner paying with its own means gets the invoice, a discount lowers the price. Cashback
rewards orders only (its wallet entries point at order lines), so renewals credit none.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext as _

from partnerhub.audit.models import AuditEntry
from partnerhub.audit.services import record
from partnerhub.billing import pricing
from partnerhub.billing.models import CustomerProduct, Invoice, InvoiceKind, Order, ProductStatus
from partnerhub.billing.services.common import add_months, periods_in
from partnerhub.billing.services.invoices import issue_invoice
from partnerhub.billing.services.orders import OrderPartnership, _payer, _terms
from partnerhub.billing.services.products import product_state
from partnerhub.catalog.models import BillingPeriod, LicenceKind, Price, Product
from partnerhub.orgs.models import Membership, Organisation

logger = logging.getLogger(__name__)

RENEWED = "customer_product.renewed"
SKIPPED = "customer_product.renewal_skipped"

PartnershipFor = Callable[[Organisation], OrderPartnership | None]


@dataclass(frozen=True)
class RenewalLine:
    """One invoice line of a renewal (what :func:`issue_invoice` needs of a line)."""

    product: Product
    description: str
    quantity: int
    unit_price: Decimal
    list_total: Decimal
    discount: Decimal
    total: Decimal


@dataclass
class _Due:
    cp: CustomerProduct
    currency: str
    quantity: int
    terms: int  # how many terms this renewal covers (more than one after missed runs)
    next_renewal: date


def _advance(renews_on: date, term_months: int, today: date) -> tuple[date, int]:
    """The first renewal date after `today`, and how many terms that is from `renews_on`."""
    step, moved, terms = max(term_months, 1), renews_on, 0
    while moved <= today:
        moved, terms = add_months(moved, step), terms + 1
    return moved, terms


def _currencies(rows: list[CustomerProduct]) -> dict[int, str]:
    """Each product's currency: its order's, else its organisation's latest order's (None: unknown)."""
    latest: dict[int, str] = {}
    orgs_without = {row.org_id for row in rows if row.order_line is None}
    if orgs_without:
        for org_id, currency in (
            Order.objects.filter(org_id__in=orgs_without).order_by("org_id", "-id").values_list("org_id", "currency")
        ):
            latest.setdefault(org_id, currency)
    found: dict[int, str] = {}
    for row in rows:
        known = row.order_line.order.currency if row.order_line is not None else latest.get(row.org_id)
        if known:
            found[row.pk] = known
    return found


def _members(org_ids: set[int]) -> dict[int, int]:
    counts = (
        Membership.objects.filter(org_id__in=org_ids, user__is_active=True)
        .values("org_id")
        .annotate(n=Count("id"))
        .values_list("org_id", "n")
    )
    return dict(counts)


def _skip(row: CustomerProduct, reason: str, currency: str | None, today: date) -> None:
    logger.warning("renewal of customer product %s (%s, %s) skipped: %s", row.pk, row.org.slug, row.product.sku, reason)
    reported = AuditEntry.objects.filter(
        action=SKIPPED,
        object_type=CustomerProduct._meta.label_lower,
        object_id=str(row.pk),
        after__run_on=today.isoformat(),
    ).exists()
    if not reported:
        after = {**product_state(row), "currency": currency, "reason": reason, "run_on": today.isoformat()}
        record(None, SKIPPED, org=row.org, obj=row, after=after)


def _description(cp: CustomerProduct, until: date) -> str:
    return _("%(product)s: renewal until %(date)s") % {"product": cp.product.name, "date": until.isoformat()}


def invoice_renewals(*, today: date | None = None, partnership_for: PartnershipFor | None = None) -> int:
    """The system invoices every due renewal (see the module docstring); returns how many invoices it issued."""
    today = today or timezone.localdate()
    with transaction.atomic():
        rows = list(
            CustomerProduct.objects.select_for_update(of=("self",))
            .filter(
                status=ProductStatus.ACTIVE,
                cancel_at_term_end=False,
                renews_on__lte=today,
                product__billing_period__in=[BillingPeriod.MONTHLY, BillingPeriod.YEARLY],
            )
            .select_related("org", "product__category", "order_line__order")
            .order_by("id")
        )
        if not rows:
            logger.info("renewals: nothing due on %s", today)
            return 0
        currencies = _currencies(rows)
        prices = {
            (product_id, currency): amount
            for product_id, currency, amount in Price.objects.filter(
                product_id__in={row.product_id for row in rows}
            ).values_list("product_id", "currency", "amount")
        }
        relative_orgs = {row.org_id for row in rows if row.product.licence_kind == LicenceKind.RELATIVE}
        members = _members(relative_orgs) if relative_orgs else {}

        groups: dict[tuple[int, str], list[_Due]] = defaultdict(list)
        skipped = 0
        for row in rows:
            assert row.renews_on is not None  # the filter above
            currency = currencies.get(row.pk)
            if currency is None:
                _skip(row, "no currency known", None, today)
                skipped += 1
                continue
            if (row.product_id, currency) not in prices:
                _skip(row, f"no price in {currency}", currency, today)
                skipped += 1
                continue
            quantity = row.quantity
            if row.product.licence_kind == LicenceKind.RELATIVE:
                quantity = max(members.get(row.org_id, 0), 1)
            next_renewal, terms = _advance(row.renews_on, row.term_months, today)
            groups[(row.org_id, currency)].append(_Due(row, currency, quantity, terms, next_renewal))

        issued = renewed = 0
        for (_org_id, currency), due in groups.items():
            invoice = _invoice_group(due, currency, prices, partnership_for)
            renewed += len(due)
            issued += invoice is not None
        logger.info(
            "renewals on %s: %d invoice(s) issued, %d product(s) renewed, %d skipped", today, issued, renewed, skipped
        )
    return issued


def _invoice_group(
    due: list[_Due],
    currency: str,
    prices: dict[tuple[int, str], Decimal],
    partnership_for: PartnershipFor | None,
) -> Invoice | None:
    """Price, invoice and move on the due products of one organisation in one currency."""
    customer = due[0].cp.org
    partnership = partnership_for(customer) if partnership_for else None
    reward = pricing.Reward.NONE
    if partnership is not None:
        reward = pricing.decide_reward(partnership.terms, ordered_by=pricing.OrderedBy.CUSTOMER)
        if reward == pricing.Reward.CASHBACK:
            reward = pricing.Reward.NONE  # cashback rewards orders only (module docstring)
    breakdown = pricing.price_order(
        [
            pricing.LineInput(
                unit_price=prices[(d.cp.product_id, currency)] * periods_in(d.cp.product, d.cp.term_months) * d.terms,
                quantity=d.quantity,
                product_key=d.cp.product_id,
            )
            for d in due
        ],
        currency=currency,
        terms=_terms(reward, None),
        reward=reward,
    )
    lines = [
        RenewalLine(
            product=d.cp.product,
            description=_description(d.cp, d.next_renewal)[:200],
            quantity=d.quantity,
            unit_price=b.unit_price,
            list_total=b.list_total,
            discount=b.discount,
            total=b.payable,
        )
        for d, b in zip(due, breakdown.lines, strict=True)
    ]
    billable = [line for line in lines if line.total > 0]
    invoice = issue_invoice(
        org=_payer(customer, partnership), currency=currency, lines=billable, kind=InvoiceKind.RENEWAL
    )
    for d in due:
        before = product_state(d.cp)
        d.cp.quantity, d.cp.renews_on = d.quantity, d.next_renewal
        after: dict[str, Any] = {**product_state(d.cp), "invoice": invoice.display_number if invoice else None}
        record(None, RENEWED, org=customer, obj=d.cp, before=before, after=after)
    # Set-based: one UPDATE per new renewal date and quantity.
    updates: dict[tuple[date, int], list[int]] = defaultdict(list)
    for d in due:
        updates[(d.next_renewal, d.quantity)].append(d.cp.pk)
    for (renews_on, quantity), ids in updates.items():
        CustomerProduct.objects.filter(pk__in=ids).update(renews_on=renews_on, quantity=quantity)
    if invoice is not None:
        after = {
            "kind": InvoiceKind.RENEWAL.value,
            "currency": currency,
            "total": str(invoice.total),
            "products": [d.cp.pk for d in due],
        }
        record(None, "invoice.issued", org=invoice.org, obj=invoice, after=after)
    return invoice
