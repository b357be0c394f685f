"""My customers and the customer detail in the browser: access, columns, constant queries, 404s."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from conftest import add_member, make_user
from partnerhub.access.perms import Perm, Role
from partnerhub.audit.models import AuditEntry
from partnerhub.billing.models import Invoice
from partnerhub.customers import queries
from partnerhub.customers.tests import factories as f
from partnerhub.partnerships.models import CustomValue


def list_url(partner, **query) -> str:
    url = reverse("customer_list", args=[partner.slug])
    return url + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def test_the_list_shows_managed_customers_with_their_columns(reseller, reseller_staff, client_for):
    region = f.prop(reseller, "Region", "choice", choices=["EU", "US"])
    acme = f.customer("Acme")
    f.holding(acme, f.product(), quantity=4)
    f.manage(reseller, acme, scopes=[])
    f.value(region, acme, text="EU")
    response = client_for(reseller_staff).get(list_url(reseller))
    assert response.status_code == 200
    body = response.content.decode()
    assert "Acme" in body and "Region" in body and ">EU<" in body
    assert "not accessible" in body  # the grant has no billing.view
    assert reverse("customer_detail", args=[reseller.slug, acme.pk]) in body


def test_the_empty_list_says_what_to_do(reseller, reseller_owner, client_for):
    body = client_for(reseller_owner).get(list_url(reseller)).content.decode()
    assert "You manage no customers yet." in body
    assert reverse("client_new", args=[reseller.slug]) in body


def test_filters_that_match_nothing_say_so(reseller, reseller_owner, client_for):
    f.manage(reseller, f.customer("Acme"))
    body = client_for(reseller_owner).get(list_url(reseller, q="nothing-like-this")).content.decode()
    assert "No customers match these filters." in body


def test_htmx_requests_get_only_the_rows(reseller, reseller_owner, client_for):
    f.manage(reseller, f.customer("Acme"))
    response = client_for(reseller_owner).get(list_url(reseller), HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert body.lstrip().startswith('<div id="customer-rows">')
    assert "Acme" in body


def test_paging_through_the_page_with_the_next_link(reseller, reseller_owner, client_for, monkeypatch):
    monkeypatch.setattr(queries, "PAGE_SIZE", 2)
    for i in range(5):
        f.manage(reseller, f.customer(f"C{i}"))
    client = client_for(reseller_owner)
    seen, url = [], list_url(reseller, sort="-name")
    for _ in range(5):
        response = client.get(url)
        page = [p.customer.name for p in response.context["page"].rows]
        seen += page
        cursor = response.context["page"].next_cursor
        if not cursor:
            break
        url = list_url(reseller, sort="-name", cursor=cursor)
    assert seen == ["C4", "C3", "C2", "C1", "C0"]


def test_a_broken_cursor_shows_the_first_page(reseller, reseller_owner, client_for):
    f.manage(reseller, f.customer("Acme"))
    response = client_for(reseller_owner).get(list_url(reseller, cursor="garbage"))
    assert response.status_code == 200
    assert "no longer valid" in response.content.decode()


def test_per_row_actions_link_session_detail_and_end(reseller, reseller_owner, client_for):
    acme = f.customer("Acme")
    f.manage(reseller, acme, scopes=[Perm.BILLING_VIEW.value, Perm.BILLING_ORDER.value])
    body = client_for(reseller_owner).get(list_url(reseller)).content.decode()
    session_url = reverse("management_session_start", args=[reseller.slug, acme.pk])
    # Managing and ordering for the client both happen in a management session, in a new tab;
    # ordering lands on the customer's order page.
    assert f'href="{session_url}" target="_blank" rel="noopener"' in body
    assert f'href="{session_url}?next=/o/acme/orders/new/" target="_blank" rel="noopener"' in body
    assert reverse("customer_detail", args=[reseller.slug, acme.pk]) in body
    partnership = acme.partner_partnerships.get()
    assert reverse("partner_end", args=[reseller.slug, partnership.pk]) in body


@pytest.mark.parametrize(
    ("mode", "scopes"), [("full", [Perm.BILLING_VIEW.value]), ("restricted", [Perm.BILLING_ORDER.value])]
)
def test_order_for_client_only_where_the_grant_lets_the_partner_order(
    reseller, reseller_owner, client_for, mode, scopes
):
    acme = f.customer("Acme")
    f.manage(reseller, acme, mode=mode, scopes=scopes)
    body = client_for(reseller_owner).get(list_url(reseller)).content.decode()
    assert "?next=/o/acme/orders/new/" not in body


def _populate(partner, count: int) -> None:
    props = [
        f.prop(partner, "Region", "choice", choices=["EU", "US"]),
        f.prop(partner, "Seats", "number"),
    ]
    item = f.product()
    for i in range(count):
        org = f.customer(f"Customer {i:03d}")
        f.holding(org, item, quantity=i + 1)
        f.manage(partner, org, scopes=f.BILLING if i % 2 else [])
        AuditEntry.objects.create(org=org, action="x.done")
        CustomValue.objects.create(prop=props[0], customer=org, text="EU" if i % 3 else "US")
        CustomValue.objects.create(prop=props[1], customer=org, number=Decimal(i % 7))


@pytest.mark.parametrize("sort", ["name", "-since", "activity", "p:seats", "-p:region"])
def test_the_page_runs_the_same_number_of_queries_for_10_and_50_rows(
    reseller, reseller_owner, client_for, monkeypatch, sort
):
    _populate(reseller, 120)
    client = client_for(reseller_owner)
    counts = {}
    for size in (10, 50):
        monkeypatch.setattr(queries, "PAGE_SIZE", size)
        with CaptureQueriesContext(connection) as captured:
            response = client.get(list_url(reseller, sort=sort, q="Customer", p_region="EU"))
        assert response.status_code == 200
        assert len(response.context["rows"]) == size
        counts[size] = len(captured.captured_queries)
    assert counts[10] == counts[50]


def test_a_property_sort_reaching_customers_without_a_value_adds_one_query_whatever_the_size(
    reseller, reseller_owner, client_for, monkeypatch
):
    """Customers without a value come after the values (one more query, for any page size)."""
    _populate(reseller, 30)
    CustomValue.objects.filter(prop__key="seats", customer__name__gte="Customer 020").delete()
    client = client_for(reseller_owner)
    counts = {}
    for size in (5, 25):
        monkeypatch.setattr(queries, "PAGE_SIZE", size)
        with CaptureQueriesContext(connection) as captured:
            response = client.get(list_url(reseller, sort="p:seats"))
        rows = response.context["rows"]
        assert len(rows) == size
        counts[size] = len(captured.captured_queries)
        if size == 25:
            assert [row.cells[1].value for row in rows][20:] == [None] * 5
    assert counts[25] == counts[5] + 1


def test_staff_without_the_permission_are_refused(reseller, client_for):
    plain = make_user("plain@reseller.test")
    add_member(plain, reseller, Role.MEMBER)
    assert client_for(plain).get(list_url(reseller)).status_code == 403


def test_outsiders_get_404(reseller, outsider, client_for):
    assert client_for(outsider).get(list_url(reseller)).status_code == 404


# --- detail ------------------------------------------------------------------------------------------


def detail_url(partner, org) -> str:
    return reverse("customer_detail", args=[partner.slug, org.pk])


def test_the_detail_shows_data_values_grant_members_and_billing(reseller, reseller_staff, client_for):
    acme = f.customer("Acme", billing_email="books@acme.example", country="CH")
    add_member(make_user("boss@acme.example", "Berta Boss"), acme, Role.OWNER)
    contract = f.prop(reseller, "Contract", "text")
    f.value(contract, acme, text="Gold")
    f.manage(reseller, acme, scopes=f.BILLING)
    invoice = Invoice.objects.create(
        org=acme, number=7, currency="CHF", due_on=date(2026, 1, 31), subtotal=Decimal("10"), total=Decimal("10")
    )
    body = client_for(reseller_staff).get(detail_url(reseller, acme)).content.decode()
    assert str(invoice.display_number) in body and "10.00" in body
    assert "books@acme.example" in body and "Berta Boss" in body and 'value="Gold"' in body
    assert str(Perm.BILLING_VIEW.label) in body
    assert "not included in your access" not in body


def test_the_detail_marks_what_a_restricted_grant_leaves_out(reseller, reseller_staff, client_for):
    acme = f.customer("Acme")
    granted = f.holding(acme, f.product("Granted hosting"))
    other = f.holding(acme, f.product("Secret mail"))
    f.manage(reseller, acme, mode="restricted", products=[granted], scopes=[])
    body = client_for(reseller_staff).get(detail_url(reseller, acme)).content.decode()
    assert "Granted hosting" in body
    assert "Secret mail" not in body
    assert f'data-product="{other.pk}" class="muted"' in body and "Not accessible" in body
    assert "Orders and invoices are not included in your access." in body


@pytest.mark.parametrize("state", ["foreign", "ended", "revoked", "unrelated", "missing"])
def test_customers_the_user_may_not_act_on_answer_404(reseller, reseller_owner, other_partner, client_for, state):
    org = f.customer("Target")
    if state == "foreign":
        f.manage(other_partner, org)
    elif state == "ended":
        f.manage(reseller, org, status="ended")
    elif state == "revoked":
        f.manage(reseller, org, revoked=True)
    client = client_for(reseller_owner)
    customer_id = org.pk if state != "missing" else org.pk + 1000
    assert client.get(reverse("customer_detail", args=[reseller.slug, customer_id])).status_code == 404
    post = client.post(reverse("customer_values", args=[reseller.slug, customer_id]), {})
    assert post.status_code == 404


def test_assigned_only_staff_get_404_for_unassigned_customers(reseller, client_for):
    org = f.customer("Unassigned")
    f.manage(reseller, org)
    limited = make_user("limited@reseller.test")
    membership = add_member(limited, reseller, Role.MEMBER, [str(Perm.PARTNER_CUSTOMERS_ADMINISTER)])
    membership.assigned_customers_only = True
    membership.save(update_fields=["assigned_customers_only"])
    assert client_for(limited).get(detail_url(reseller, org)).status_code == 404


def test_values_are_saved_inline_and_errors_change_nothing(reseller, reseller_staff, client_for):
    acme = f.customer("Acme")
    f.manage(reseller, acme)
    seats = f.prop(reseller, "Seats", "number")
    region = f.prop(reseller, "Region", "choice", choices=["EU", "US"])
    client = client_for(reseller_staff)
    url = reverse("customer_values", args=[reseller.slug, acme.pk])
    bad = client.post(url, {"v-seats": "twelve", "v-region": "EU"})
    assert bad.status_code == 400
    assert "Enter a number" in bad.content.decode()
    assert not CustomValue.objects.filter(customer=acme).exists()
    good = client.post(url, {"v-seats": "1'250,5", "v-region": "EU"})
    assert good.status_code == 302
    assert CustomValue.objects.get(prop=seats, customer=acme).number == Decimal("1250.5")
    assert CustomValue.objects.get(prop=region, customer=acme).text == "EU"
    entry = AuditEntry.objects.get(org=reseller, action="custom_value.changed")
    assert entry.after == {"seats": "1250.5", "region": "EU"}
