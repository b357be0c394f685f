"""Reseller pricing (DESIGN §6, seed 001): public price → partner price → volume discount → reward.

Pure and deterministic: every function here works on ``Decimal`` amounts and plain dataclasses and
never touches the database (only :func:`terms_for_program` reads the program's settings). Orders use
it now, offers later.

The computation of one line, every amount rounded half-up to the currency's minor unit::

    list_total       = round(unit_price × quantity)
    partner_discount = round(list_total × partner %)
    partner_price    = list_total − partner_discount
    volume_discount  = round(partner_price × volume %)        # on the remainder (seed 001)
    final_price      = partner_price − volume_discount

Seed 001's vector: 35 web hostings CHF 347.20 → 277.76 (−20 %) → 208.32 (−25 % of 277.76).

Then the reward (:func:`decide_reward`, DESIGN §6's table) decides who gets the difference:

- ``DISCOUNT``: the payer (the partner) pays ``final_price``; no cashback;
- ``CASHBACK``: the payer pays ``list_total`` and the partner's wallet is credited
  ``cashback = list_total − final_price``;
- ``NONE`` (no partner involved, or the program has reseller pricing off): the payer pays
  ``list_total``, nobody gets anything, and the partner steps are zero.

Order totals are sums of the rounded lines, never a rounding of an unrounded sum.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING, Literal

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from partnerhub.core.money import round_money

if TYPE_CHECKING:
    from partnerhub.partners.models import Program

HUNDRED = Decimal(100)
ZERO = Decimal(0)


class Reward(StrEnum):
    """What the partner gets for an order (DESIGN §6)."""

    DISCOUNT = "discount"  # the payer pays the partner price
    CASHBACK = "cashback"  # the payer pays the public price, the partner's wallet gets the difference
    NONE = "none"  # public price, nobody gets anything


class PartnershipMode(StrEnum):
    FULL = "full"  # the partner manages the whole organisation
    RESTRICTED = "restricted"  # the partner manages selected products only


class PaymentMeans(StrEnum):
    CUSTOMER = "customer"  # the customer is invoiced
    PARTNER = "partner"  # the partner is invoiced (full partnerships only)


class OrderedBy(StrEnum):
    CUSTOMER = "customer"  # a member of the customer organisation places the order
    PARTNER = "partner"  # partner staff places it for the customer


# The inputs may also be given as their plain values ("full", "customer", …).
ModeValue = PartnershipMode | Literal["full", "restricted"]
MeansValue = PaymentMeans | Literal["customer", "partner"]
OrderedByValue = OrderedBy | Literal["customer", "partner"]


@dataclass(frozen=True, slots=True)
class Partnership:
    """The inputs of the reward decision that the partnership (delegated-access issue) will provide.

    ``mode=None`` means the customer has no partner. ``payment_means`` only matters for full
    partnerships; ``product_managed_by_partner`` only for restricted ones (is the ordered product
    among those the customer handed to the partner?). Strings are accepted and turned into the enums.
    """

    mode: ModeValue | None
    payment_means: MeansValue = PaymentMeans.CUSTOMER
    product_managed_by_partner: bool = False

    def __post_init__(self) -> None:
        if self.mode is not None:
            object.__setattr__(self, "mode", PartnershipMode(self.mode))
        object.__setattr__(self, "payment_means", PaymentMeans(self.payment_means))


NO_PARTNERSHIP = Partnership(mode=None)


def decide_reward(partnership: Partnership | None, *, ordered_by: OrderedByValue) -> Reward:
    """The reward table of DESIGN §6 (seed 001 "Rabatt und Cashback"), row by row.

    ====================  ===============  ==================================  ==========
    partnership           payment means    who orders                          reward
    ====================  ===============  ==================================  ==========
    full                  customer's       customer or partner                 CASHBACK
    full                  partner's        customer                            CASHBACK
    full                  partner's        partner                             DISCOUNT
    restricted            customer's       customer, a product the partner     CASHBACK
                                           manages
    anything else (no partnership; restricted with a product the partner       NONE
    does not manage, with the partner ordering, or with the partner's means)
    ====================  ===============  ==================================  ==========

    `partnership` None is the same as ``Partnership(mode=None)``. `ordered_by` may be given as a
    string ("customer" / "partner").
    """
    ordered_by = OrderedBy(ordered_by)
    if partnership is None or partnership.mode is None:
        return Reward.NONE
    if partnership.mode == PartnershipMode.FULL:
        if partnership.payment_means == PaymentMeans.CUSTOMER:
            return Reward.CASHBACK  # row 1: whoever orders, the customer pays the public price
        if ordered_by == OrderedBy.CUSTOMER:
            return Reward.CASHBACK  # row 2: the customer orders on the partner's means
        return Reward.DISCOUNT  # row 3: the partner orders with its own means
    # Restricted partnerships have no payment means of their own: the customer always pays.
    if (
        partnership.payment_means == PaymentMeans.CUSTOMER
        and ordered_by == OrderedBy.CUSTOMER
        and partnership.product_managed_by_partner
    ):
        return Reward.CASHBACK  # row 4
    return Reward.NONE


def _check_percent(value: Decimal) -> None:
    if not isinstance(value, Decimal) or not value.is_finite():
        raise TypeError("percentages are finite Decimals")
    if not ZERO <= value <= HUNDRED:
        raise ValueError(f"a percentage lies between 0 and 100, not {value}")


@dataclass(frozen=True, slots=True)
class PricingTerms:
    """The program's reseller pricing: partner discount and graduated volume tiers.

    ``volume_tiers`` are ``(min_quantity, percent)`` pairs; the tier used for a quantity is the one
    with the highest ``min_quantity`` not above it. Percentages lie in [0, 100].
    """

    partner_discount_percent: Decimal = ZERO
    volume_tiers: tuple[tuple[int, Decimal], ...] = ()
    reseller_pricing: bool = True

    def __post_init__(self) -> None:
        _check_percent(self.partner_discount_percent)
        tiers = tuple(sorted((int(q), p) for q, p in self.volume_tiers))
        for min_quantity, percent in tiers:
            if min_quantity < 1:
                raise ValueError("a volume tier starts at a quantity of at least 1")
            _check_percent(percent)
        if len({q for q, _p in tiers}) != len(tiers):
            raise ValueError("two volume tiers start at the same quantity")
        object.__setattr__(self, "volume_tiers", tiers)

    def volume_percent(self, quantity: int) -> Decimal:
        """The percentage of the tier with the highest ``min_quantity`` ≤ `quantity` (0 below every tier)."""
        percent = ZERO
        for min_quantity, tier_percent in self.volume_tiers:  # sorted ascending
            if min_quantity <= quantity:
                percent = tier_percent
        return percent


NO_RESELLER_PRICING = PricingTerms(reseller_pricing=False)


def terms_for_program(program: Program | None) -> PricingTerms:
    """The pricing terms of `program` (one query for its volume tiers); None: no reseller pricing."""
    if program is None or not program.reseller_pricing:
        return NO_RESELLER_PRICING
    tiers = tuple(program.volume_tiers.order_by("min_quantity").values_list("min_quantity", "percent"))
    return PricingTerms(
        partner_discount_percent=program.partner_discount_percent,
        volume_tiers=tiers,
        reseller_pricing=True,
    )


STEP_LABELS: dict[str, str | Promise] = {
    "list_total": _("Public price"),
    "partner_discount": _("Partner discount"),
    "partner_price": _("Partner price"),
    "volume_discount": _("Volume discount"),
    "final_price": _("Final partner price"),
    "payable": _("To pay"),
    "cashback": _("Cashback to the partner's wallet"),
}


@dataclass(frozen=True, slots=True)
class Step:
    """One labelled amount of a breakdown, as the UI shows it (``percent`` for discount steps)."""

    key: str
    label: str | Promise
    amount: Decimal
    percent: Decimal | None = None


@dataclass(frozen=True, slots=True)
class LineBreakdown:
    """Every step of one line's price, rounded to the currency's minor unit.

    How an ``OrderLine`` stores it: ``list_total``, ``partner_discount``, ``volume_discount``,
    ``discount`` (what the payer saves), ``total = payable``, ``cashback``.
    """

    currency: str
    unit_price: Decimal
    quantity: int
    reward: Reward  # the reward actually applied (NONE when the terms have reseller pricing off)
    list_total: Decimal
    partner_discount_percent: Decimal
    partner_discount: Decimal
    partner_price: Decimal
    volume_discount_percent: Decimal
    volume_discount: Decimal
    final_price: Decimal  # the partner's price after both discounts
    discount: Decimal  # list_total − payable: what the payer saves (DISCOUNT only)
    payable: Decimal  # what the payer pays
    cashback: Decimal  # what the partner's wallet is credited (CASHBACK only)

    @property
    def steps(self) -> tuple[Step, ...]:
        """The breakdown line by line; discount steps appear only where reseller pricing applies."""
        steps = [Step("list_total", STEP_LABELS["list_total"], self.list_total)]
        if self.reward != Reward.NONE:
            steps += [
                Step(
                    "partner_discount",
                    STEP_LABELS["partner_discount"],
                    -self.partner_discount,
                    self.partner_discount_percent,
                ),
                Step("partner_price", STEP_LABELS["partner_price"], self.partner_price),
                Step(
                    "volume_discount",
                    STEP_LABELS["volume_discount"],
                    -self.volume_discount,
                    self.volume_discount_percent,
                ),
                Step("final_price", STEP_LABELS["final_price"], self.final_price),
            ]
        steps.append(Step("payable", STEP_LABELS["payable"], self.payable))
        if self.reward == Reward.CASHBACK:
            steps.append(Step("cashback", STEP_LABELS["cashback"], self.cashback))
        return tuple(steps)


def price_line(
    *,
    unit_price: Decimal,
    quantity: int,
    currency: str,
    terms: PricingTerms,
    reward: Reward,
    volume_quantity: int | None = None,
) -> LineBreakdown:
    """The breakdown of `quantity` × `unit_price` under `terms` and `reward` (see the module docstring).

    `volume_quantity` selects the volume tier when it differs from the line's quantity (several lines
    of the same product in one order: see :func:`price_order`). Refuses floats, negative prices and
    quantities below 1 (ValueError/TypeError: callers validate user input before).
    """
    if isinstance(unit_price, float) or not isinstance(unit_price, Decimal) or not unit_price.is_finite():
        raise TypeError("a unit price is a finite Decimal, never a float")
    if unit_price < 0:
        raise ValueError("a unit price is never negative")
    if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 1:
        raise ValueError("a quantity is a whole number of at least 1")
    reward = Reward(reward)
    list_total = round_money(unit_price * quantity, currency)
    if reward == Reward.NONE or not terms.reseller_pricing:
        zero = round_money(ZERO, currency)
        return LineBreakdown(
            currency=currency,
            unit_price=unit_price,
            quantity=quantity,
            reward=Reward.NONE,
            list_total=list_total,
            partner_discount_percent=ZERO,
            partner_discount=zero,
            partner_price=list_total,
            volume_discount_percent=ZERO,
            volume_discount=zero,
            final_price=list_total,
            discount=zero,
            payable=list_total,
            cashback=zero,
        )
    partner_percent = terms.partner_discount_percent
    partner_discount = round_money(list_total * partner_percent / HUNDRED, currency)
    partner_price = list_total - partner_discount
    volume_percent = terms.volume_percent(quantity if volume_quantity is None else volume_quantity)
    volume_discount = round_money(partner_price * volume_percent / HUNDRED, currency)
    final_price = partner_price - volume_discount
    payable = final_price if reward == Reward.DISCOUNT else list_total
    return LineBreakdown(
        currency=currency,
        unit_price=unit_price,
        quantity=quantity,
        reward=reward,
        list_total=list_total,
        partner_discount_percent=partner_percent,
        partner_discount=partner_discount,
        partner_price=partner_price,
        volume_discount_percent=volume_percent,
        volume_discount=volume_discount,
        final_price=final_price,
        discount=list_total - payable,
        payable=payable,
        cashback=list_total - final_price if reward == Reward.CASHBACK else round_money(ZERO, currency),
    )


@dataclass(frozen=True, slots=True)
class LineInput:
    """One line to price: a unit price and a quantity.

    ``product_key`` (e.g. the product id) groups lines of the same product: their combined quantity
    selects the volume tier ("from N units of one product in an order"). None: the line stands alone.
    """

    unit_price: Decimal
    quantity: int
    product_key: object = None


@dataclass(frozen=True, slots=True)
class OrderBreakdown:
    """The priced lines (in the given order) and their sums.

    How an ``Order`` stores it: ``subtotal = list_total``, ``discount_total = discount``,
    ``total = payable``, ``cashback_total = cashback``.
    """

    currency: str
    reward: Reward
    lines: tuple[LineBreakdown, ...]
    list_total: Decimal
    partner_discount: Decimal
    volume_discount: Decimal
    discount: Decimal
    payable: Decimal
    cashback: Decimal


def price_order(
    lines: Iterable[LineInput],
    *,
    currency: str,
    terms: PricingTerms,
    reward: Reward,
) -> OrderBreakdown:
    """Price every line with :func:`price_line`; the order's totals are the sums of the rounded lines."""
    inputs = list(lines)
    grouped: dict[object, int] = {}
    for line in inputs:
        if line.product_key is not None:
            grouped[line.product_key] = grouped.get(line.product_key, 0) + line.quantity
    priced = tuple(
        price_line(
            unit_price=line.unit_price,
            quantity=line.quantity,
            currency=currency,
            terms=terms,
            reward=reward,
            volume_quantity=grouped[line.product_key] if line.product_key is not None else None,
        )
        for line in inputs
    )
    zero = round_money(ZERO, currency)

    def total(name: str) -> Decimal:
        return sum((getattr(line, name) for line in priced), zero)

    effective = Reward(reward) if terms.reseller_pricing else Reward.NONE
    return OrderBreakdown(
        currency=currency,
        reward=effective,
        lines=priced,
        list_total=total("list_total"),
        partner_discount=total("partner_discount"),
        volume_discount=total("volume_discount"),
        discount=total("discount"),
        payable=total("payable"),
        cashback=total("cashback"),
    )
