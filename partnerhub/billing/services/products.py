"""Customer products ("services", "articles", "licences"; DESIGN §6, seeds 002/003/004).

Who may do what:

- members with ``products.manage`` on the customer change the quantity of absolute licences
  (increases also need ``billing.order``: they are billed from the next renewal), cancel at the end
  of the term and withdraw that cancellation;
- members with ``billing.order`` convert a trial into a paid product (an order at current prices);
- operator billing staff (:data:`OPERATOR_BILLING`) add products, suspend, reactivate and cancel
  at once;
- the system (scheduled tasks, actor None in the audit log) recounts relative licences at renewal
  and ends products whose cancellation or trial has run out.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Count, IntegerField, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone
from django.utils.translation import gettext as _

from partnerhub.access.checks import holds, require
from partnerhub.access.operator import require_operator
from partnerhub.access.perms import Perm
from partnerhub.access.policy import Actor
from partnerhub.audit.services import record
from partnerhub.billing.models import CustomerProduct, Order, ProductStatus
from partnerhub.billing.services.common import (
    MAX_QUANTITY,
    OPERATOR_BILLING,
    add_months,
    check_term,
    default_term,
    renewal_after,
)
from partnerhub.billing.services.orders import (
    order_state,
    price_request,
    save_order,
    send_order_confirmation,
)
from partnerhub.catalog.models import LicenceKind, Product
from partnerhub.core.errors import ServiceError
from partnerhub.orgs.models import Membership, Organisation

USABLE = (ProductStatus.TRIAL, ProductStatus.ACTIVE)


def product_state(cp: CustomerProduct) -> dict[str, Any]:
    return {
        "product": cp.product.sku,
        "quantity": cp.quantity,
        "status": cp.status,
        "renews_on": cp.renews_on.isoformat() if cp.renews_on else None,
        "cancel_at_term_end": cp.cancel_at_term_end,
    }


def _locked(cp: CustomerProduct) -> CustomerProduct:
    return CustomerProduct.objects.select_for_update().select_related("org", "product").get(pk=cp.pk)


def _save(actor: Actor | None, cp: CustomerProduct, action: str, before: dict[str, Any], fields: list[str]) -> None:
    cp.save(update_fields=fields)
    record(actor, action, org=cp.org, obj=cp, before=before, after=product_state(cp))


def add_customer_product(
    actor: Actor,
    *,
    org: Organisation,
    product: Product,
    quantity: int = 1,
    term_months: int | None = None,
    status: str = ProductStatus.ACTIVE,
) -> CustomerProduct:
    """Operator billing staff give an organisation a product outside an order (e.g. a migration)."""
    require_operator(actor, OPERATOR_BILLING)
    if status not in (ProductStatus.TRIAL, ProductStatus.ACTIVE):
        raise ServiceError(_("A new product starts as a trial or active."))
    if not 1 <= quantity <= MAX_QUANTITY:
        raise ServiceError(_("Enter a quantity between 1 and %(max)s.") % {"max": MAX_QUANTITY})
    term = check_term(product, default_term(product) if term_months is None else term_months)
    if status == ProductStatus.TRIAL and product.trial_days <= 0:
        raise ServiceError(_("%(product)s has no trial.") % {"product": product.name})
    today = timezone.localdate()
    with transaction.atomic():
        cp = CustomerProduct.objects.create(
            org=org,
            product=product,
            quantity=quantity,
            status=status,
            started_on=today,
            term_months=term,
            renews_on=renewal_after(today, product, term) if status == ProductStatus.ACTIVE else None,
            trial_ends_on=today + timedelta(days=product.trial_days) if status == ProductStatus.TRIAL else None,
        )
        record(actor, "customer_product.added", org=org, obj=cp, after=product_state(cp))
    return cp


def change_quantity(actor: Actor, *, customer_product: CustomerProduct, quantity: int) -> CustomerProduct:
    """Members with products.manage set the quantity of an absolute licence (more units: billing.order too)."""
    require(actor, Perm.PRODUCTS_MANAGE, customer_product.org, product=customer_product)
    if isinstance(quantity, bool) or not isinstance(quantity, int) or not 1 <= quantity <= MAX_QUANTITY:
        raise ServiceError(_("Enter a quantity between 1 and %(max)s.") % {"max": MAX_QUANTITY})
    with transaction.atomic():
        cp = _locked(customer_product)
        if cp.product.licence_kind != LicenceKind.ABSOLUTE:
            raise ServiceError(_("Only absolute licences have a quantity you choose."))
        if cp.status not in USABLE:
            raise ServiceError(_("The quantity of a suspended or cancelled product cannot change."))
        if quantity > cp.quantity and not holds(actor, Perm.BILLING_ORDER, cp.org):
            raise ServiceError(_("Adding licences is billed: it needs the permission to place orders."))
        if quantity == cp.quantity:
            return cp
        before = product_state(cp)
        cp.quantity = quantity
        _save(actor, cp, "customer_product.quantity_changed", before, ["quantity"])
    return cp


def suspend_customer_product(actor: Actor, *, customer_product: CustomerProduct) -> CustomerProduct:
    """Operator billing staff suspend an active or trial product (e.g. unpaid invoices)."""
    require_operator(actor, OPERATOR_BILLING)
    with transaction.atomic():
        cp = _locked(customer_product)
        if cp.status not in USABLE:
            raise ServiceError(_("Only active or trial products can be suspended."))
        before = product_state(cp)
        cp.status = ProductStatus.SUSPENDED
        _save(actor, cp, "customer_product.suspended", before, ["status"])
    return cp


def reactivate_customer_product(actor: Actor, *, customer_product: CustomerProduct) -> CustomerProduct:
    """Operator billing staff lift a suspension."""
    require_operator(actor, OPERATOR_BILLING)
    with transaction.atomic():
        cp = _locked(customer_product)
        if cp.status != ProductStatus.SUSPENDED:
            raise ServiceError(_("Only a suspended product can be reactivated."))
        before = product_state(cp)
        cp.status = ProductStatus.ACTIVE
        _save(actor, cp, "customer_product.reactivated", before, ["status"])
    return cp


def end_customer_product(actor: Actor | None, cp: CustomerProduct) -> None:
    """End a locked product now (``customer_product.cancelled``); a primitive for the caller's transaction."""
    _end(actor, cp, "customer_product.cancelled")


