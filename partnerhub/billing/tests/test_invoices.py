"""Invoices: gapless numbering, status transitions, refunds, billing events, overdue detection, PDF."""

from __future__ import annotations

import re
import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection, transaction
from django.http import Http404
from django.utils import timezone

from conftest import add_member, make_user
from partnerhub.access.perms import Perm, Role
from partnerhub.audit.models import AuditEntry
from partnerhub.billing import pdf, pricing, wallets
from partnerhub.billing.models import (
    BillingEvent,
    BillingEventKind,
    Invoice,
    InvoiceStatus,
    OrderLine,
    Wallet,
    WalletEntry,
    WalletEntryKind,
)
from partnerhub.billing.services import (
    cancel_invoice,
    mark_invoice_paid,
    mark_overdue_invoices,
    place_order,
    refund_invoice,
)
from partnerhub.billing.services.invoices import issue_invoice
from partnerhub.billing.services.orders import OrderPartnership
from partnerhub.billing.tests.shop import actor, domain, hosting, snapshot
from partnerhub.catalog.models import Product
from partnerhub.catalog.tests.factories import make_program
from partnerhub.core.errors import ServiceError
from partnerhub.orgs.models import Organisation


@pytest.fixture
def invoice(acme, acme_owner, operator_staff) -> Invoice:
    order = place_order(actor(acme_owner), customer=acme, lines=[(hosting(), 35, None)], currency="CHF")
    return Invoice.objects.get(order=order)


def test_numbers_are_gapless_per_currency(acme, acme_owner):
    web = hosting()
    for currency in ["CHF", "EUR", "CHF", "CHF", "EUR"]:
        place_order(actor(acme_owner), customer=acme, lines=[(web, 1, None)], currency=currency)
    numbers = {
        c: list(Invoice.objects.filter(currency=c).order_by("number").values_list("number", flat=True))
        for c in ("CHF", "EUR")
    }
    assert numbers == {"CHF": [1, 2, 3], "EUR": [1, 2]}
    assert Invoice.objects.get(currency="EUR", number=2).display_number == "EUR-000002"


def test_a_rolled_back_invoice_leaves_no_gap(acme, acme_owner):
    web = hosting()
    place_order(actor(acme_owner), customer=acme, lines=[(web, 1, None)], currency="CHF")
    line = OrderLine.objects.get()
    with pytest.raises(RuntimeError), transaction.atomic():
        issue_invoice(org=acme, currency="CHF", lines=[line])
        raise RuntimeError("payment provider down")
    place_order(actor(acme_owner), customer=acme, lines=[(web, 1, None)], currency="CHF")
    assert list(Invoice.objects.order_by("number").values_list("number", flat=True)) == [1, 2]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks across connections: PostgreSQL only")
def test_concurrent_issuing_neither_duplicates_nor_skips(flushable_db):
    customer = Organisation.objects.create(name="Parallel AG", slug="parallel")
    owner = make_user("owner@parallel.test")
    add_member(owner, customer, Role.OWNER)
    web = hosting()
    errors: list[BaseException] = []
    barrier = threading.Barrier(2)

    def order_many() -> None:
        try:
            barrier.wait()
            for _ in range(5):
                place_order(actor(owner), customer=customer, lines=[(web, 1, None)], currency="CHF")
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=order_many) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(Invoice.objects.values_list("number", flat=True)) == list(range(1, 11))


def test_paid_then_partial_and_full_refund_emit_billing_events(invoice, operator_staff):
    staff = actor(operator_staff)
    paid = mark_invoice_paid(staff, invoice=invoice)
    assert paid.status == InvoiceStatus.PAID and paid.paid_at is not None
    payment = BillingEvent.objects.get(kind=BillingEventKind.PAYMENT)
    assert payment.invoice == invoice and payment.org == invoice.org
    assert payment.lines.get().base_amount == Decimal("347.20")
    partial = refund_invoice(staff, invoice=invoice, amount="100.00")
    assert (partial.status, partial.refunded_amount) == (InvoiceStatus.PAID, Decimal("100.00"))
    with pytest.raises(ServiceError, match=r"247\.20"):
        refund_invoice(staff, invoice=invoice, amount="247.21")
    full = refund_invoice(staff, invoice=invoice, amount=Decimal("247.20"))
    assert (full.status, full.refunded_amount) == (InvoiceStatus.REFUNDED, Decimal("347.20"))
    refunds = BillingEvent.objects.filter(kind=BillingEventKind.REFUND).order_by("id")
    assert [e.lines.get().base_amount for e in refunds] == [Decimal("100.00"), Decimal("247.20")]
    actions = list(
        AuditEntry.objects.filter(org=invoice.org, action__startswith="invoice.").values_list("action", flat=True)
    )
    assert actions.count("invoice.refunded") == 2 and "invoice.paid" in actions


