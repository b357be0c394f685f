"""Placing orders: a customer orders for itself, or (delegated-access issue) a partner for it (seed 004).

The service takes the paying party and the partnership's pricing inputs as parameters: today the
customer pays and no partnership is passed (no reward); the partnership branch plugs in through
:class:`OrderPartnership` without changing this module.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Count
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from partnerhub.access.checks import require
from partnerhub.access.perms import Perm
from partnerhub.access.policy import Actor
from partnerhub.accounts.models import User
from partnerhub.audit.services import record
from partnerhub.billing import pricing, wallets
from partnerhub.billing.models import CustomerProduct, Invoice, Order, OrderLine, ProductStatus
from partnerhub.billing.services.common import (
    MAX_QUANTITY,
    check_term,
    default_term,
    periods_in,
    renewal_after,
)
from partnerhub.billing.services.invoices import issue_invoice
from partnerhub.catalog.models import LicenceKind, Price, Product
from partnerhub.core.errors import ServiceError
from partnerhub.core.mail import send_templated_mail
from partnerhub.core.money import MAX_AMOUNT, Currency
from partnerhub.orgs.models import Membership, Organisation
from partnerhub.partners.models import Program

MAX_LINES = 50
ORDERED_BY = ("customer", "partner")

# (product, quantity, term in months or None for one billing period)
LineRequest = tuple[Product, int, int | None]


@dataclass(frozen=True)
class OrderRequest:
    """One requested line (the view and API build these; tuples work as well)."""

    product: Product
    quantity: int
    term_months: int | None = None

    def as_tuple(self) -> LineRequest:
        return (self.product, self.quantity, self.term_months)


@dataclass(frozen=True)
class OrderPartnership:
    """The partner involved in an order and the partnership's pricing inputs (delegated-access issue)."""

    partner: Organisation
    terms: pricing.Partnership


@dataclass(frozen=True)
class PricedLine:
    product: Product
    quantity: int
    term_months: int
    periods: int
    trial: bool
    breakdown: pricing.LineBreakdown

    @property
    def description(self) -> str:
        if self.trial:
            return _("%(product)s (trial, %(days)s days)") % {
                "product": self.product.name,
                "days": self.product.trial_days,
            }
        if self.periods > 1:
            return _("%(product)s (%(months)s months)") % {"product": self.product.name, "months": self.term_months}
        return self.product.name


@dataclass(frozen=True)
class PricedOrder:
    """Everything an order will store, computed before anything is written (the preview shows it)."""

    customer: Organisation
    currency: str
    ordered_by: str
    payer: Organisation
    partner: Organisation | None
    reward: pricing.Reward
    lines: tuple[PricedLine, ...]
    list_total: Decimal
    discount: Decimal
    total: Decimal
    cashback: Decimal


def _active_member_count(org: Organisation) -> int:
    return Membership.objects.filter(org=org, user__is_active=True).aggregate(n=Count("id"))["n"] or 0


def _reward(partnership: OrderPartnership | None, ordered_by: str) -> pricing.Reward:
    if partnership is None:
        return pricing.Reward.NONE
    return pricing.decide_reward(partnership.terms, ordered_by=pricing.OrderedBy(ordered_by))


def _payer(customer: Organisation, partnership: OrderPartnership | None) -> Organisation:
    """The customer pays, unless a full partnership lets the partner use its own payment means."""
    if (
        partnership is not None
        and partnership.terms.mode == pricing.PartnershipMode.FULL
        and partnership.terms.payment_means == pricing.PaymentMeans.PARTNER
    ):
        return partnership.partner
    return customer


def _terms(reward: pricing.Reward, terms: pricing.PricingTerms | None) -> pricing.PricingTerms:
    if reward == pricing.Reward.NONE:
        return pricing.NO_RESELLER_PRICING
    if terms is not None:
        return terms
    program = Program.objects.filter(operator__is_operator=True).first()
    return pricing.terms_for_program(program)


def _check_line(product: Product, quantity: int, term: int | None, prices: dict[int, Decimal]) -> int:
    if not product.is_active:
        raise ServiceError(_("%(product)s is no longer sold.") % {"product": product.name})
    if product.pk not in prices:
        raise ServiceError(_("%(product)s has no price in this currency.") % {"product": product.name})
    if isinstance(quantity, bool) or not isinstance(quantity, int) or not 1 <= quantity <= MAX_QUANTITY:
        raise ServiceError(_("Enter a quantity between 1 and %(max)s.") % {"max": MAX_QUANTITY})
    return check_term(product, default_term(product) if term is None else term)


