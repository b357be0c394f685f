"""Placing orders: pricing per line, totals, customer products, invoice, cashback, email, refusals."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied
from django.http import Http404

from conftest import add_member, make_user
from partnerhub.access.perms import Perm, Role
from partnerhub.audit.models import AuditEntry
from partnerhub.billing import pricing, wallets
from partnerhub.billing.models import CustomerProduct, Invoice, InvoiceStatus, Order, ProductStatus
from partnerhub.billing.services import place_order, preview_order
from partnerhub.billing.services.orders import OrderPartnership
from partnerhub.billing.tests.shop import actor, domain, hosting, licence, snapshot
from partnerhub.catalog.tests.factories import make_program
from partnerhub.core.errors import ServiceError
from partnerhub.orgs.models import Organisation


def test_customer_orders_products_end_to_end(acme, acme_owner, django_capture_on_commit_callbacks):
    web, name = hosting(), domain()
    acme.billing_email = "billing@acme.test"
    acme.save()
    with django_capture_on_commit_callbacks(execute=True):
        order = place_order(actor(acme_owner), customer=acme, lines=[(web, 35, None), (name, 1, 24)], currency="CHF")
    lines = list(order.lines.all())
    assert [(line.quantity, line.term_months, line.list_total, line.total) for line in lines] == [
        (35, 1, Decimal("347.20"), Decimal("347.20")),
        (1, 24, Decimal("30.00"), Decimal("30.00")),
    ]
    assert lines[1].unit_price == Decimal("30.00")  # two yearly periods
    assert order.total == order.subtotal == Decimal("377.20")
    assert order.placed_by == acme_owner and order.placed_by_org == acme and order.payer == acme
    products = list(CustomerProduct.objects.filter(org=acme).order_by("id"))
    assert [(p.product, p.status, p.quantity) for p in products] == [
        (web, ProductStatus.ACTIVE, 35),
        (name, ProductStatus.ACTIVE, 1),
    ]
    assert products[1].renews_on is not None and products[1].renews_on.year == products[1].started_on.year + 2
    invoice = Invoice.objects.get(order=order)
    assert (invoice.number, invoice.currency, invoice.org, invoice.status) == (1, "CHF", acme, InvoiceStatus.OPEN)
    assert invoice.total == Decimal("377.20")
    assert [line.category_slug for line in invoice.lines.all()] == ["shared-hosting", "domains-ssl"]
    actions = set(AuditEntry.objects.filter(org=acme).values_list("action", flat=True))
    assert {"order.placed", "invoice.issued"} <= actions
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["billing@acme.test"]
    assert "377.20" in mail.outbox[0].body and invoice.display_number in mail.outbox[0].body


def test_lines_round_half_up_and_total_is_sum_of_rounded_lines(acme, acme_owner):
    odd = hosting("odd", prices={"CHF": "0.125", "EUR": "1.00"})  # stored rounded: 0.13
    order = place_order(actor(acme_owner), customer=acme, lines=[(odd, 3, None), (odd, 1, None)], currency="CHF")
    totals = [line.total for line in order.lines.all()]
    assert totals == [Decimal("0.39"), Decimal("0.13")]
    assert order.total == sum(totals)


def test_relative_licence_is_ordered_for_every_active_member(acme, acme_owner, acme_member):
    seats = licence(relative=True)
    order = place_order(actor(acme_owner), customer=acme, lines=[(seats, 10, None)], currency="EUR")
    assert order.lines.get().quantity == 2
    assert CustomerProduct.objects.get(org=acme).quantity == 2


def test_trial_product_starts_as_free_trial_without_invoice(acme, acme_owner):
    module = licence("module", trial_days=14)
    order = place_order(actor(acme_owner), customer=acme, lines=[(module, 5, None)], currency="CHF")
    assert order.total == 0
    cp = CustomerProduct.objects.get(org=acme)
    assert cp.status == ProductStatus.TRIAL and cp.trial_ends_on is not None and cp.renews_on is None
    assert not Invoice.objects.exists()
    # A second order of the same product is not another trial.
    again = place_order(actor(acme_owner), customer=acme, lines=[(module, 1, None)], currency="CHF")
    assert again.total == Decimal("4.00")


def test_cashback_goes_to_the_partners_wallet(acme, acme_owner, operator_org):
    make_program(operator_org, discount="20", tiers=[(30, "25")])
    partner = Organisation.objects.create(name="Reseller AG", slug="reseller", is_partner=True)
    full = OrderPartnership(partner=partner, terms=pricing.Partnership(mode="full"))
    order = place_order(
        actor(acme_owner), customer=acme, lines=[(hosting(), 35, None)], currency="CHF", partnership=full
    )
    line = order.lines.get()
    assert (line.list_total, line.partner_discount, line.volume_discount, line.total, line.cashback) == (
        Decimal("347.20"),
        Decimal("69.44"),
        Decimal("69.44"),
        Decimal("347.20"),
        Decimal("138.88"),
    )
    assert order.cashback_total == Decimal("138.88")
    assert wallets.balance(partner, "CHF") == Decimal("138.88")
    assert order.payer == acme


def test_partner_means_make_the_partner_the_payer_with_discount(acme, acme_owner, operator_org):
    make_program(operator_org, discount="20", tiers=[(30, "25")])
    partner = Organisation.objects.create(name="Reseller AG", slug="reseller", is_partner=True)
    terms = pricing.Partnership(mode="full", payment_means="partner")
    # The partner branch of the access rule does not exist yet: a customer admin orders on the
    # partner's means here (row 2 of the table: cashback, the partner pays the public price).
    order = place_order(
        actor(acme_owner),
        customer=acme,
        lines=[(hosting(), 35, None)],
        currency="EUR",
        partnership=OrderPartnership(partner=partner, terms=terms),
    )
    assert order.payer == partner
    invoice = Invoice.objects.get(order=order)
    assert invoice.org == partner and invoice.total == Decimal("201.25")
    assert wallets.balance(partner, "EUR") == Decimal("80.50")  # 201.25 − 120.75


def test_preview_writes_nothing_and_matches_the_order(acme, acme_owner):
    web = hosting()
    before = snapshot()
    priced = preview_order(actor(acme_owner), customer=acme, lines=[(web, 2, None)], currency="EUR")
    assert snapshot() == before
    order = place_order(actor(acme_owner), customer=acme, lines=[(web, 2, None)], currency="EUR")
    assert priced.total == order.total == Decimal("11.50")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"currency": "JPY"}, "no price"),
        ({"currency": "XXX"}, "Unknown currency"),
        ({"lines": []}, "at least one"),
        ({"quantity": 0}, "quantity"),
        ({"term": 5}, "term"),
        ({"retired": True}, "no longer sold"),
        ({"ordered_by": "partner"}, "partnership"),
    ],
)
def test_refused_orders_change_nothing(acme, acme_owner, change: dict[str, Any], message: str):
    web = hosting(is_active=not change.get("retired", False))
    yearly = domain()
    lines = change.get("lines", [(web, change.get("quantity", 1), None), (yearly, 1, change.get("term"))])
    before = snapshot()
    with pytest.raises(ServiceError, match=message):
        place_order(
            actor(acme_owner),
            customer=acme,
            lines=lines,
            currency=change.get("currency", "CHF"),
            ordered_by=change.get("ordered_by", "customer"),
        )
    assert snapshot() == before


@pytest.mark.parametrize(
    ("who", "error"),
    [
        ("acme_owner", None),
        ("acme_admin", None),
        ("acme_member", PermissionDenied),
        ("globex_owner", Http404),
        ("outsider", Http404),
        ("operator_staff", Http404),
        ("member_with_order", None),
    ],
)
def test_order_permission_matrix(request, acme, who: str, error, django_capture_on_commit_callbacks):
    if who == "member_with_order":
        user = make_user("buyer@acme.test")
        add_member(user, acme, Role.MEMBER, [Perm.BILLING_ORDER])
    else:
        user = request.getfixturevalue(who)
    web = hosting()
    before = snapshot()
    with django_capture_on_commit_callbacks(execute=True):
        if error is None:
            place_order(actor(user), customer=acme, lines=[(web, 1, None)], currency="CHF")
        else:
            with pytest.raises(error):
                place_order(actor(user), customer=acme, lines=[(web, 1, None)], currency="CHF")
    if error is None:
        assert Order.objects.count() == 1 and len(mail.outbox) == 1
    else:
        assert snapshot() == before


def test_an_order_total_above_the_amount_cap_is_refused(acme, acme_owner):
    from partnerhub.billing.services.common import MAX_QUANTITY
    from partnerhub.catalog.models import Price

    web = hosting()
    Price.objects.filter(product=web, currency="CHF").update(amount=Decimal("999999999999.99"))
    before = snapshot()
    with pytest.raises(ServiceError, match="too large"):
        place_order(actor(acme_owner), customer=acme, lines=[(web, MAX_QUANTITY, None)], currency="CHF")
    assert snapshot() == before


def test_a_price_change_between_preview_and_confirmation_refuses_the_order(operator_org, acme, acme_owner):
    from decimal import Decimal

    import pytest

    from partnerhub.access.policy import Actor
    from partnerhub.billing.models import Order
    from partnerhub.billing.services import place_order, preview_order
    from partnerhub.catalog.models import Price
    from partnerhub.catalog.tests.factories import make_product
    from partnerhub.core.errors import ServiceError

    product = make_product(sku="price-change", prices={"CHF": "10.00"})
    actor = Actor(user=acme_owner)
    preview = preview_order(actor, customer=acme, lines=[(product, 2, None)], currency="CHF")
    assert preview.total == Decimal("20.00")
    Price.objects.filter(product=product, currency="CHF").update(amount=Decimal("12.00"))
    with pytest.raises(ServiceError, match="Prices changed since the preview"):
        place_order(actor, customer=acme, lines=[(product, 2, None)], currency="CHF", expected_total=preview.total)
    assert not Order.objects.filter(org=acme).exists()
    order = place_order(actor, customer=acme, lines=[(product, 2, None)], currency="CHF", expected_total=Decimal("24"))
    assert order.total == Decimal("24.00")
