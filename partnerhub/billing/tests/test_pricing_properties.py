"""Properties of reseller pricing over random prices, quantities, percentages and tiers.

The expected amounts are computed here from the documented formula (DESIGN §6, seed 001: the
partner discount first, the volume discount on the remainder, each step rounded half-up) rather than
taken from the implementation. No float is ever generated: prices are decimals with two places,
percentages decimals with two places, quantities integers.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from partnerhub.billing.pricing import LineBreakdown, LineInput, PricingTerms, Reward, price_line, price_order

PROPERTY_SETTINGS = settings(deadline=None, max_examples=60)
CENT = Decimal("0.01")

prices = st.decimals(min_value=Decimal("0.00"), max_value=Decimal("99999.99"), places=2)
quantities = st.integers(min_value=1, max_value=10_000)
percents = st.decimals(min_value=Decimal("0.00"), max_value=Decimal("100.00"), places=2)
rewards = st.sampled_from(list(Reward))
currencies = st.sampled_from(["CHF", "EUR"])


@st.composite
def terms_strategy(draw: st.DrawFn) -> PricingTerms:
    thresholds = draw(st.lists(st.integers(min_value=1, max_value=500), max_size=5, unique=True))
    tiers = tuple((q, draw(percents)) for q in thresholds)
    return PricingTerms(partner_discount_percent=draw(percents), volume_tiers=tiers, reseller_pricing=True)


def cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def amounts_of(line: LineBreakdown) -> list[Decimal]:
    return [
        line.list_total,
        line.partner_discount,
        line.partner_price,
        line.volume_discount,
        line.final_price,
        line.discount,
        line.payable,
        line.cashback,
    ]


@PROPERTY_SETTINGS
@given(prices, quantities, currencies, terms_strategy(), rewards)
def test_no_amount_is_ever_negative_or_a_float(unit_price, quantity, currency, terms, reward):
    line = price_line(unit_price=unit_price, quantity=quantity, currency=currency, terms=terms, reward=reward)
    for amount in amounts_of(line):
        assert isinstance(amount, Decimal)
        assert amount >= 0
    assert line.final_price <= line.partner_price <= line.list_total
    assert line.payable <= line.list_total


@PROPERTY_SETTINGS
@given(prices, quantities, currencies, terms_strategy(), rewards)
def test_every_amount_is_rounded_to_the_minor_unit(unit_price, quantity, currency, terms, reward):
    line = price_line(unit_price=unit_price, quantity=quantity, currency=currency, terms=terms, reward=reward)
    for amount in amounts_of(line):
        assert amount == cents(amount)
        assert amount.as_tuple().exponent == -2


@PROPERTY_SETTINGS
@given(prices, quantities, terms_strategy())
def test_partner_discount_first_then_volume_discount_on_the_remainder(unit_price, quantity, terms):
    line = price_line(unit_price=unit_price, quantity=quantity, currency="CHF", terms=terms, reward=Reward.DISCOUNT)

    applicable = [p for q, p in terms.volume_tiers if q <= quantity]
    volume_percent = applicable[-1] if applicable else Decimal(0)  # tiers are sorted by threshold
    list_total = cents(unit_price * quantity)
    partner_price = list_total - cents(list_total * terms.partner_discount_percent / 100)
    final = partner_price - cents(partner_price * volume_percent / 100)

    assert line.list_total == list_total
    assert line.partner_price == partner_price
    assert line.volume_discount_percent == volume_percent
    assert line.final_price == line.payable == final


@PROPERTY_SETTINGS
@given(prices, quantities, currencies, terms_strategy())
def test_cashback_plus_what_the_partner_pays_with_discount_is_the_public_price(unit_price, quantity, currency, terms):
    kwargs = {"unit_price": unit_price, "quantity": quantity, "currency": currency, "terms": terms}
    with_discount = price_line(**kwargs, reward=Reward.DISCOUNT)
    with_cashback = price_line(**kwargs, reward=Reward.CASHBACK)
    without = price_line(**kwargs, reward=Reward.NONE)

    assert with_cashback.cashback + with_discount.payable == with_cashback.list_total
    assert with_cashback.cashback == with_cashback.list_total - with_cashback.final_price
    assert with_cashback.payable == without.payable == with_discount.list_total
    assert with_discount.discount + with_discount.payable == with_discount.list_total
    assert with_discount.cashback == without.cashback == without.discount == 0


@PROPERTY_SETTINGS
@given(prices, quantities, percents, percents, percents, percents)
def test_final_price_never_rises_when_a_discount_grows(unit_price, quantity, partner_a, partner_b, volume_a, volume_b):
    def final(partner: Decimal, volume: Decimal) -> Decimal:
        terms = PricingTerms(partner_discount_percent=partner, volume_tiers=((1, volume),))
        return price_line(
            unit_price=unit_price, quantity=quantity, currency="EUR", terms=terms, reward=Reward.DISCOUNT
        ).final_price

    low_p, high_p = sorted((partner_a, partner_b))
    low_v, high_v = sorted((volume_a, volume_b))
    assert final(high_p, low_v) <= final(low_p, low_v)
    assert final(low_p, high_v) <= final(low_p, low_v)
    assert final(high_p, high_v) <= final(low_p, low_v)


@PROPERTY_SETTINGS
@given(
    st.lists(st.tuples(prices, quantities, st.none() | st.integers(min_value=1, max_value=3)), max_size=12),
    currencies,
    terms_strategy(),
    rewards,
)
def test_order_totals_equal_the_sums_of_the_rounded_lines(raw_lines, currency, terms, reward):
    lines = [LineInput(unit_price=p, quantity=q, product_key=k) for p, q, k in raw_lines]
    order = price_order(lines, currency=currency, terms=terms, reward=reward)

    assert len(order.lines) == len(lines)
    for name in ("list_total", "partner_discount", "volume_discount", "discount", "payable", "cashback"):
        assert getattr(order, name) == sum((getattr(line, name) for line in order.lines), Decimal("0.00"))
        assert getattr(order, name) == cents(getattr(order, name))
    assert order.payable + order.discount == order.list_total
    for line_input, line in zip(lines, order.lines, strict=True):
        assert line.unit_price == line_input.unit_price and line.quantity == line_input.quantity
