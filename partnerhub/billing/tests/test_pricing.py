"""Reseller pricing: seed 001's vectors, the steps of a line, orders, and DESIGN §6's reward table."""

from __future__ import annotations

from decimal import Decimal

import pytest

from partnerhub.billing.pricing import (
    NO_PARTNERSHIP,
    NO_RESELLER_PRICING,
    LineInput,
    OrderedBy,
    Partnership,
    PartnershipMode,
    PaymentMeans,
    PricingTerms,
    Reward,
    decide_reward,
    price_line,
    price_order,
    terms_for_program,
)
from partnerhub.partners.models import Program, VolumeTier

D = Decimal
SEED_TERMS = PricingTerms(partner_discount_percent=D("20"), volume_tiers=((30, D("25")),))
GRADUATED = PricingTerms(
    partner_discount_percent=D("20"), volume_tiers=((10, D("10")), (25, D("20")), (30, D("25")), (100, D("30")))
)


# --- seed 001's vectors --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("currency", "unit_price", "list_total", "partner_price", "final_price"),
    [
        ("CHF", "9.92", "347.20", "277.76", "208.32"),
        ("EUR", "5.75", "201.25", "161.00", "120.75"),
    ],
)
def test_seed_vector_35_web_hostings_with_discount(currency, unit_price, list_total, partner_price, final_price):
    line = price_line(
        unit_price=D(unit_price), quantity=35, currency=currency, terms=SEED_TERMS, reward=Reward.DISCOUNT
    )

    assert line.list_total == D(list_total)
    assert line.partner_discount_percent == D("20")
    assert line.partner_price == D(partner_price)
    assert line.volume_discount_percent == D("25")
    assert line.final_price == D(final_price)
    assert line.payable == D(final_price)
    assert line.discount == D(list_total) - D(final_price)
    assert line.cashback == D("0.00")
    # The volume discount is 25 % of the remainder, not of the public price (seed 001: "Restbetrag").
    assert line.volume_discount == D(partner_price) * D("0.25")
    assert line.final_price != D(list_total) * D("0.55")


@pytest.mark.parametrize(
    ("currency", "unit_price", "list_total", "cashback"),
    [("CHF", "9.92", "347.20", "138.88"), ("EUR", "5.75", "201.25", "80.50")],
)
def test_seed_vector_with_cashback_pays_public_price_and_credits_the_difference(
    currency, unit_price, list_total, cashback
):
    line = price_line(
        unit_price=D(unit_price), quantity=35, currency=currency, terms=SEED_TERMS, reward=Reward.CASHBACK
    )

    assert line.payable == D(list_total)
    assert line.discount == D("0.00")
    assert line.cashback == D(cashback)
    assert line.cashback == line.list_total - line.final_price


@pytest.mark.parametrize(("unit_price", "currency"), [("9.92", "CHF"), ("5.75", "EUR")])
def test_seed_vector_without_partner_pays_public_price(unit_price, currency):
    line = price_line(unit_price=D(unit_price), quantity=35, currency=currency, terms=SEED_TERMS, reward=Reward.NONE)

    assert line.payable == line.list_total == line.final_price == D(unit_price) * 35
    assert line.partner_discount == line.volume_discount == line.discount == line.cashback == D(0)
    assert line.reward == Reward.NONE


def test_reseller_pricing_off_means_no_reward_whatever_the_table_says():
    for reward in Reward:
        line = price_line(unit_price=D("9.92"), quantity=35, currency="CHF", terms=NO_RESELLER_PRICING, reward=reward)
        assert line.reward == Reward.NONE
        assert line.payable == D("347.20")
        assert line.cashback == D(0)
    disabled = PricingTerms(partner_discount_percent=D(20), volume_tiers=((30, D(25)),), reseller_pricing=False)
    assert price_line(
        unit_price=D("9.92"), quantity=35, currency="CHF", terms=disabled, reward=Reward.DISCOUNT
    ).payable == D("347.20")


# --- rounding and tiers ----------------------------------------------------------------------------


def test_every_step_is_rounded_half_up_to_the_minor_unit():
    # 3 × 0.335 = 1.005 → 1.01 (half-up); 20 % of 1.01 = 0.202 → 0.20; 10 % of 0.81 = 0.081 → 0.08.
    terms = PricingTerms(partner_discount_percent=D(20), volume_tiers=((3, D(10)),))
    line = price_line(unit_price=D("0.335"), quantity=3, currency="CHF", terms=terms, reward=Reward.DISCOUNT)

    assert (line.list_total, line.partner_discount, line.partner_price) == (D("1.01"), D("0.20"), D("0.81"))
    assert (line.volume_discount, line.final_price) == (D("0.08"), D("0.73"))
    for amount in (line.list_total, line.partner_discount, line.volume_discount, line.final_price, line.payable):
        assert amount.as_tuple().exponent == -2