def price_request(
    *,
    customer: Organisation,
    lines: Sequence[LineRequest | OrderRequest],
    currency: str,
    ordered_by: str = "customer",
    partnership: OrderPartnership | None = None,
    trials: bool = True,
    terms: pricing.PricingTerms | None = None,
) -> PricedOrder:
    """Validate and price an order (no writes). Trial products the customer never had are free trials.

    `terms` is the price list's reseller terms (partner discount, volume tiers); by default the program's.
    """
    if currency not in Currency.values:
        raise ServiceError(_("Unknown currency “%(currency)s”.") % {"currency": currency})
    if ordered_by not in ORDERED_BY:
        raise ServiceError(_("An order is placed by the customer or by its partner."))
    if ordered_by == "partner" and partnership is None:
        raise ServiceError(_("An order placed by a partner needs the partnership."))
    requested = [line.as_tuple() if isinstance(line, OrderRequest) else line for line in lines]
    if not requested:
        raise ServiceError(_("Add at least one product to the order."))
    if len(requested) > MAX_LINES:
        raise ServiceError(_("An order has at most %(max)s lines.") % {"max": MAX_LINES})
    product_ids = {product.pk for product, _q, _t in requested}
    prices = dict(
        Price.objects.filter(product_id__in=product_ids, currency=currency).values_list("product_id", "amount")
    )
    had = set(
        CustomerProduct.objects.filter(org=customer, product_id__in=product_ids).values_list("product_id", flat=True)
    )
    members = None
    reward = _reward(partnership, ordered_by)
    checked: list[tuple[Product, int, int, bool]] = []
    for product, quantity, term in requested:
        months = _check_line(product, quantity, term, prices)
        if product.licence_kind == LicenceKind.RELATIVE:
            # Relative licences follow the number of active members (seed 003), whatever was asked.
            members = _active_member_count(customer) if members is None else members
            quantity = max(members, 1)
        trial = trials and product.trial_days > 0 and product.pk not in had
        checked.append((product, quantity, months, trial))
    paid = [(p, q, m) for p, q, m, trial in checked if not trial]
    breakdown = pricing.price_order(
        [
            pricing.LineInput(unit_price=prices[p.pk] * periods_in(p, m), quantity=q, product_key=p.pk)
            for p, q, m in paid
        ],
        currency=currency,
        terms=_terms(reward, terms),
        reward=reward,
    )
    if breakdown.list_total >= MAX_AMOUNT:
        raise ServiceError(_("The total of this order is too large: order fewer units or split it."))
    paid_lines = iter(breakdown.lines)
    free = pricing.NO_RESELLER_PRICING
    priced = tuple(
        PricedLine(
            product=p,
            quantity=q,
            term_months=m,
            periods=periods_in(p, m),
            trial=trial,
            breakdown=(
                pricing.price_line(
                    unit_price=Decimal(0), quantity=q, currency=currency, terms=free, reward=pricing.Reward.NONE
                )
                if trial
                else next(paid_lines)
            ),
        )
        for p, q, m, trial in checked
    )
    return PricedOrder(
        customer=customer,
        currency=currency,
        ordered_by=ordered_by,
        payer=_payer(customer, partnership),
        partner=partnership.partner if partnership else None,
        reward=breakdown.reward,
        lines=priced,
        list_total=breakdown.list_total,
        discount=breakdown.discount,
        total=breakdown.payable,
        cashback=breakdown.cashback,
    )


def preview_order(
    actor: Actor,
    *,
    customer: Organisation,
    lines: Sequence[LineRequest | OrderRequest],
    currency: str,
    ordered_by: str = "customer",
    partnership: OrderPartnership | None = None,
) -> PricedOrder:
    """What `place_order` would charge, line by line; needs billing.order on the customer, writes nothing."""
    require(actor, Perm.BILLING_ORDER, customer)
    return price_request(
        customer=customer, lines=lines, currency=currency, ordered_by=ordered_by, partnership=partnership
    )


def order_state(order: Order, lines: Sequence[OrderLine], invoice: Invoice | None) -> dict[str, Any]:
    return {
        "order": str(order),
        "currency": order.currency,
        "total": str(order.total),
        "cashback": str(order.cashback_total),
        "payer": order.payer.slug,
        "lines": [f"{line.quantity} × {line.product.sku}: {line.total}" for line in lines],
        "invoice": invoice.display_number if invoice else None,
    }