@pytest.mark.parametrize(
    ("setup", "action"),
    [
        ("open", "refund"),
        ("paid", "pay"),
        ("paid", "cancel"),
        ("cancelled", "pay"),
        ("cancelled", "refund"),
        ("cancelled", "cancel"),
        ("refunded", "refund"),
        ("refunded", "pay"),
    ],
)
def test_illegal_transitions_are_refused_and_change_nothing(invoice, operator_staff, setup, action):
    staff = actor(operator_staff)
    if setup in ("paid", "refunded"):
        mark_invoice_paid(staff, invoice=invoice)
    if setup == "refunded":
        refund_invoice(staff, invoice=invoice, amount="347.20")
    if setup == "cancelled":
        cancel_invoice(staff, invoice=invoice)
    before = snapshot()
    with pytest.raises(ServiceError):
        if action == "pay":
            mark_invoice_paid(staff, invoice=invoice)
        elif action == "refund":
            refund_invoice(staff, invoice=invoice, amount="1.00")
        else:
            cancel_invoice(staff, invoice=invoice)
    assert snapshot() == before


@pytest.mark.parametrize("amount", ["0", "-5", "1.005", "abc", "1e30", "-1e30", "1000000000000", "Infinity"])
def test_bad_refund_amounts_are_refused(invoice, operator_staff, amount):
    mark_invoice_paid(actor(operator_staff), invoice=invoice)
    before = snapshot()
    with pytest.raises(ServiceError):
        refund_invoice(actor(operator_staff), invoice=invoice, amount=amount)
    assert snapshot() == before


@pytest.mark.parametrize(
    ("who", "error"),
    [
        ("acme_owner", Http404),
        ("globex_owner", Http404),
        ("outsider", Http404),
        ("operator_member", PermissionDenied),
        ("operator_finance", None),
    ],
)
def test_only_operator_billing_staff_act_on_invoices(request, invoice, operator_org, who, error):
    if who.startswith("operator_"):
        user = make_user(f"{who}@operator.test")
        add_member(user, operator_org, Role.MEMBER, [Perm.OPERATOR_PAYOUTS_MANAGE] if who == "operator_finance" else [])
    else:
        user = request.getfixturevalue(who)
    before = snapshot()
    if error is None:
        assert mark_invoice_paid(actor(user), invoice=invoice).status == InvoiceStatus.PAID
        return
    for call in (
        lambda: mark_invoice_paid(actor(user), invoice=invoice),
        lambda: cancel_invoice(actor(user), invoice=invoice),
        lambda: refund_invoice(actor(user), invoice=invoice, amount="1.00"),
    ):
        with pytest.raises(error):
            call()
    assert snapshot() == before


def test_overdue_detection_is_set_based_and_idempotent(invoice, operator_staff):
    later = timezone.localdate() + timedelta(days=30)
    assert mark_overdue_invoices(today=timezone.localdate()) == 0
    assert mark_overdue_invoices(today=later) == 1
    assert mark_overdue_invoices(today=later) == 0
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.OVERDUE
    entry = AuditEntry.objects.get(action="invoice.overdue")
    assert entry.actor is None and entry.org == invoice.org
    # Overdue invoices can still be paid.
    assert mark_invoice_paid(actor(operator_staff), invoice=invoice).status == InvoiceStatus.PAID


# --- PDF ----------------------------------------------------------------------------------------------


ESCAPES = {"n": "\n", "r": "\r", "t": "\t", "b": "\b", "f": "\f"}


def _unescape(literal: str) -> bytes:
    out, i = [], 0
    while i < len(literal):
        char = literal[i]
        if char == "\\" and i + 1 < len(literal):
            nxt = literal[i + 1]
            octal = re.match(r"[0-7]{1,3}", literal[i + 1 :])
            if octal:
                out.append(chr(int(octal.group(), 8)))
                i += 1 + len(octal.group())
                continue
            out.append(ESCAPES.get(nxt, nxt))
            i += 2
            continue
        out.append(char)
        i += 1
    return "".join(out).encode("latin-1")


def _cmap(stream: str) -> dict[int, str]:
    mapping: dict[int, str] = {}
    for block in re.findall(r"beginbfchar(.*?)endbfchar", stream, re.S):
        for glyph, code in re.findall(r"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", block):
            mapping[int(glyph, 16)] = bytes.fromhex(code).decode("utf-16-be")
    return mapping


