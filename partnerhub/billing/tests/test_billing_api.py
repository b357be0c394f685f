"""The billing API: products, orders, invoices (PDF), operator invoice actions; problem+json errors."""

from __future__ import annotations

from decimal import Decimal

import pytest

from partnerhub.api.tests.helpers import assert_problem, send
from partnerhub.audit.models import AuditEntry
from partnerhub.billing.models import CustomerProduct, Invoice, InvoiceStatus, Order
from partnerhub.billing.services import place_order
from partnerhub.billing.tests.shop import actor, domain, hosting, licence, snapshot


@pytest.fixture
def order(acme, acme_owner) -> Order:
    return place_order(actor(acme_owner), customer=acme, lines=[(hosting(), 35, None)], currency="CHF")


def test_create_and_read_an_order(client_for, acme_owner, django_capture_on_commit_callbacks):
    web, name = hosting(), domain()
    client = client_for(acme_owner)
    with django_capture_on_commit_callbacks(execute=True):
        response = send(
            client,
            "POST",
            "/api/v1/orgs/acme/orders",
            {
                "currency": "EUR",
                "lines": [
                    {"product_id": web.pk, "quantity": 35},
                    {"product_id": name.pk, "quantity": 1, "term_months": 24},
                ],
            },
        )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["total"] == "228.25" and body["currency"] == "EUR"
    assert [line["total"] for line in body["lines"]] == ["201.25", "27.00"]
    assert body["lines"][0]["partner_discount"] == "0.00"
    fetched = client.get(f"/api/v1/orgs/acme/orders/{body['id']}").json()
    assert fetched == body
    listed = client.get("/api/v1/orgs/acme/orders?kind=domain").json()
    assert [o["id"] for o in listed["items"]] == [body["id"]]
    assert client.get("/api/v1/orgs/acme/orders?kind=licence").json()["items"] == []


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"currency": "CHF", "lines": []}, 422),
        ({"currency": "CHF", "lines": [{"product_id": 999999, "quantity": 1}]}, 422),
        ({"currency": "JPY", "lines": [{"product_id": "WEB", "quantity": 1}]}, 422),
        ({"currency": "CHF", "lines": [{"product_id": "WEB", "quantity": 0}]}, 422),
        ({"currency": "CHF", "lines": [{"product_id": "WEB", "quantity": 1}], "extra": 1}, 422),
    ],
)
def test_bad_orders_are_problems(client_for, acme_owner, body, status):
    web = hosting(prices={"CHF": "1.00"})
    for line in body["lines"]:
        if line["product_id"] == "WEB":
            line["product_id"] = web.pk
    before = snapshot()
    assert_problem(send(client_for(acme_owner), "POST", "/api/v1/orgs/acme/orders", body), status)
    assert snapshot() == before


@pytest.mark.parametrize(
    ("who", "status"), [("acme_member", 403), ("globex_owner", 404), ("outsider", 404), (None, 401)]
)
def test_order_refusals_change_nothing(request, client_for, who, status, acme):
    web = hosting()
    client = client_for(request.getfixturevalue(who) if who else None)
    before = snapshot()
    response = send(
        client,
        "POST",
        "/api/v1/orgs/acme/orders",
        {"currency": "CHF", "lines": [{"product_id": web.pk, "quantity": 1}]},
    )
    assert_problem(response, status)
    assert snapshot() == before


def test_products_list_get_patch(client_for, acme, acme_owner):
    place_order(actor(acme_owner), customer=acme, lines=[(licence(), 5, None)], currency="CHF")
    cp = CustomerProduct.objects.get()
    client = client_for(acme_owner)
    items = client.get("/api/v1/orgs/acme/products?kind=licence").json()["items"]
    assert [(i["id"], i["quantity"], i["status"]) for i in items] == [(cp.pk, 5, "active")]
    patched = send(client, "PATCH", f"/api/v1/orgs/acme/products/{cp.pk}", {"quantity": 7}).json()
    assert patched["quantity"] == 7
    cancelled = send(client, "PATCH", f"/api/v1/orgs/acme/products/{cp.pk}", {"status": "cancelled"}).json()
    assert cancelled["cancel_at_term_end"] is True
    assert_problem(send(client, "PATCH", f"/api/v1/orgs/acme/products/{cp.pk}", {"status": "cancelled"}), 409)
    resumed = send(client, "PATCH", f"/api/v1/orgs/acme/products/{cp.pk}", {"cancel_at_term_end": False}).json()
    assert resumed["cancel_at_term_end"] is False


