"""Renewals: one invoice per organisation and currency at current prices, idempotent, skips reported,
renewal billing events, the daily command."""

from __future__ import annotations

import logging
from datetime import date, timedelta
from decimal import Decimal
from io import StringIO

from django.core.management import call_command
from django.utils import timezone

from conftest import add_member, make_user
from partnerhub.access.perms import Role
from partnerhub.audit.models import AuditEntry
from partnerhub.billing import pricing
from partnerhub.billing.models import (
    BillingEvent,
    BillingEventKind,
    CustomerProduct,
    Invoice,
    InvoiceKind,
    InvoiceStatus,
    ProductStatus,
)
from partnerhub.billing.services import invoice_renewals, mark_invoice_paid, place_order, refund_invoice
from partnerhub.billing.services.common import add_months
from partnerhub.billing.services.orders import OrderPartnership
from partnerhub.billing.tests.shop import actor, domain, hosting, licence
from partnerhub.catalog.models import BillingPeriod, Price
from partnerhub.catalog.tests.factories import make_category, make_product, make_program
from partnerhub.orgs.models import Organisation


def _order(org, user, currency: str, *lines) -> list[CustomerProduct]:
    order = place_order(actor(user), customer=org, lines=list(lines), currency=currency)
    return list(CustomerProduct.objects.filter(order_line__order=order).order_by("id"))


def _renewal_invoices() -> list[Invoice]:
    return list(Invoice.objects.filter(kind=InvoiceKind.RENEWAL).order_by("id"))


def test_due_products_get_one_invoice_per_org_and_currency_at_current_prices(
    acme, acme_owner, globex, globex_owner, operator_staff
):
    web, name = hosting(), domain()
    monthly, yearly = _order(acme, acme_owner, "CHF", (web, 2, None), (name, 1, None))
    (euro,) = _order(acme, acme_owner, "EUR", (web, 3, None))
    (other,) = _order(globex, globex_owner, "CHF", (web, 1, None))
    assert monthly.renews_on is not None and yearly.renews_on is not None
    Price.objects.filter(product=web, currency="CHF").update(amount=Decimal("10.50"))
    day = yearly.renews_on  # every product is due by then
    issued = invoice_renewals(today=day)
    invoices = _renewal_invoices()
    assert issued == 3 == len(invoices)
    by_key = {(i.org.slug, i.currency): i for i in invoices}
    assert set(by_key) == {("acme", "CHF"), ("acme", "EUR"), ("globex", "CHF")}
    acme_chf = by_key[("acme", "CHF")]
    # The monthly hosting renews for the 12 months it was not billed (caught up in one line), the domain once.
    lines = list(acme_chf.lines.order_by("line_no"))
    assert [(line.product, line.quantity, line.total) for line in lines] == [
        (web, 2, Decimal("252.00")),  # 12 × 10.50 × 2
        (name, 1, Decimal("15.00")),
    ]
    assert acme_chf.total == Decimal("267.00") and acme_chf.order is None and acme_chf.status == InvoiceStatus.OPEN
    assert by_key[("acme", "EUR")].total == Decimal("207.00")  # 12 × 5.75 × 3
    # Numbers continue the gapless sequence of their currency.
    assert sorted(Invoice.objects.filter(currency="CHF").values_list("number", flat=True)) == [1, 2, 3, 4]
    for cp, months in ((monthly, 1), (yearly, 12), (euro, 1), (other, 1)):
        old = cp.renews_on
        cp.refresh_from_db()
        assert cp.renews_on is not None and old is not None and cp.renews_on > day
        assert cp.renews_on == _first_after(old, months, day)
    renewed = AuditEntry.objects.filter(action="customer_product.renewed")
    assert renewed.count() == 4 and all(entry.actor is None for entry in renewed)
    issued_entries = AuditEntry.objects.filter(action="invoice.issued", after__kind="renewal")
    assert issued_entries.count() == 3 and all(entry.actor is None for entry in issued_entries)


def _first_after(start: date, months: int, day: date) -> date:
    moved = start
    while moved <= day:
        moved = add_months(moved, months)
    return moved


def test_running_twice_on_the_same_day_issues_nothing_new(acme, acme_owner):
    (cp,) = _order(acme, acme_owner, "CHF", (hosting(), 1, None))
    assert cp.renews_on is not None
    assert invoice_renewals(today=cp.renews_on) == 1
    audit = AuditEntry.objects.count()
    assert invoice_renewals(today=cp.renews_on) == 0
    assert len(_renewal_invoices()) == 1 and AuditEntry.objects.count() == audit
    # The next term is due a month later.
    cp.refresh_from_db()
    assert cp.renews_on is not None
    assert invoice_renewals(today=cp.renews_on) == 1