def _end(actor: Actor | None, cp: CustomerProduct, action: str) -> None:
    before = product_state(cp)
    cp.status = ProductStatus.CANCELLED
    cp.cancelled_at = timezone.now()
    cp.cancel_at_term_end = False
    _save(actor, cp, action, before, ["status", "cancelled_at", "cancel_at_term_end"])


def cancel_customer_product(
    actor: Actor, *, customer_product: CustomerProduct, immediately: bool = False
) -> CustomerProduct:
    """Customers (products.manage) cancel at the end of the term; trials and one-time products end at once.

    ``immediately=True`` is for operator billing staff only.
    """
    if immediately:
        require_operator(actor, OPERATOR_BILLING)
    else:
        require(actor, Perm.PRODUCTS_MANAGE, customer_product.org, product=customer_product)
    with transaction.atomic():
        cp = _locked(customer_product)
        if cp.status == ProductStatus.CANCELLED:
            raise ServiceError(_("This product is already cancelled."))
        if immediately or cp.status == ProductStatus.TRIAL or cp.renews_on is None:
            _end(actor, cp, "customer_product.cancelled")
        elif cp.cancel_at_term_end:
            raise ServiceError(_("This product is already cancelled at the end of its term."))
        else:
            before = product_state(cp)
            cp.cancel_at_term_end = True
            _save(actor, cp, "customer_product.cancellation_requested", before, ["cancel_at_term_end"])
    return cp


def resume_customer_product(actor: Actor, *, customer_product: CustomerProduct) -> CustomerProduct:
    """Customers (products.manage) withdraw a cancellation before the term ends."""
    require(actor, Perm.PRODUCTS_MANAGE, customer_product.org, product=customer_product)
    with transaction.atomic():
        cp = _locked(customer_product)
        if not cp.cancel_at_term_end or cp.status == ProductStatus.CANCELLED:
            raise ServiceError(_("This product has no pending cancellation."))
        before = product_state(cp)
        cp.cancel_at_term_end = False
        _save(actor, cp, "customer_product.cancellation_withdrawn", before, ["cancel_at_term_end"])
    return cp