def test_trial_conversion_via_api(client_for, acme, acme_owner):
    place_order(actor(acme_owner), customer=acme, lines=[(licence("m", trial_days=7), 2, None)], currency="CHF")
    cp = CustomerProduct.objects.get()
    client = client_for(acme_owner)
    response = send(client, "POST", f"/api/v1/orgs/acme/products/{cp.pk}/convert")
    assert response.status_code == 201 and response.json()["total"] == "8.00"
    assert_problem(send(client, "POST", f"/api/v1/orgs/acme/products/{cp.pk}/convert"), 409)


def test_invoices_and_pdf(client_for, acme_owner, order):
    invoice = Invoice.objects.get(order=order)
    client = client_for(acme_owner)
    items = client.get("/api/v1/orgs/acme/invoices?status=open").json()["items"]
    assert [(i["number"], i["total"], i["status"]) for i in items] == [("CHF-000001", "347.20", "open")]
    assert client.get("/api/v1/orgs/acme/invoices?status=paid").json()["items"] == []
    response = client.get(f"/api/v1/orgs/acme/invoices/{invoice.pk}/pdf")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf" and response.content.startswith(b"%PDF")


def test_foreign_ids_are_404_problems(client_for, globex_owner, order):
    invoice = Invoice.objects.get(order=order)
    cp = CustomerProduct.objects.get()
    client = client_for(globex_owner)
    for url in [
        f"/api/v1/orgs/globex/orders/{order.pk}",
        f"/api/v1/orgs/globex/invoices/{invoice.pk}",
        f"/api/v1/orgs/globex/invoices/{invoice.pk}/pdf",
        f"/api/v1/orgs/globex/products/{cp.pk}",
    ]:
        assert_problem(client.get(url), 404)
    before = snapshot()
    assert_problem(send(client, "PATCH", f"/api/v1/orgs/globex/products/{cp.pk}", {"status": "cancelled"}), 404)
    assert snapshot() == before


def test_operator_invoice_actions(client_for, operator_staff, acme_owner, order):
    invoice = Invoice.objects.get(order=order)
    client = client_for(operator_staff)
    base = f"/api/v1/orgs/operator/billing/invoices/{invoice.pk}"
    assert [i["id"] for i in client.get("/api/v1/orgs/operator/billing/invoices?org=acme").json()["items"]] == [
        invoice.pk
    ]
    assert send(client, "POST", f"{base}/pay", {}).json()["status"] == "paid"
    assert_problem(send(client, "POST", f"{base}/pay", {}), 409)
    assert_problem(send(client, "POST", f"{base}/cancel"), 409)
    body = send(client, "POST", f"{base}/refund", {"amount": "47.20"}).json()
    assert (body["status"], body["refunded_amount"]) == ("paid", "47.20")
    assert_problem(send(client, "POST", f"{base}/refund", {"amount": "300.01"}), 409)
    assert send(client, "POST", f"{base}/refund", {"amount": "300.00"}).json()["status"] == "refunded"
    invoice.refresh_from_db()
    assert (invoice.status, invoice.refunded_amount) == (InvoiceStatus.REFUNDED, Decimal("347.20"))
    # Customers cannot reach the operator's actions.
    assert_problem(send(client_for(acme_owner), "POST", f"{base}/cancel"), 404)


@pytest.mark.parametrize(
    "paid_at",
    [
        "0001-01-01T00:00:00+05:00",  # out of range: was an OverflowError (500)
        "2026-03-01T10:00:00",  # no time zone
        "2999-01-01T00:00:00Z",  # in the future
        "2000-01-01T00:00:00Z",  # before the invoice was issued
    ],
)
def test_a_payment_time_out_of_bounds_answers_422_and_changes_nothing(client_for, operator_staff, order, paid_at):
    invoice = Invoice.objects.get(order=order)
    client = client_for(operator_staff)
    before = snapshot()
    response = send(client, "POST", f"/api/v1/orgs/operator/billing/invoices/{invoice.pk}/pay", {"paid_at": paid_at})
    assert_problem(response, 422)
    assert snapshot() == before