def test_half_a_minor_unit_rounds_up():
    # 12.5 % of 0.20 = 0.025 → 0.03.
    terms = PricingTerms(partner_discount_percent=D("12.5"))
    line = price_line(unit_price=D("0.20"), quantity=1, currency="CHF", terms=terms, reward=Reward.DISCOUNT)
    assert line.partner_discount == D("0.03")
    assert line.final_price == D("0.17")


def test_currency_without_minor_unit_rounds_to_whole_units():
    line = price_line(unit_price=D("999"), quantity=3, currency="JPY", terms=SEED_TERMS, reward=Reward.DISCOUNT)
    # 2997 − 599.4 → 599 = 2398; below 30 units no volume discount.
    assert (line.list_total, line.partner_discount, line.final_price) == (D("2997"), D("599"), D("2398"))
    assert line.volume_discount == D("0")


@pytest.mark.parametrize(
    ("quantity", "percent"),
    [
        (1, "0"),
        (9, "0"),
        (10, "10"),
        (24, "10"),
        (25, "20"),
        (29, "20"),
        (30, "25"),
        (99, "25"),
        (100, "30"),
        (5000, "30"),
    ],
)
def test_the_tier_with_the_highest_threshold_not_above_the_quantity_applies(quantity, percent):
    assert GRADUATED.volume_percent(quantity) == D(percent)
    line = price_line(unit_price=D("10.00"), quantity=quantity, currency="EUR", terms=GRADUATED, reward=Reward.DISCOUNT)
    assert line.volume_discount_percent == D(percent)


def test_tiers_are_sorted_whatever_order_they_come_in():
    terms = PricingTerms(volume_tiers=((30, D(25)), (10, D(10))))
    assert terms.volume_tiers == ((10, D(10)), (30, D(25)))
    assert terms.volume_percent(12) == D(10)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"partner_discount_percent": D("-1")},
        {"partner_discount_percent": D("100.01")},
        {"volume_tiers": ((0, D(10)),)},
        {"volume_tiers": ((5, D(101)),)},
        {"volume_tiers": ((5, D(10)), (5, D(20)))},
    ],
)
def test_terms_refuse_impossible_percentages_and_tiers(kwargs):
    with pytest.raises(ValueError):
        PricingTerms(**kwargs)


def test_floats_never_enter():
    with pytest.raises(TypeError):
        price_line(unit_price=9.92, quantity=35, currency="CHF", terms=SEED_TERMS, reward=Reward.DISCOUNT)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        PricingTerms(partner_discount_percent=20.0)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"unit_price": D("-0.01"), "quantity": 1, "currency": "CHF"},
        {"unit_price": D("1.00"), "quantity": 0, "currency": "CHF"},
        {"unit_price": D("1.00"), "quantity": -3, "currency": "CHF"},
        {"unit_price": D("1.00"), "quantity": 1, "currency": "XYZ"},
        {"unit_price": D("NaN"), "quantity": 1, "currency": "CHF"},
    ],
)
def test_bad_line_input_is_refused(kwargs):
    with pytest.raises((ValueError, TypeError)):
        price_line(**kwargs, terms=SEED_TERMS, reward=Reward.DISCOUNT)


def test_full_discounts_make_a_free_line_not_a_negative_one():
    terms = PricingTerms(partner_discount_percent=D(100), volume_tiers=((1, D(100)),))
    line = price_line(unit_price=D("5.00"), quantity=2, currency="CHF", terms=terms, reward=Reward.DISCOUNT)
    assert line.final_price == line.payable == D("0.00")


# --- the breakdown the UI shows ------------------------------------------------------------------


def test_steps_list_every_amount_with_a_label_in_order():
    line = price_line(unit_price=D("9.92"), quantity=35, currency="CHF", terms=SEED_TERMS, reward=Reward.CASHBACK)

    steps = line.steps
    assert [s.key for s in steps] == [
        "list_total",
        "partner_discount",
        "partner_price",
        "volume_discount",
        "final_price",
        "payable",
        "cashback",
    ]
    assert [s.amount for s in steps] == [
        D("347.20"),
        D("-69.44"),
        D("277.76"),
        D("-69.44"),
        D("208.32"),
        D("347.20"),
        D("138.88"),
    ]
    assert steps[1].percent == D(20) and steps[3].percent == D(25)
    assert all(str(s.label) for s in steps)


def test_steps_without_reward_show_only_the_public_price():
    line = price_line(unit_price=D("9.92"), quantity=35, currency="CHF", terms=SEED_TERMS, reward=Reward.NONE)
    assert [(s.key, s.amount) for s in line.steps] == [("list_total", D("347.20")), ("payable", D("347.20"))]