def convert_trial(
    actor: Actor,
    *,
    customer_product: CustomerProduct,
    currency: str | None = None,
    term_months: int | None = None,
) -> Order:
    """Members with billing.order turn a trial into a paid product: an order at current prices,
    the product active with its renewal date, the invoice and the confirmation email."""
    require(actor, Perm.BILLING_ORDER, customer_product.org, product=customer_product)
    cp = customer_product
    if currency is None:
        line = cp.order_line
        if line is None:
            raise ServiceError(_("Choose the currency to pay in."))
        currency = line.order.currency
    with transaction.atomic():
        cp = _locked(customer_product)
        if cp.status != ProductStatus.TRIAL:
            raise ServiceError(_("Only a trial can be converted into a paid product."))
        priced = price_request(
            customer=cp.org,
            lines=[(cp.product, cp.quantity, term_months if term_months is not None else cp.term_months)],
            currency=currency,
            trials=False,
        )
        order, lines, invoice = save_order(actor, priced)
        before = product_state(cp)
        today = timezone.localdate()
        cp.status = ProductStatus.ACTIVE
        cp.quantity = lines[0].quantity
        cp.term_months = lines[0].term_months
        cp.started_on = today
        cp.renews_on = renewal_after(today, cp.product, cp.term_months)
        cp.order_line = lines[0]
        cp.save(update_fields=["status", "quantity", "term_months", "started_on", "renews_on", "order_line"])
        record(actor, "order.placed", org=cp.org, obj=order, after=order_state(order, lines, invoice))
        if invoice is not None:
            record(actor, "invoice.issued", org=invoice.org, obj=invoice, after={"total": str(invoice.total)})
        record(actor, "customer_product.trial_converted", org=cp.org, obj=cp, before=before, after=product_state(cp))
        send_order_confirmation(actor, order, lines, invoice)
    return order


def _next_renewal(renews_on: date, term_months: int, today: date) -> date:
    """The first renewal date after `today` (a missed run catches up in one step: idempotent)."""
    step = max(term_months, 1)
    moved = add_months(renews_on, step)
    while moved <= today:
        moved = add_months(moved, step)
    return moved


def recount_relative_licences(*, today: date | None = None) -> int:
    """The system recounts relative licences due for renewal: quantity = the organisation's active members,
    renewal date moved past today. Set-based (one UPDATE per renewal date and term); returns how many."""
    today = today or timezone.localdate()
    members = (
        Membership.objects.filter(org=OuterRef("org_id"), user__is_active=True)
        .order_by()
        .values("org")
        .annotate(n=Count("id"))
        .values("n")
    )
    count = Coalesce(Subquery(members, output_field=IntegerField()), Value(0))
    with transaction.atomic():
        due = CustomerProduct.objects.select_for_update().filter(
            product__licence_kind=LicenceKind.RELATIVE,
            status=ProductStatus.ACTIVE,
            cancel_at_term_end=False,
            renews_on__lte=today,
        )
        rows = list(due.select_related("org", "product").annotate(members=count))
        groups: dict[tuple[date, int], list[int]] = defaultdict(list)
        for row in rows:
            assert row.renews_on is not None  # the filter above
            groups[(row.renews_on, row.term_months)].append(row.pk)
        for (renews_on, term), ids in groups.items():
            CustomerProduct.objects.filter(pk__in=ids).update(
                quantity=Greatest(count, Value(1)),
                renews_on=_next_renewal(renews_on, term, today),
            )
        for row in rows:
            before = product_state(row)
            assert row.renews_on is not None
            row.quantity = max(row.members, 1)
            row.renews_on = _next_renewal(row.renews_on, row.term_months, today)
            record(
                None,
                "customer_product.licences_recounted",
                org=row.org,
                obj=row,
                before=before,
                after=product_state(row),
            )
    return len(rows)


def end_due_products(*, today: date | None = None) -> int:
    """The system ends products cancelled at the end of a term that is over, and trials that ran out."""
    today = today or timezone.localdate()
    with transaction.atomic():
        due = (
            CustomerProduct.objects.select_for_update()
            .filter(
                Q(cancel_at_term_end=True, renews_on__lte=today)
                | Q(status=ProductStatus.TRIAL, trial_ends_on__lt=today)
            )
            .exclude(status=ProductStatus.CANCELLED)
        )
        rows = list(due.select_related("org", "product"))
        now = timezone.now()
        CustomerProduct.objects.filter(pk__in=[row.pk for row in rows]).update(
            status=ProductStatus.CANCELLED, cancelled_at=now, cancel_at_term_end=False
        )
        for row in rows:
            before = product_state(row)
            row.status, row.cancel_at_term_end = ProductStatus.CANCELLED, False
            record(None, "customer_product.ended", org=row.org, obj=row, before=before, after=product_state(row))
    return len(rows)