def test_products_not_due_are_left_alone(acme, acme_owner, operator_staff):
    web = hosting()
    once = make_product(make_category("courses"), "course", billing_period=BillingPeriod.ONE_TIME)
    trial = licence("module", trial_days=14)
    active, suspended, cancelling, one_time = _order(
        acme, acme_owner, "CHF", (web, 1, None), (web, 2, None), (web, 3, None), (once, 1, None)
    )
    _order(acme, acme_owner, "CHF", (trial, 1, None))
    CustomerProduct.objects.filter(pk=suspended.pk).update(status=ProductStatus.SUSPENDED)
    CustomerProduct.objects.filter(pk=cancelling.pk).update(cancel_at_term_end=True)
    assert one_time.renews_on is None and active.renews_on is not None
    day = active.renews_on
    assert invoice_renewals(today=day - timedelta(days=1)) == 0
    assert invoice_renewals(today=day) == 1
    (invoice,) = _renewal_invoices()
    assert [(line.quantity, line.total) for line in invoice.lines.all()] == [(1, Decimal("9.92"))]


def test_a_product_without_price_is_skipped_and_reported_once_a_day(acme, acme_owner, caplog):
    web, name = hosting(), domain()
    _kept, dropped = _order(acme, acme_owner, "EUR", (web, 1, None), (name, 1, None))
    Price.objects.filter(product=name, currency="EUR").delete()
    assert dropped.renews_on is not None
    day = dropped.renews_on
    with caplog.at_level(logging.WARNING, logger="partnerhub.billing.services.renewals"):
        assert invoice_renewals(today=day) == 1
    assert any("no price in EUR" in message for message in caplog.messages)
    (invoice,) = _renewal_invoices()
    assert [line.product for line in invoice.lines.all()] == [web]
    skipped = AuditEntry.objects.filter(action="customer_product.renewal_skipped")
    assert skipped.count() == 1 and skipped.get().actor is None and skipped.get().object_id == str(dropped.pk)
    assert (skipped.get().after or {})["reason"] == "no price in EUR"
    old = dropped.renews_on
    dropped.refresh_from_db()
    assert dropped.renews_on == old  # still due: someone has to act
    assert invoice_renewals(today=day) == 0
    assert skipped.count() == 1  # the same day: reported once
    assert len(_renewal_invoices()) == 1


def test_relative_licences_renew_for_the_active_members(acme, acme_owner, acme_member):
    seats = licence(relative=True)
    (cp,) = _order(acme, acme_owner, "CHF", (seats, 1, None))
    assert cp.quantity == 2 and cp.renews_on is not None
    add_member(make_user("third@acme.test"), acme, Role.MEMBER)
    assert invoice_renewals(today=cp.renews_on) == 1
    cp.refresh_from_db()
    assert cp.quantity == 3
    line = _renewal_invoices()[0].lines.get()
    assert (line.quantity, line.total) == (3, Decimal("12.00"))


def test_paying_a_renewal_invoice_records_a_renewal_event(acme, acme_owner, operator_staff):
    (cp,) = _order(acme, acme_owner, "CHF", (hosting(), 2, None))
    assert cp.renews_on is not None
    invoice_renewals(today=cp.renews_on)
    (invoice,) = _renewal_invoices()
    staff = actor(operator_staff)
    mark_invoice_paid(staff, invoice=invoice)
    event = BillingEvent.objects.get(invoice=invoice)
    assert event.kind == BillingEventKind.RENEWAL
    assert event.external_id == f"invoice:{invoice.display_number}:paid"
    refund_invoice(staff, invoice=invoice, amount="5.00")
    refund = BillingEvent.objects.get(invoice=invoice, kind=BillingEventKind.REFUND)
    assert refund.refers_to == event.external_id
    # Order invoices still record payments.
    order_invoice = Invoice.objects.get(kind=InvoiceKind.ORDER)
    mark_invoice_paid(staff, invoice=order_invoice)
    assert BillingEvent.objects.get(invoice=order_invoice).kind == BillingEventKind.PAYMENT