def pdf_text(content: bytes) -> str:
    """The text of an uncompressed fpdf2 PDF: the two-byte glyph ids of its ``(…) Tj`` strings mapped
    back through the current font's ToUnicode CMap (enough to assert what was printed, no PDF library)."""
    raw = content.decode("latin-1")
    objects = {int(n): body for n, body in re.findall(r"(\d+) 0 obj(.*?)endobj", raw, re.S)}
    cmaps: dict[str, dict[int, str]] = {}
    for name, ref in re.findall(r"/(F\d+)\s+(\d+) 0 R", raw):
        to_unicode = re.search(r"/ToUnicode (\d+) 0 R", objects.get(int(ref), ""))
        if to_unicode:
            cmaps[name] = _cmap(objects[int(to_unicode.group(1))])
    texts, mapping = [], {}
    for match in re.finditer(r"/(F\d+)\s+[\d.]+\s+Tf|\(((?:\\.|[^\\)])*)\)\s*Tj", raw, re.S):
        if match.group(1):
            mapping = cmaps.get(match.group(1), {})
            continue
        data = _unescape(match.group(2))
        texts.append("".join(mapping.get(int.from_bytes(data[i : i + 2]), "?") for i in range(0, len(data) - 1, 2)))
    return "\n".join(texts)


def test_pdf_prints_number_and_cyrillic_customer(invoice):
    Organisation.objects.filter(pk=invoice.org_id).update(name="Акме ООД Пловдив")
    invoice.refresh_from_db()
    content = pdf.render_invoice(invoice, seller=Organisation.objects.get(is_operator=True), compress=False)
    assert content.startswith(b"%PDF")
    text = pdf_text(content)
    assert invoice.display_number in text
    assert "Акме ООД Пловдив" in text
    assert "347.20" in text
    compressed = pdf.render_invoice(invoice, seller=None)
    assert compressed.startswith(b"%PDF") and len(compressed) < len(content)


def test_pdf_without_font_raises_font_missing(invoice, monkeypatch, tmp_path):
    monkeypatch.setattr(pdf, "FONT_REGULAR", tmp_path / "missing.ttf")
    with pytest.raises(pdf.FontMissing):
        pdf.render_invoice(invoice, seller=None)


# --- cashback reversal ----------------------------------------------------------------------------------


def _cashback_invoice(acme, acme_owner, partner) -> Invoice:
    """35 hostings (cashback 138.88) and a domain (cashback 3.00): an invoice of CHF 362.20."""
    full = OrderPartnership(partner=partner, terms=pricing.Partnership(mode="full"))
    web = Product.objects.filter(sku="web-hosting").first() or hosting()
    name = Product.objects.filter(sku="domain-ch").first() or domain()
    order = place_order(
        actor(acme_owner),
        customer=acme,
        lines=[(web, 35, None), (name, 1, None)],
        currency="CHF",
        partnership=full,
    )
    assert order.cashback_total == Decimal("141.88")
    return Invoice.objects.get(order=order)


@pytest.fixture
def partner(operator_org) -> Organisation:
    make_program(operator_org, discount="20", tiers=[(30, "25")])
    return Organisation.objects.create(name="Reseller AG", slug="reseller", is_partner=True)


def _reversed_per_entry() -> dict[int, Decimal]:
    done: dict[int, Decimal] = {}
    for entry_id, amount in WalletEntry.objects.filter(kind=WalletEntryKind.REVERSAL).values_list(
        "reverses_id", "amount"
    ):
        done[entry_id] = done.get(entry_id, Decimal(0)) - amount
    return done


def test_partial_refund_reverses_cashback_proportionally(acme, acme_owner, operator_staff, partner):
    invoice = _cashback_invoice(acme, acme_owner, partner)
    staff = actor(operator_staff)
    mark_invoice_paid(staff, invoice=invoice)
    assert wallets.balance(partner, "CHF") == Decimal("141.88")
    refund_invoice(staff, invoice=invoice, amount="100.00")
    # 141.88 × 100 / 362.20 = 39.17, shared by largest remainders: 38.34 (hostings) + 0.83 (domain).
    credits = list(WalletEntry.objects.filter(kind=WalletEntryKind.CASHBACK).order_by("id"))
    assert _reversed_per_entry() == {credits[0].pk: Decimal("38.34"), credits[1].pk: Decimal("0.83")}
    assert wallets.balance(partner, "CHF") == Decimal("102.71")
    after = AuditEntry.objects.filter(action="invoice.refunded").get().after or {}
    assert sorted(r["amount"] for r in after["cashback_reversed"]) == ["-0.83", "-38.34"]
    assert {r["wallet"] for r in after["cashback_reversed"]} == {"reseller CHF"}
    # The rest of the invoice refunded: everything left of the cashback goes back.
    refund_invoice(staff, invoice=invoice, amount="262.20")
    assert wallets.balance(partner, "CHF") == Decimal("0.00")
    assert _reversed_per_entry() == {credits[0].pk: Decimal("138.88"), credits[1].pk: Decimal("3.00")}


