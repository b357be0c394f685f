"""Billing events of Partnerhub's own invoices (record_invoice_event) and the proportional split."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from partnerhub.audit.models import AuditEntry
from partnerhub.billing.events import record_invoice_event, split_proportionally
from partnerhub.billing.models import BillingEvent, BillingEventLine, Invoice, InvoiceLine, InvoiceStatus
from partnerhub.catalog.models import Category, Product
from partnerhub.core.errors import ServiceError
from partnerhub.orgs.models import Organisation

PAID_AT = datetime(2026, 2, 3, 4, 5, tzinfo=UTC)


@pytest.fixture
def invoice(acme: Organisation, operator_org: Organisation) -> Invoice:
    hosting = Category.objects.create(slug="shared-hosting", name="Shared hosting")
    domains = Category.objects.create(slug="domains-ssl", name="Domains & SSL")
    web = Product.objects.create(category=hosting, sku="web-basic", name="Web Basic")
    domain = Product.objects.create(category=domains, sku="domain-ch", name="Domain .ch")
    inv = Invoice.objects.create(
        number=42,
        currency="CHF",
        org=acme,
        status=InvoiceStatus.PAID,
        due_on=date(2026, 2, 28),
        paid_at=PAID_AT,
        subtotal=Decimal("110.00"),
        total=Decimal("110.00"),
    )
    for no, (product, total) in enumerate([(web, "70.00"), (domain, "30.00"), (web, "10.00"), (domain, "0.00")], 1):
        InvoiceLine.objects.create(
            invoice=inv,
            line_no=no,
            product=product,
            category_slug=product.category.slug,
            description=product.name,
            quantity=1,
            unit_price=Decimal(total),
            total=Decimal(total),
        )
    return inv


def line_amounts(event: BillingEvent) -> list[tuple[int, str, Decimal]]:
    return list(event.lines.values_list("line_no", "product_sku", "base_amount"))


def test_a_paid_invoice_emits_a_payment_once(invoice, operator_org):
    event = record_invoice_event(invoice, "payment")
    assert event.external_id == "invoice:CHF-000042:paid"
    assert (event.kind, event.org_id, event.currency, event.source) == ("payment", invoice.org_id, "CHF", "invoice")
    assert event.invoice_id == invoice.pk and event.occurred_at == PAID_AT
    # Lines with a zero total carry no money and are left out.
    assert line_amounts(event) == [
        (1, "web-basic", Decimal("70.00")),
        (2, "domain-ch", Decimal("30.00")),
        (3, "web-basic", Decimal("10.00")),
    ]
    assert event.lines.get(line_no=2).category_slug == "domains-ssl"
    assert AuditEntry.objects.filter(action="billing_event.created", org=operator_org).count() == 1
    counts = (BillingEvent.objects.count(), BillingEventLine.objects.count(), AuditEntry.objects.count())
    assert record_invoice_event(invoice, "payment").pk == event.pk
    assert (BillingEvent.objects.count(), BillingEventLine.objects.count(), AuditEntry.objects.count()) == counts


def test_a_partial_refund_is_split_proportionally_and_sums_exactly(invoice):
    record_invoice_event(invoice, "payment")
    refund = record_invoice_event(invoice, "refund", amount=Decimal("33.33"))
    assert refund.external_id == "invoice:CHF-000042:refund:1"
    assert refund.refers_to == "invoice:CHF-000042:paid" and refund.kind == "refund"
    # 33.33 × 70/110 = 21.2100, × 30/110 = 9.0900, × 10/110 = 3.0300: exact here.
    assert line_amounts(refund) == [
        (1, "web-basic", Decimal("21.21")),
        (2, "domain-ch", Decimal("9.09")),
        (3, "web-basic", Decimal("3.03")),
    ]
    second = record_invoice_event(invoice, "refund", amount=Decimal("0.01"))
    assert second.external_id == "invoice:CHF-000042:refund:2"
    assert sum(second.lines.values_list("base_amount", flat=True)) == Decimal("0.01")
    # The rest, without an amount: everything not refunded yet, per line.
    rest = record_invoice_event(invoice, "refund")
    refunded = {1: Decimal(0), 2: Decimal(0), 3: Decimal(0)}
    for line_no, amount in BillingEventLine.objects.filter(event__kind="refund").values_list("line_no", "base_amount"):
        refunded[line_no] += amount
    assert refunded == {1: Decimal("70.00"), 2: Decimal("30.00"), 3: Decimal("10.00")}
    assert sum(rest.lines.values_list("base_amount", flat=True)) == Decimal("110.00") - Decimal("33.34")
    with pytest.raises(ServiceError, match="nothing left"):
        record_invoice_event(invoice, "refund")


def test_refunds_are_bounded_by_the_paid_amount(invoice):
    with pytest.raises(ServiceError, match="no recorded payment"):
        record_invoice_event(invoice, "refund", amount=Decimal("1.00"))
    record_invoice_event(invoice, "payment")
    before = BillingEvent.objects.count(), BillingEventLine.objects.count(), AuditEntry.objects.count()
    for amount in ("110.01", "0.00", "-1.00", "1.001"):
        with pytest.raises(ServiceError):
            record_invoice_event(invoice, "refund", amount=Decimal(amount))
    assert (BillingEvent.objects.count(), BillingEventLine.objects.count(), AuditEntry.objects.count()) == before
    assert record_invoice_event(invoice, "refund", amount=Decimal("110.00")).lines.count() == 3


def test_other_kinds_are_a_programming_error(invoice):
    with pytest.raises(ValueError):
        record_invoice_event(invoice, "chargeback")


def test_largest_remainder_gives_leftover_cents_to_the_largest_remainders():
    # Thirds of 1.00: 0.333… each; the leftover cent goes to the first (ties: earlier line).
    assert split_proportionally([Decimal(1)] * 3, Decimal("1.00"), "CHF") == [
        Decimal("0.34"),
        Decimal("0.33"),
        Decimal("0.33"),
    ]
    # 0.05 over 1.00 / 2.00 / 7.00: exact 0.005 / 0.010 / 0.035 → 0.00 / 0.01 / 0.03 + one cent to
    # the largest remainder (0.005 vs 0.005: the earlier line).
    assert split_proportionally([Decimal("1.00"), Decimal("2.00"), Decimal("7.00")], Decimal("0.05"), "CHF") == [
        Decimal("0.01"),
        Decimal("0.01"),
        Decimal("0.03"),
    ]
    assert split_proportionally([Decimal(5), Decimal(5)], Decimal(3), "JPY") == [Decimal(2), Decimal(1)]


cents = st.integers(min_value=0, max_value=10_000_000).map(lambda c: Decimal(c) / 100)


@settings(max_examples=300, deadline=None)
@given(weights=st.lists(cents, min_size=1, max_size=12), fraction=st.fractions(min_value=0, max_value=1))
def test_split_property(weights, fraction):
    total = sum(weights, Decimal(0))
    amount = (total * fraction.numerator / fraction.denominator).quantize(Decimal("0.01"), rounding="ROUND_FLOOR")
    shares = split_proportionally(weights, amount, "CHF")
    assert sum(shares, Decimal(0)) == amount
    for share, weight in zip(shares, weights, strict=True):
        assert Decimal(0) <= share <= weight
        assert share == share.quantize(Decimal("0.01"))
        # Never more than one minor unit away from the exact proportional share.
        if total:
            assert abs(share - weight * amount / total) < Decimal("0.01")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    totals=st.lists(st.integers(min_value=1, max_value=500_000), min_size=1, max_size=6),
    refunds=st.lists(st.integers(min_value=1, max_value=600_000), min_size=1, max_size=4),
)
def test_invoice_refunds_property(acme, operator_org, totals, refunds):
    """Random line amounts and refund amounts: every refund's lines sum to it, no line is negative or
    above the paid line (in total over all refunds), and nothing beyond the paid amount is refunded."""
    category = Category.objects.get_or_create(slug="prop", defaults={"name": "Prop"})[0]
    product = Product.objects.get_or_create(sku="prop-1", defaults={"category": category, "name": "P"})[0]
    number = Invoice.objects.count() + 1000
    invoice = Invoice.objects.create(
        number=number,
        currency="EUR",
        org=acme,
        due_on=date(2026, 1, 1),
        subtotal=Decimal(0),
        total=Decimal(0),
        paid_at=PAID_AT,
    )
    paid = [Decimal(t) / 100 for t in totals]
    for no, amount in enumerate(paid, 1):
        InvoiceLine.objects.create(
            invoice=invoice, line_no=no, product=product, description="x", quantity=1, unit_price=amount, total=amount
        )
    record_invoice_event(invoice, "payment")
    left = sum(paid, Decimal(0))
    refunded = [Decimal(0)] * len(paid)
    for cents_ in refunds:
        amount = Decimal(cents_) / 100
        if amount > left:
            with pytest.raises(ServiceError):
                record_invoice_event(invoice, "refund", amount=amount)
            continue
        event = record_invoice_event(invoice, "refund", amount=amount)
        lines = list(event.lines.values_list("line_no", "base_amount"))
        assert sum(a for _, a in lines) == amount
        for line_no, a in lines:
            assert a > 0
            refunded[line_no - 1] += a
        left -= amount
    for got, cap in zip(refunded, paid, strict=True):
        assert Decimal(0) <= got <= cap