def test_the_partnership_hook_decides_payer_and_discount(acme, acme_owner, operator_org):
    make_program(operator_org, discount="20", tiers=[(30, "25")])
    partner = Organisation.objects.create(name="Reseller AG", slug="reseller", is_partner=True)
    (cp,) = _order(acme, acme_owner, "CHF", (hosting(), 35, None))
    assert cp.renews_on is not None
    terms = pricing.Partnership(mode="full", payment_means="partner")
    partnerships = {acme.pk: OrderPartnership(partner=partner, terms=terms)}
    # The partner's staff would order with its means (discount); a renewal counts as the customer's.
    invoice_renewals(today=cp.renews_on, partnership_for=lambda org: partnerships.get(org.pk))
    (invoice,) = _renewal_invoices()
    assert invoice.org == partner and invoice.total == Decimal("347.20")
    # Without a partnership the customer pays the public price.
    cp.refresh_from_db()
    assert cp.renews_on is not None
    invoice_renewals(today=cp.renews_on)
    assert _renewal_invoices()[1].org == acme


def test_billing_daily_runs_every_step_in_order(acme, acme_owner, operator_staff):
    web = hosting()
    due, cancelling = _order(acme, acme_owner, "CHF", (web, 1, None), (web, 2, None))
    CustomerProduct.objects.filter(pk=cancelling.pk).update(cancel_at_term_end=True, renews_on=timezone.localdate())
    CustomerProduct.objects.filter(pk=due.pk).update(renews_on=timezone.localdate())
    Invoice.objects.filter(kind=InvoiceKind.ORDER).update(due_on=timezone.localdate() - timedelta(days=1))
    out = StringIO()
    call_command("billing_daily", stdout=out)
    text = out.getvalue()
    assert "ended products: 1" in text
    assert "renewal invoices: 1" in text
    assert "recounted licences: 0" in text
    assert "overdue invoices: 1" in text
    assert "purged exports: 0" in text
    cancelling.refresh_from_db()
    assert cancelling.status == ProductStatus.CANCELLED
    (invoice,) = _renewal_invoices()
    assert [line.quantity for line in invoice.lines.all()] == [1]  # the ended product is not renewed
    out = StringIO()
    call_command("billing_daily", stdout=out)
    assert "renewal invoices: 0" in out.getvalue()


def test_renewal_invoices_show_like_any_invoice(client_for, acme, acme_owner):
    (cp,) = _order(acme, acme_owner, "CHF", (hosting(), 1, None))
    assert cp.renews_on is not None
    invoice_renewals(today=cp.renews_on)
    (invoice,) = _renewal_invoices()
    client = client_for(acme_owner)
    assert invoice.display_number in client.get("/o/acme/invoices/").content.decode()
    for suffix in ("", "print/", "pdf/"):
        assert client.get(f"/o/acme/invoices/{invoice.pk}/{suffix}").status_code == 200, suffix
    assert "renewal until" in client.get(f"/o/acme/invoices/{invoice.pk}/").content.decode()
    assert client.get(f"/api/v1/orgs/acme/invoices/{invoice.pk}").json()["kind"] == "renewal"
    order_invoice = Invoice.objects.get(kind=InvoiceKind.ORDER)
    assert client.get(f"/api/v1/orgs/acme/invoices/{order_invoice.pk}").json()["kind"] == "order"


def test_a_voided_renewal_invoice_leaves_the_products_and_is_not_issued_again(acme, acme_owner, operator_staff):
    from partnerhub.billing.models import Order, OrderStatus, ProductStatus
    from partnerhub.billing.services import cancel_invoice

    first, second = _order(acme, acme_owner, "CHF", (hosting(), 1, None), (hosting("web-pro"), 2, None))
    assert first.renews_on is not None
    due = first.renews_on
    assert invoice_renewals(today=due) == 1
    cancelled, refunded = first, second
    staff = actor(operator_staff)
    (invoice,) = _renewal_invoices()
    cancel_invoice(staff, invoice=invoice)
    # A second renewal invoice for the same customer, paid then refunded in full.
    for cp in (cancelled, refunded):
        cp.refresh_from_db()
    next_due = cancelled.renews_on
    assert next_due is not None and next_due > due
    assert invoice_renewals(today=next_due) == 1
    paid = _renewal_invoices()[-1]
    mark_invoice_paid(staff, invoice=paid)
    refund_invoice(staff, invoice=paid, amount=str(paid.total))
    for cp in (cancelled, refunded):
        cp.refresh_from_db()
        # The products stay as they are, their renewal date already past the voided terms…
        assert cp.status == ProductStatus.ACTIVE and cp.renews_on is not None and cp.renews_on > next_due
    # … so the voided terms are not invoiced again, and the order stands.
    assert invoice_renewals(today=next_due) == 0
    assert len(_renewal_invoices()) == 2
    assert Order.objects.get().status == OrderStatus.PLACED
    assert not AuditEntry.objects.filter(action__in=["order.cancelled", "customer_product.cancelled"]).exists()
