"""The billing pages: products, orders (new order in two steps), invoices (print, PDF), operator desk."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.core import mail

from partnerhub.audit.models import AuditEntry
from partnerhub.billing import pdf
from partnerhub.billing.models import CustomerProduct, Invoice, InvoiceStatus, Order, ProductStatus
from partnerhub.billing.services import place_order
from partnerhub.billing.tests.shop import actor, domain, export_links, hosting, licence, snapshot


@pytest.fixture
def order(acme, acme_owner) -> Order:
    return place_order(
        actor(acme_owner), customer=acme, lines=[(hosting(), 35, None), (domain(), 1, None)], currency="CHF"
    )


def test_pages_show_products_orders_invoices(client_for, acme_owner, order):
    client = client_for(acme_owner)
    invoice = Invoice.objects.get(order=order)
    for url, expected in [
        ("/o/acme/products/", "Web hosting"),
        ("/o/acme/products/?kind=domain", "Domain ch"),
        ("/o/acme/orders/", str(order)),
        (f"/o/acme/orders/{order.pk}/", "347.20"),
        ("/o/acme/invoices/", invoice.display_number),
        (f"/o/acme/invoices/{invoice.pk}/", "362.20"),
        (f"/o/acme/invoices/{invoice.pk}/print/", invoice.display_number),
    ]:
        response = client.get(url)
        assert response.status_code == 200, url
        assert expected in response.content.decode(), url


def test_filters_and_empty_states(client_for, acme_owner, order):
    client = client_for(acme_owner)
    page = client.get("/o/acme/products/?kind=licence").content.decode()
    assert "No products match these filters." in page and "Web hosting" not in page
    assert str(order) not in client.get("/o/acme/orders/?kind=licence").content.decode()
    assert str(order) in client.get("/o/acme/orders/?kind=domain").content.decode()
    assert "No invoices match" in client.get("/o/acme/invoices/?status=paid").content.decode()
    assert "start date" in client.get("/o/acme/orders/?date_from=2030-01-02&date_to=2030-01-01").content.decode()


def test_keyset_pagination(client_for, acme, acme_owner):
    web = hosting()
    for _ in range(31):
        place_order(actor(acme_owner), customer=acme, lines=[(web, 1, None)], currency="CHF")
    client = client_for(acme_owner)
    first = client.get("/o/acme/orders/").content.decode()
    newest, oldest = Order.objects.order_by("-id")[0], Order.objects.order_by("id")[0]
    assert f'data-order="{newest.pk}"' in first and f'data-order="{oldest.pk}"' not in first
    assert "before=" in first
    second = client.get(f"/o/acme/orders/?before={Order.objects.order_by('-id')[29].pk}").content.decode()
    assert f'data-order="{oldest.pk}"' in second


def test_htmx_gets_only_the_rows(client_for, acme_owner, order):
    response = client_for(acme_owner).get("/o/acme/orders/", headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert "<html" not in response.content.decode() and 'id="rows"' in response.content.decode()


def test_pdf_download(client_for, acme_owner, order):
    invoice = Invoice.objects.get(order=order)
    response = client_for(acme_owner).get(f"/o/acme/invoices/{invoice.pk}/pdf/")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf" and response.content.startswith(b"%PDF")


def test_pdf_without_font_answers_an_error_page(client_for, acme_owner, order, monkeypatch, tmp_path):
    monkeypatch.setattr(pdf, "FONT_BOLD", tmp_path / "gone.ttf")
    invoice = Invoice.objects.get(order=order)
    response = client_for(acme_owner).get(f"/o/acme/invoices/{invoice.pk}/pdf/")
    assert response.status_code == 503
    assert "font" in response.content.decode()


def test_new_order_in_two_steps(client_for, acme, acme_owner, django_capture_on_commit_callbacks):
    web = hosting()
    client = client_for(acme_owner)
    page = client.get("/o/acme/orders/new/?currency=EUR").content.decode()
    assert "5.75" in page
    data = {"currency": "EUR", f"qty_{web.pk}": "35"}
    preview = client.post("/o/acme/orders/new/", data)
    assert preview.status_code == 200 and "201.25" in preview.content.decode()
    assert not Order.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        placed = client.post("/o/acme/orders/new/", {**data, "confirm": "1"})
    order = Order.objects.get()
    assert placed.status_code == 302 and placed["Location"] == f"/o/acme/orders/{order.pk}/"
    assert order.total == Decimal("201.25") and order.currency == "EUR"
    assert len(mail.outbox) == 1


def test_new_order_refusal_shows_a_form_error(client_for, acme_owner):
    web = hosting(prices={"CHF": "1.00"})
    response = client_for(acme_owner).post("/o/acme/orders/new/", {"currency": "CHF", f"qty_{web.pk}": "0"})
    assert "at least one product" in response.content.decode()
    assert not Order.objects.exists()


def test_product_actions(client_for, acme, acme_owner):
    place_order(actor(acme_owner), customer=acme, lines=[(licence(), 5, None)], currency="CHF")
    cp = CustomerProduct.objects.get()
    client = client_for(acme_owner)
    assert client.post(f"/o/acme/products/{cp.pk}/quantity/", {"quantity": "9"}).status_code == 302
    assert client.post(f"/o/acme/products/{cp.pk}/cancel/").status_code == 302
    cp.refresh_from_db()
    assert cp.quantity == 9 and cp.cancel_at_term_end
    client.post(f"/o/acme/products/{cp.pk}/resume/")
    cp.refresh_from_db()
    assert not cp.cancel_at_term_end


def test_trial_buy_button(client_for, acme, acme_owner):
    place_order(actor(acme_owner), customer=acme, lines=[(licence("m", trial_days=7), 2, None)], currency="CHF")
    cp = CustomerProduct.objects.get()
    client = client_for(acme_owner)
    assert "Buy" in client.get("/o/acme/products/").content.decode()
    client.post(f"/o/acme/products/{cp.pk}/convert/")
    cp.refresh_from_db()
    assert cp.status == ProductStatus.ACTIVE


@pytest.mark.parametrize(
    ("who", "url", "status"),
    [
        ("acme_member", "/o/acme/products/", 200),
        ("acme_member", "/o/acme/orders/", 403),
        ("acme_member", "/o/acme/invoices/", 403),
        ("acme_member", "/o/acme/orders/new/", 403),
        ("globex_owner", "/o/acme/products/", 404),
        ("globex_owner", "/o/acme/orders/", 404),
        ("outsider", "/o/acme/invoices/", 404),
        ("acme_owner", "/o/operator/billing/invoices/", 404),
        ("operator_staff", "/o/operator/billing/invoices/", 200),
        ("operator_staff", "/o/acme/invoices/", 404),
    ],
)
def test_page_access(request, client_for, order, operator_staff, who, url, status):
    assert client_for(request.getfixturevalue(who)).get(url).status_code == status


@pytest.mark.parametrize("who", ["acme_member", "globex_owner"])
def test_refused_posts_change_nothing(request, client_for, acme, acme_owner, who):
    web = hosting()
    place_order(actor(acme_owner), customer=acme, lines=[(licence(), 5, None)], currency="CHF")
    cp = CustomerProduct.objects.get()
    client = client_for(request.getfixturevalue(who))
    before = snapshot()
    for url, data in [
        (f"/o/acme/products/{cp.pk}/quantity/", {"quantity": "1"}),
        (f"/o/acme/products/{cp.pk}/cancel/", {}),
        (f"/o/acme/products/{cp.pk}/convert/", {}),
        ("/o/acme/orders/new/", {"currency": "CHF", f"qty_{web.pk}": "1", "confirm": "1"}),
    ]:
        assert client.post(url, data).status_code in (403, 404)
    assert snapshot() == before


def test_foreign_ids_are_404(client_for, globex, globex_owner, acme_owner, order):
    invoice = Invoice.objects.get(order=order)
    cp = CustomerProduct.objects.filter(org=order.org).first()
    assert cp is not None
    client = client_for(globex_owner)
    for url in [
        f"/o/globex/orders/{order.pk}/",
        f"/o/globex/invoices/{invoice.pk}/",
        f"/o/globex/invoices/{invoice.pk}/print/",
        f"/o/globex/invoices/{invoice.pk}/pdf/",
    ]:
        assert client.get(url).status_code == 404, url
    assert client.post(f"/o/globex/products/{cp.pk}/cancel/").status_code == 404


def test_operator_desk_marks_paid_refunds_and_cancels(client_for, operator_staff, order, acme, acme_owner):
    invoice = Invoice.objects.get(order=order)
    client = client_for(operator_staff)
    page = client.get("/o/operator/billing/invoices/?org=acme").content.decode()
    assert invoice.display_number in page and "Mark paid" in page
    client.post(f"/o/operator/billing/invoices/{invoice.pk}/pay/")
    client.post(f"/o/operator/billing/invoices/{invoice.pk}/refund/", {"amount": "77.20"})
    invoice.refresh_from_db()
    assert (invoice.status, invoice.refunded_amount) == (InvoiceStatus.PAID, Decimal("77.20"))
    response = client.post(f"/o/operator/billing/invoices/{invoice.pk}/cancel/", follow=True)
    assert "only open or overdue" in response.content.decode()
    second = place_order(actor(acme_owner), customer=acme, lines=[(hosting("x"), 1, None)], currency="CHF")
    other = Invoice.objects.get(order=second)
    client.post(f"/o/operator/billing/invoices/{other.pk}/cancel/")
    other.refresh_from_db()
    assert other.status == InvoiceStatus.CANCELLED
    assert client.get(f"/o/operator/billing/invoices/{other.pk}/pdf/").content.startswith(b"%PDF")


def test_sidebar_links(client_for, acme_owner, acme_member, operator_staff, order):
    owner_page = client_for(acme_owner).get("/o/acme/").content.decode()
    assert "/o/acme/products/" in owner_page and "/o/acme/invoices/" in owner_page
    member_page = client_for(acme_member).get("/o/acme/").content.decode()
    assert "/o/acme/products/" in member_page and "/o/acme/invoices/" not in member_page
    assert "/o/operator/billing/invoices/" in client_for(operator_staff).get("/o/operator/").content.decode()


@pytest.mark.parametrize(
    ("who", "url", "exports", "filters"),
    [
        ("acme_owner", "/o/acme/products/", ["/o/acme/products/export/"], {"status": "active", "kind": "service"}),
        (
            "acme_owner",
            "/o/acme/orders/",
            ["/o/acme/orders/export/", "/o/acme/orders/lines/export/"],
            {"kind": "domain", "status": "placed", "date_from": "2026-01-01", "date_to": "2030-12-31"},
        ),
        (
            "acme_owner",
            "/o/acme/invoices/",
            ["/o/acme/invoices/export/"],
            {"status": "open", "date_from": "2026-01-01", "date_to": "2030-12-31"},
        ),
        (
            "operator_staff",
            "/o/operator/billing/invoices/",
            ["/o/operator/billing/invoices/export/"],
            {"org": "acme", "status": "open", "date_from": "2026-01-01"},
        ),
    ],
)
def test_list_pages_link_their_exports_with_the_current_filters(request, client_for, order, who, url, exports, filters):
    client = client_for(request.getfixturevalue(who))
    for query, htmx in (({}, False), ({**filters, "before": "999999"}, False), (filters, True)):
        headers = {"HX-Request": "true"} if htmx else {}
        response = client.get(url, query, headers=headers)
        assert response.status_code == 200
        links = export_links(response.content.decode())
        assert sorted(links) == sorted(exports), query
        for path in exports:
            formats = [link.pop("format", [""])[0] for link in links[path]]
            assert formats == ["csv", "xlsx", ""]
            # Every link carries the list's filters, never its page position.
            expected = {name: [value] for name, value in query.items() if name != "before"}
            assert all(link == expected for link in links[path]), (path, links[path])
            assert client.get(path, {**query, "format": "csv"}).status_code == 200


def _operator_product(acme: Any, acme_owner: Any) -> CustomerProduct:
    place_order(actor(acme_owner), customer=acme, lines=[(licence(), 5, None)], currency="CHF")
    return CustomerProduct.objects.get()


def test_operator_product_desk_suspends_reactivates_and_cancels(client_for, operator_staff, acme, acme_owner):
    cp = _operator_product(acme, acme_owner)
    client = client_for(operator_staff)
    page = client.get("/o/operator/billing/products/?org=acme&status=active").content.decode()
    assert f'data-product="{cp.pk}"' in page and "Suspend" in page and "Cancel now" in page
    assert f'data-product="{cp.pk}"' not in client.get("/o/operator/billing/products/?org=globex").content.decode()
    assert "No products match" in client.get("/o/operator/billing/products/?kind=domain").content.decode()
    audit = AuditEntry.objects.count()
    for action, status, code in [
        ("suspend", ProductStatus.SUSPENDED, "customer_product.suspended"),
        ("reactivate", ProductStatus.ACTIVE, "customer_product.reactivated"),
        ("cancel", ProductStatus.CANCELLED, "customer_product.cancelled"),
    ]:
        response = client.post(f"/o/operator/billing/products/{cp.pk}/{action}/")
        assert response.status_code == 302 and response["Location"] == "/o/operator/billing/products/"
        cp.refresh_from_db()
        assert cp.status == status
        assert AuditEntry.objects.filter(action=code).order_by("-id").first() is not None
    assert AuditEntry.objects.count() == audit + 3
    page = client.get("/o/operator/billing/products/").content.decode()
    assert f"/billing/products/{cp.pk}/cancel/" not in page


def test_operator_product_desk_shows_illegal_transitions_as_errors(client_for, operator_staff, acme, acme_owner):
    cp = _operator_product(acme, acme_owner)
    client = client_for(operator_staff)
    before = snapshot()
    response = client.post(f"/o/operator/billing/products/{cp.pk}/reactivate/", follow=True)
    assert "Only a suspended product can be reactivated." in response.content.decode()
    client.post(f"/o/operator/billing/products/{cp.pk}/cancel/")
    after_cancel = snapshot()
    response = client.post(f"/o/operator/billing/products/{cp.pk}/suspend/", follow=True)
    assert "Only active or trial products can be suspended." in response.content.decode()
    response = client.post(f"/o/operator/billing/products/{cp.pk}/cancel/", follow=True)
    assert "already cancelled" in response.content.decode()
    assert snapshot() == after_cancel and after_cancel["audit"] == before["audit"] + 1


@pytest.mark.parametrize(("who", "status"), [("acme_owner", 404), ("outsider", 404), ("globex_owner", 404)])
def test_operator_product_desk_refuses_others(request, client_for, acme, acme_owner, who, status):
    cp = _operator_product(acme, acme_owner)
    client = client_for(request.getfixturevalue(who))
    before = snapshot()
    assert client.get("/o/operator/billing/products/").status_code == status
    for action in ["suspend", "reactivate", "cancel"]:
        assert client.post(f"/o/operator/billing/products/{cp.pk}/{action}/").status_code in (403, 404)
    assert snapshot() == before


def test_operator_product_actions_need_post_and_existing_ids(client_for, operator_staff, acme, acme_owner):
    cp = _operator_product(acme, acme_owner)
    client = client_for(operator_staff)
    before = snapshot()
    assert client.get(f"/o/operator/billing/products/{cp.pk}/suspend/").status_code == 405
    for action in ["suspend", "reactivate", "cancel"]:
        assert client.post(f"/o/operator/billing/products/{cp.pk + 1000}/{action}/").status_code == 404
    assert snapshot() == before


def test_operator_products_sidebar_link(client_for, acme_owner, operator_staff):
    assert "/o/operator/billing/products/" in client_for(operator_staff).get("/o/operator/").content.decode()
    assert "/billing/products/" not in client_for(acme_owner).get("/o/acme/").content.decode()