def test_a_payment_time_between_issue_and_now_is_kept(client_for, operator_staff, order):
    from datetime import timedelta

    from django.utils import timezone

    invoice = Invoice.objects.get(order=order)
    Invoice.objects.filter(pk=invoice.pk).update(issued_at=timezone.now() - timedelta(days=3))
    paid_at = (timezone.now() - timedelta(days=1)).replace(microsecond=0)
    client = client_for(operator_staff)
    response = send(
        client, "POST", f"/api/v1/orgs/operator/billing/invoices/{invoice.pk}/pay", {"paid_at": paid_at.isoformat()}
    )
    assert response.status_code == 200, response.content
    invoice.refresh_from_db()
    assert invoice.paid_at == paid_at


@pytest.mark.parametrize("product_id", [2**63, 10**30, 0, -1])
def test_an_order_for_an_impossible_product_id_answers_422(client_for, acme_owner, acme, product_id):
    client = client_for(acme_owner)
    before = snapshot()
    body = {"currency": "CHF", "lines": [{"product_id": product_id, "quantity": 1}]}
    assert_problem(send(client, "POST", "/api/v1/orgs/acme/orders", body), 422)
    assert snapshot() == before


def test_ids_beyond_bigint_in_paths_answer_404(client_for, acme_owner, operator_staff):
    huge = 2**63
    client = client_for(acme_owner)
    for path in ["products", "orders", "invoices", "exports"]:
        assert_problem(client.get(f"/api/v1/orgs/acme/{path}/{huge}"), 404)
    staff = client_for(operator_staff)
    for action in ["pay", "refund", "cancel"]:
        body = {"amount": "1.00"} if action == "refund" else {}
        assert_problem(send(staff, "POST", f"/api/v1/orgs/operator/billing/invoices/{huge}/{action}", body), 404)
    assert_problem(send(staff, "DELETE", f"/api/v1/orgs/operator/program/volume-tiers/{huge}"), 404)


def _product(acme, acme_owner) -> CustomerProduct:
    place_order(actor(acme_owner), customer=acme, lines=[(licence(), 5, None)], currency="CHF")
    return CustomerProduct.objects.get()


def test_operator_product_actions(client_for, operator_staff, acme, acme_owner):
    cp = _product(acme, acme_owner)
    client = client_for(operator_staff)
    listed = client.get("/api/v1/billing/customer-products?org=acme&status=active").json()["items"]
    assert [(p["id"], p["org"], p["status"]) for p in listed] == [(cp.pk, "acme", "active")]
    assert client.get("/api/v1/billing/customer-products?org=globex").json()["items"] == []
    assert client.get("/api/v1/billing/customer-products?status=suspended").json()["items"] == []
    base = f"/api/v1/billing/customer-products/{cp.pk}"
    audit = AuditEntry.objects.count()
    response = send(client, "POST", f"{base}/suspend")
    assert response.status_code == 200 and response.json()["status"] == "suspended"
    assert_problem(send(client, "POST", f"{base}/suspend"), 409)
    assert send(client, "POST", f"{base}/reactivate").json()["status"] == "active"
    assert_problem(send(client, "POST", f"{base}/reactivate"), 409)
    assert send(client, "POST", f"{base}/cancel").json()["status"] == "cancelled"
    before = snapshot()
    for action in ["suspend", "reactivate", "cancel"]:
        assert_problem(send(client, "POST", f"{base}/{action}"), 409)
    assert snapshot() == before
    codes = list(AuditEntry.objects.order_by("id").values_list("action", flat=True))[audit:]
    assert codes == ["customer_product.suspended", "customer_product.reactivated", "customer_product.cancelled"]


@pytest.mark.parametrize("who", ["acme_owner", "outsider", "globex_owner"])
def test_operator_product_api_refuses_others(request, client_for, acme, acme_owner, who):
    cp = _product(acme, acme_owner)
    client = client_for(request.getfixturevalue(who))
    before = snapshot()
    assert_problem(client.get("/api/v1/billing/customer-products"), 403)
    for action in ["suspend", "reactivate", "cancel"]:
        assert_problem(send(client, "POST", f"/api/v1/billing/customer-products/{cp.pk}/{action}"), 403)
    assert snapshot() == before


def test_operator_product_api_missing_ids_are_404(client_for, operator_staff, acme, acme_owner):
    cp = _product(acme, acme_owner)
    client = client_for(operator_staff)
    before = snapshot()
    for product_id in [cp.pk + 1000, 2**63]:
        for action in ["suspend", "reactivate", "cancel"]:
            assert_problem(send(client, "POST", f"/api/v1/billing/customer-products/{product_id}/{action}"), 404)
    assert snapshot() == before