def test_steps_with_discount_have_no_cashback_step():
    line = price_line(unit_price=D("9.92"), quantity=35, currency="CHF", terms=SEED_TERMS, reward=Reward.DISCOUNT)
    assert "cashback" not in [s.key for s in line.steps]
    assert line.steps[-1].amount == D("208.32")


# --- orders --------------------------------------------------------------------------------------


def test_order_totals_are_sums_of_rounded_lines():
    lines = [LineInput(D("0.335"), 3), LineInput(D("0.335"), 3), LineInput(D("9.92"), 35)]
    order = price_order(lines, currency="CHF", terms=SEED_TERMS, reward=Reward.DISCOUNT)

    assert len(order.lines) == 3
    assert order.list_total == D("1.01") + D("1.01") + D("347.20")  # not round(0.335 × 6 + 347.2)
    assert order.payable == sum(line.payable for line in order.lines)
    assert order.discount == sum(line.discount for line in order.lines)
    assert order.partner_discount == sum(line.partner_discount for line in order.lines)
    assert order.volume_discount == sum(line.volume_discount for line in order.lines)
    assert order.cashback == D("0.00")
    assert order.reward == Reward.DISCOUNT


def test_lines_of_one_product_share_its_volume_tier():
    lines = [LineInput(D("9.92"), 20, product_key=7), LineInput(D("9.92"), 15, product_key=7), LineInput(D("1.00"), 5)]
    order = price_order(lines, currency="CHF", terms=SEED_TERMS, reward=Reward.DISCOUNT)

    assert [line.volume_discount_percent for line in order.lines] == [D(25), D(25), D(0)]
    separate = price_order(
        [LineInput(D("9.92"), 20), LineInput(D("9.92"), 15)], currency="CHF", terms=SEED_TERMS, reward=Reward.DISCOUNT
    )
    assert [line.volume_discount_percent for line in separate.lines] == [D(0), D(0)]


def test_an_order_with_cashback_sums_the_cashback():
    lines = [LineInput(D("9.92"), 35), LineInput(D("5.00"), 1)]
    order = price_order(lines, currency="CHF", terms=SEED_TERMS, reward=Reward.CASHBACK)
    assert order.payable == order.list_total == D("352.20")
    assert order.cashback == D("138.88") + D("1.00")


def test_an_empty_order_is_zero():
    order = price_order([], currency="EUR", terms=SEED_TERMS, reward=Reward.CASHBACK)
    assert order.lines == ()
    assert order.list_total == order.payable == order.cashback == D("0.00")


# --- loading the program's terms -----------------------------------------------------------------


def test_terms_for_program_reads_discount_and_tiers(operator_org):
    program = Program.objects.create(operator=operator_org, partner_discount_percent=D("20.00"))
    VolumeTier.objects.create(program=program, min_quantity=30, percent=D("25.00"))
    VolumeTier.objects.create(program=program, min_quantity=10, percent=D("10.00"))

    terms = terms_for_program(program)

    assert terms == PricingTerms(
        partner_discount_percent=D(20), volume_tiers=((10, D(10)), (30, D(25))), reseller_pricing=True
    )
    line = price_line(unit_price=D("9.92"), quantity=35, currency="CHF", terms=terms, reward=Reward.DISCOUNT)
    assert line.final_price == D("208.32")


def test_terms_for_a_program_without_reseller_pricing_or_no_program(operator_org):
    program = Program.objects.create(operator=operator_org, reseller_pricing=False)
    VolumeTier.objects.create(program=program, min_quantity=1, percent=D("50.00"))
    assert terms_for_program(program) == NO_RESELLER_PRICING
    assert terms_for_program(None) == NO_RESELLER_PRICING


# --- DESIGN §6's reward table: one test per row ------------------------------------------------------


@pytest.mark.parametrize("ordered_by", [OrderedBy.CUSTOMER, OrderedBy.PARTNER])
@pytest.mark.parametrize("managed", [True, False])
def test_row_1_full_with_customers_means_gives_cashback_whoever_orders(ordered_by, managed):
    partnership = Partnership(
        mode=PartnershipMode.FULL, payment_means=PaymentMeans.CUSTOMER, product_managed_by_partner=managed
    )
    assert decide_reward(partnership, ordered_by=ordered_by) == Reward.CASHBACK


@pytest.mark.parametrize("managed", [True, False])
def test_row_2_full_with_partners_means_and_the_customer_ordering_gives_cashback(managed):
    partnership = Partnership(
        mode=PartnershipMode.FULL, payment_means=PaymentMeans.PARTNER, product_managed_by_partner=managed
    )
    assert decide_reward(partnership, ordered_by=OrderedBy.CUSTOMER) == Reward.CASHBACK