def test_full_refund_and_cancel_bring_the_wallet_back(acme, acme_owner, operator_staff, partner):
    staff = actor(operator_staff)
    first = _cashback_invoice(acme, acme_owner, partner)
    before = wallets.balance(partner, "CHF")
    second = _cashback_invoice(acme, acme_owner, partner)
    assert wallets.balance(partner, "CHF") == before + Decimal("141.88")
    cancel_invoice(staff, invoice=second)
    assert wallets.balance(partner, "CHF") == before
    after = AuditEntry.objects.get(action="invoice.cancelled").after or {}
    assert sum((Decimal(r["amount"]) for r in after["cashback_reversed"]), Decimal(0)) == Decimal("-141.88")
    mark_invoice_paid(staff, invoice=first)
    refund_invoice(staff, invoice=first, amount="362.20")
    assert wallets.balance(partner, "CHF") == Decimal("0.00")
    # The first invoice's cashback was reversed, never the second's twice.
    assert all(done <= Decimal("141.88") for done in _reversed_per_entry().values())


def test_many_partial_refunds_never_reverse_more_than_credited(acme, acme_owner, operator_staff, partner):
    invoice = _cashback_invoice(acme, acme_owner, partner)
    staff = actor(operator_staff)
    mark_invoice_paid(staff, invoice=invoice)
    credits = {e.pk: e.amount for e in WalletEntry.objects.filter(kind=WalletEntryKind.CASHBACK)}
    refunded = Decimal(0)
    for amount in ["0.01", "0.01", "33.33", "0.07", "100.00", "0.03", "228.75"]:
        refund_invoice(staff, invoice=invoice, amount=amount)
        refunded += Decimal(amount)
        done = _reversed_per_entry()
        assert all(Decimal(0) <= done.get(pk, Decimal(0)) <= credited for pk, credited in credits.items())
        assert sum(done.values(), Decimal(0)) <= Decimal("141.88") * refunded / Decimal("362.20") + Decimal("0.01")
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.REFUNDED
    assert _reversed_per_entry() == credits
    assert wallets.balance(partner, "CHF") == Decimal("0.00")


def test_refund_without_cashback_touches_no_wallet(invoice, operator_staff, partner):
    staff = actor(operator_staff)
    mark_invoice_paid(staff, invoice=invoice)
    refund_invoice(staff, invoice=invoice, amount="10.00")
    refund_invoice(staff, invoice=invoice, amount="337.20")
    assert not WalletEntry.objects.exists() and not Wallet.objects.exists()
    refunds = AuditEntry.objects.filter(action="invoice.refunded")
    assert refunds.count() == 2 and all("cashback_reversed" not in (e.after or {}) for e in refunds)


@pytest.mark.parametrize("how", ["cancel", "refund"])
def test_voiding_an_order_invoice_cancels_the_order_and_ends_its_products(invoice, operator_staff, how):
    from partnerhub.billing.models import CustomerProduct, OrderStatus, ProductStatus

    staff = actor(operator_staff)
    order = invoice.order
    assert order is not None
    products = list(CustomerProduct.objects.filter(order_line__order=order))
    assert products and all(cp.status == ProductStatus.ACTIVE and cp.renews_on for cp in products)
    if how == "cancel":
        cancel_invoice(staff, invoice=invoice)
    else:
        mark_invoice_paid(staff, invoice=invoice)
        refund_invoice(staff, invoice=invoice, amount="100.00")  # partial: the order stands
        order.refresh_from_db()
        assert order.status == OrderStatus.PLACED
        assert not CustomerProduct.objects.filter(order_line__order=order, status=ProductStatus.CANCELLED).exists()
        refund_invoice(staff, invoice=invoice, amount="247.20")
    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED
    for cp in products:
        cp.refresh_from_db()
        assert cp.status == ProductStatus.CANCELLED and cp.cancelled_at is not None
        entry = AuditEntry.objects.get(action="customer_product.cancelled", object_id=str(cp.pk))
        assert entry.actor == operator_staff and entry.after is not None and entry.after["status"] == "cancelled"
    assert AuditEntry.objects.filter(action="order.cancelled", object_id=str(order.pk)).count() == 1
    invoice_entry = AuditEntry.objects.filter(action__in=["invoice.cancelled", "invoice.refunded"]).latest("id")
    assert invoice_entry.after is not None and invoice_entry.after["order_cancelled"] == str(order)
    # Ended products are never renewal-invoiced.
    from partnerhub.billing.services import invoice_renewals

    assert invoice_renewals(today=timezone.localdate() + timedelta(days=800)) == 0


@pytest.mark.parametrize("offset", [timedelta(days=1), -timedelta(days=365)])
def test_a_payment_in_the_future_or_before_the_issue_is_refused(invoice, operator_staff, offset):
    before = snapshot()
    with pytest.raises(ServiceError, match="payment time"):
        mark_invoice_paid(actor(operator_staff), invoice=invoice, paid_at=timezone.now() + offset)
    assert snapshot() == before