def save_order(actor: Actor, priced: PricedOrder) -> tuple[Order, list[OrderLine], Invoice | None]:
    """Write the order, its lines, the cashback and the invoice of a priced order.

    A primitive for the order services (place_order, convert_trial): call it inside their
    transaction after they checked access.
    """
    placed_by_org = priced.partner if priced.ordered_by == "partner" and priced.partner else priced.customer
    order = Order.objects.create(
        org=priced.customer,
        placed_by=actor.user,
        placed_by_org=placed_by_org,
        payer=priced.payer,
        currency=priced.currency,
        subtotal=priced.list_total,
        discount_total=priced.discount,
        total=priced.total,
        cashback_total=priced.cashback,
    )
    lines = []
    for number, line in enumerate(priced.lines, start=1):
        b = line.breakdown
        lines.append(
            OrderLine.objects.create(
                order=order,
                line_no=number,
                product=line.product,
                kind=line.product.kind,
                description=line.description[:200],
                quantity=line.quantity,
                term_months=line.term_months,
                unit_price=b.unit_price,
                list_total=b.list_total,
                partner_discount=b.partner_discount,
                volume_discount=b.volume_discount,
                discount=b.discount,
                total=b.payable,
                cashback=b.cashback,
            )
        )
        if b.reward == pricing.Reward.CASHBACK and b.cashback > 0 and priced.partner is not None:
            wallets.credit_cashback(
                org=priced.partner,
                currency=priced.currency,
                amount=b.cashback,
                order_line=lines[-1],
                description=_("Cashback for %(order)s: %(line)s") % {"order": order, "line": lines[-1].description},
            )
    billable = [line for line, p in zip(lines, priced.lines, strict=True) if not p.trial]
    invoice = issue_invoice(org=priced.payer, currency=priced.currency, lines=billable, order=order)
    return order, lines, invoice


def _billing_contact(org: Organisation, actor: Actor) -> tuple[str, str]:
    """The customer's billing address (or the person ordering) and the language to write in."""
    email = org.billing_email or actor.user.email
    user = User.objects.filter(email__iexact=email).only("language").first()
    return email, (user.language if user else actor.user.language)


def send_order_confirmation(actor: Actor, order: Order, lines: Sequence[OrderLine], invoice: Invoice | None) -> None:
    from django.conf import settings

    email, language = _billing_contact(order.org, actor)
    send_templated_mail(
        template="billing/email/order_confirmation",
        to=[email],
        context={
            "order": order,
            "lines": lines,
            "invoice": invoice,
            "org_name": order.org.name,
            "placed_by": actor.user.display_name,
            "order_url": settings.SITE_URL + reverse("order_detail", args=[order.org.slug, order.pk]),
        },
        language=language,
    )


def create_line_products(order: Order, lines: Sequence[OrderLine], priced: PricedOrder) -> list[CustomerProduct]:
    """The customer products of a new order: trials for free trial lines, active products otherwise."""
    today = timezone.localdate()
    products = []
    for line, p in zip(lines, priced.lines, strict=True):
        trial_end = today + timedelta(days=p.product.trial_days) if p.trial else None
        products.append(
            CustomerProduct(
                org=order.org,
                product=p.product,
                quantity=line.quantity,
                status=ProductStatus.TRIAL if p.trial else ProductStatus.ACTIVE,
                started_on=today,
                renews_on=None if p.trial else renewal_after(today, p.product, p.term_months),
                trial_ends_on=trial_end,
                term_months=p.term_months,
                order_line=line,
            )
        )
    return CustomerProduct.objects.bulk_create(products)


def place_order(
    actor: Actor,
    *,
    customer: Organisation,
    lines: Sequence[LineRequest | OrderRequest],
    currency: str,
    ordered_by: str = "customer",
    partnership: OrderPartnership | None = None,
    terms: pricing.PricingTerms | None = None,
    expected_total: Decimal | None = None,
) -> Order:
    """Order products for `customer` (needs billing.order on it): priced lines, cashback to the partner's
    wallet, the customer products, the payer's invoice, audit entries and the confirmation email.

    With `expected_total` (what the customer saw in the preview) a changed price refuses the order
    instead of charging an amount nobody confirmed.
    """
    require(actor, Perm.BILLING_ORDER, customer)
    priced = price_request(
        customer=customer,
        lines=lines,
        currency=currency,
        ordered_by=ordered_by,
        partnership=partnership,
        terms=terms,
    )
    if expected_total is not None and priced.total != expected_total:
        raise ServiceError(
            _("Prices changed since the preview: the order now costs %(total)s %(currency)s. Check it again.")
            % {"total": priced.total, "currency": currency}
        )
    with transaction.atomic():
        order, order_lines, invoice = save_order(actor, priced)
        create_line_products(order, order_lines, priced)
        record(actor, "order.placed", org=customer, obj=order, after=order_state(order, order_lines, invoice))
        if invoice is not None:
            record(actor, "invoice.issued", org=invoice.org, obj=invoice, after={"total": str(invoice.total)})
        send_order_confirmation(actor, order, order_lines, invoice)
    return order