@pytest.mark.parametrize("managed", [True, False])
def test_row_3_full_with_partners_means_and_the_partner_ordering_gives_the_discount(managed):
    partnership = Partnership(
        mode=PartnershipMode.FULL, payment_means=PaymentMeans.PARTNER, product_managed_by_partner=managed
    )
    assert decide_reward(partnership, ordered_by=OrderedBy.PARTNER) == Reward.DISCOUNT


def test_row_4_restricted_with_the_customer_ordering_a_product_the_partner_manages_gives_cashback():
    partnership = Partnership(
        mode=PartnershipMode.RESTRICTED, payment_means=PaymentMeans.CUSTOMER, product_managed_by_partner=True
    )
    assert decide_reward(partnership, ordered_by=OrderedBy.CUSTOMER) == Reward.CASHBACK


@pytest.mark.parametrize("ordered_by", [OrderedBy.CUSTOMER, OrderedBy.PARTNER])
def test_none_without_a_partnership(ordered_by):
    assert decide_reward(None, ordered_by=ordered_by) == Reward.NONE
    assert decide_reward(NO_PARTNERSHIP, ordered_by=ordered_by) == Reward.NONE
    for means in PaymentMeans:
        for managed in (True, False):
            partnership = Partnership(mode=None, payment_means=means, product_managed_by_partner=managed)
            assert decide_reward(partnership, ordered_by=ordered_by) == Reward.NONE


def test_none_restricted_with_a_product_the_partner_does_not_manage():
    partnership = Partnership(
        mode=PartnershipMode.RESTRICTED, payment_means=PaymentMeans.CUSTOMER, product_managed_by_partner=False
    )
    assert decide_reward(partnership, ordered_by=OrderedBy.CUSTOMER) == Reward.NONE


@pytest.mark.parametrize("managed", [True, False])
@pytest.mark.parametrize("means", list(PaymentMeans))
def test_none_restricted_with_the_partner_ordering(managed, means):
    partnership = Partnership(mode=PartnershipMode.RESTRICTED, payment_means=means, product_managed_by_partner=managed)
    assert decide_reward(partnership, ordered_by=OrderedBy.PARTNER) == Reward.NONE


@pytest.mark.parametrize("managed", [True, False])
def test_none_restricted_with_the_partners_means(managed):
    # Payment means belong to full partnerships (DESIGN §5): a restricted one never uses the partner's.
    partnership = Partnership(
        mode=PartnershipMode.RESTRICTED, payment_means=PaymentMeans.PARTNER, product_managed_by_partner=managed
    )
    assert decide_reward(partnership, ordered_by=OrderedBy.CUSTOMER) == Reward.NONE


def test_the_table_is_complete():
    """Every combination of the inputs, against the table written out independently."""
    expected = {
        ("full", "customer", "customer"): Reward.CASHBACK,
        ("full", "customer", "partner"): Reward.CASHBACK,
        ("full", "partner", "customer"): Reward.CASHBACK,
        ("full", "partner", "partner"): Reward.DISCOUNT,
    }
    for mode in (None, "full", "restricted"):
        for means in ("customer", "partner"):
            for ordered_by in ("customer", "partner"):
                for managed in (True, False):
                    if mode == "restricted":
                        want = (
                            Reward.CASHBACK
                            if (means, ordered_by, managed) == ("customer", "customer", True)
                            else Reward.NONE
                        )
                    else:
                        want = expected.get((mode or "", means, ordered_by), Reward.NONE)
                    partnership = Partnership(mode=mode, payment_means=means, product_managed_by_partner=managed)
                    assert decide_reward(partnership, ordered_by=ordered_by) == want, (mode, means, ordered_by, managed)


def test_strings_are_accepted_and_unknown_values_refused():
    partnership = Partnership(mode="full", payment_means="partner")
    assert partnership.mode is PartnershipMode.FULL
    assert decide_reward(partnership, ordered_by="partner") == Reward.DISCOUNT
    with pytest.raises(ValueError):
        Partnership(mode="partial")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        decide_reward(partnership, ordered_by="operator")  # type: ignore[arg-type]


def test_the_decision_and_the_price_together():
    """Seed 001 end to end: the partner ordering with its own means pays 208.32; the customer 347.20."""
    partnership = Partnership(mode=PartnershipMode.FULL, payment_means=PaymentMeans.PARTNER)
    by_partner = price_line(
        unit_price=D("9.92"),
        quantity=35,
        currency="CHF",
        terms=SEED_TERMS,
        reward=decide_reward(partnership, ordered_by=OrderedBy.PARTNER),
    )
    by_customer = price_line(
        unit_price=D("9.92"),
        quantity=35,
        currency="CHF",
        terms=SEED_TERMS,
        reward=decide_reward(partnership, ordered_by=OrderedBy.CUSTOMER),
    )
    assert (by_partner.payable, by_partner.cashback) == (D("208.32"), D("0.00"))
    assert (by_customer.payable, by_customer.cashback) == (D("347.20"), D("138.88"))
