"""My customers as a query: who appears, search, filters, sorts and keyset paging across ties."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from conftest import add_member, make_user
from partnerhub.access.perms import Perm, Role
from partnerhub.audit.models import AuditEntry
from partnerhub.billing.models import Invoice
from partnerhub.customers import queries
from partnerhub.customers.queries import Filters, PropFilter, Sort
from partnerhub.customers.tests import factories as f
from partnerhub.orgs.models import Membership
from partnerhub.partnerships.models import StaffAssignment


def names(user, partner, **kwargs) -> list[str]:
    return [p.customer.name for p in queries.customer_rows(user, partner, **kwargs)]


def walk(user, partner, sort: Sort, size: int, filters: Filters | None = None) -> list[str]:
    rows = queries.customer_rows(user, partner, sort=sort, filters=filters)
    seen, cursor = [], None
    for _ in range(100):
        page = queries.page_of(rows, sort, cursor=cursor, size=size)
        seen += [p.customer.name for p in page.rows]
        if page.next_cursor is None:
            return seen
        cursor = page.next_cursor
    raise AssertionError("paging does not end")


def test_only_active_partnerships_with_a_grant_in_force_appear(reseller, reseller_owner, other_partner):
    f.manage(reseller, f.customer("Active"))
    f.manage(reseller, f.customer("Pending"), status="pending")
    f.manage(reseller, f.customer("Ended"), status="ended")
    f.manage(reseller, f.customer("Revoked"), revoked=True)
    f.manage(reseller, f.customer("Expired"), days=-1)
    f.manage(other_partner, f.customer("Foreign"))
    # An affiliate referral is no partnership at all: a customer without one never appears.
    f.customer("Referred")
    assert names(reseller_owner, reseller) == ["Active"]


def test_staff_limited_to_assigned_customers_see_only_theirs(reseller, reseller_owner):
    mine, theirs = f.customer("Mine"), f.customer("Theirs")
    f.manage(reseller, mine)
    f.manage(reseller, theirs)
    limited = make_user("limited@reseller.test")
    membership = add_member(limited, reseller, Role.MEMBER, [str(Perm.PARTNER_CUSTOMERS_ADMINISTER)])
    Membership.objects.filter(pk=membership.pk).update(assigned_customers_only=True)
    StaffAssignment.objects.create(membership=membership, customer=mine)
    assert names(limited, reseller) == ["Mine"]
    assert names(reseller_owner, reseller) == ["Mine", "Theirs"]


def test_a_member_without_the_permission_sees_nothing(reseller):
    plain = make_user("plain@reseller.test")
    add_member(plain, reseller, Role.MEMBER)
    f.manage(reseller, f.customer("Acme"))
    assert names(plain, reseller) == []


def test_search_by_name_slug_billing_email_and_owner_email(reseller, reseller_owner):
    a = f.customer("Alpha Bau", "alpha", billing_email="books@alpha.example")
    b = f.customer("Beta", "beta-gmbh")
    c = f.customer("Gamma", "gamma")
    for org in (a, b, c):
        f.manage(reseller, org)
    add_member(make_user("chef@gamma.example"), c, Role.OWNER)
    assert names(reseller_owner, reseller, filters=Filters(q="bau")) == ["Alpha Bau"]
    assert names(reseller_owner, reseller, filters=Filters(q="GMBH")) == ["Beta"]
    assert names(reseller_owner, reseller, filters=Filters(q="books@")) == ["Alpha Bau"]
    assert names(reseller_owner, reseller, filters=Filters(q="chef@gamma")) == ["Gamma"]


def test_filters_origin_mode_product_trial_and_open_invoices(reseller, reseller_owner):
    hosting, mail = f.product("Hosting"), f.product("Mail")
    a, b, c = f.customer("A"), f.customer("B"), f.customer("C")
    f.holding(a, hosting)
    f.holding(b, mail, status="trial")
    f.holding(c, hosting, status="cancelled")
    f.manage(reseller, a, origin="partner", scopes=f.BILLING)
    f.manage(reseller, b, origin="self", mode="restricted")
    f.manage(reseller, c, origin="self", scopes=[])
    for org in (a, c):
        Invoice.objects.create(
            org=org, number=org.pk, currency="CHF", due_on=date(2026, 1, 1), status="open", **_amounts()
        )
    assert names(reseller_owner, reseller, filters=Filters(origin="self")) == ["B", "C"]
    assert names(reseller_owner, reseller, filters=Filters(mode="restricted")) == ["B"]
    assert names(reseller_owner, reseller, filters=Filters(product_id=hosting.pk)) == ["A"]
    assert names(reseller_owner, reseller, filters=Filters(trial=True)) == ["B"]
    assert names(reseller_owner, reseller, filters=Filters(paying=True)) == ["A"]
    # C has an open invoice too, but its grant hides invoices: the filter does not reveal it.
    assert names(reseller_owner, reseller, filters=Filters(open_invoices=True)) == ["A"]


def _amounts() -> dict[str, Decimal]:
    fields = {f.name for f in Invoice._meta.get_fields()}
    return {name: Decimal("10.00") for name in ("subtotal", "total") if name in fields}


def test_custom_property_filters(reseller, reseller_owner):
    region = f.prop(reseller, "Region", "choice", choices=["EU", "US"])
    seats = f.prop(reseller, "Seats", "number")
    renewal = f.prop(reseller, "Renewal", "date")
    key = f.prop(reseller, "Key account", "boolean")
    contract = f.prop(reseller, "Contract", "text")
    a, b, c = f.customer("A"), f.customer("B"), f.customer("C")
    for org in (a, b, c):
        f.manage(reseller, org)
    f.value(region, a, text="EU")
    f.value(region, b, text="US")
    f.value(seats, a, number=Decimal("5"))
    f.value(seats, b, number=Decimal("50"))
    f.value(renewal, b, date=date(2026, 6, 1))
    f.value(renewal, c, date=date(2027, 1, 1))
    f.value(key, c, boolean=True)
    f.value(contract, a, text="Gold 2026")
    assert names(reseller_owner, reseller, filters=Filters(props=(PropFilter(region, equals="US"),))) == ["B"]
    assert names(reseller_owner, reseller, filters=Filters(props=(PropFilter(seats, low=Decimal(10)),))) == ["B"]
    assert names(reseller_owner, reseller, filters=Filters(props=(PropFilter(seats, high=Decimal(10)),))) == ["A"]
    window = PropFilter(renewal, low=date(2026, 1, 1), high=date(2026, 12, 31))
    assert names(reseller_owner, reseller, filters=Filters(props=(window,))) == ["B"]
    assert names(reseller_owner, reseller, filters=Filters(props=(PropFilter(key, equals=True),))) == ["C"]
    assert names(reseller_owner, reseller, filters=Filters(props=(PropFilter(contract, contains="gold"),))) == ["A"]


def test_sorts_by_name_since_and_activity_both_ways(reseller, reseller_owner):
    a = f.customer("Anna")
    b = f.customer("Bert")
    c = f.customer("Carl")
    f.manage(reseller, a, activated_days_ago=5)
    f.manage(reseller, b, activated_days_ago=50)
    f.manage(reseller, c, activated_days_ago=1)
    AuditEntry.objects.create(org=c, action="x.one")
    AuditEntry.objects.create(org=a, action="x.two")
    assert names(reseller_owner, reseller, sort=Sort("name", descending=True)) == ["Carl", "Bert", "Anna"]
    assert names(reseller_owner, reseller, sort=Sort("since")) == ["Bert", "Anna", "Carl"]
    # Most recent activity first when descending; no activity at all comes last either way.
    assert names(reseller_owner, reseller, sort=Sort("activity", descending=True)) == ["Anna", "Carl", "Bert"]
    assert names(reseller_owner, reseller, sort=Sort("activity")) == ["Carl", "Anna", "Bert"]


@pytest.mark.parametrize("descending", [False, True])
@pytest.mark.parametrize("size", [1, 2, 3, 7])
def test_custom_property_sort_pages_through_ties_and_missing_values(reseller, reseller_owner, descending, size):
    seats = f.prop(reseller, "Seats", "number")
    orgs = [f.customer(f"C{i:02d}") for i in range(12)]
    numbers = [5, 5, 5, None, 1, 10, 5, None, 1, 10, 5, None]
    for org, number in zip(orgs, numbers, strict=True):
        f.manage(reseller, org)
        if number is not None:
            f.value(seats, org, number=Decimal(number))
    sort = Sort(f"p:{seats.key}", descending=descending, prop=seats)
    whole = names(reseller_owner, reseller, sort=sort)
    with_values = sorted(
        ((n, o.pk, o.name) for o, n in zip(orgs, numbers, strict=True) if n is not None),
        reverse=descending,
    )
    missing = sorted(((o.pk, o.name) for o, n in zip(orgs, numbers, strict=True) if n is None), reverse=descending)
    assert whole == [name for _n, _pk, name in with_values] + [name for _pk, name in missing]
    assert walk(reseller_owner, reseller, sort, size) == whole


@pytest.mark.parametrize(
    ("kind", "column", "values"),
    [
        ("text", "text", ["b", "a", "b", None]),
        ("choice", "text", ["EU", "US", "EU", None]),
        ("date", "date", [date(2026, 1, 2), None, date(2026, 1, 1), date(2026, 1, 2)]),
        ("boolean", "boolean", [True, False, None, True]),
    ],
)
def test_every_kind_pages_like_its_whole_order(reseller, reseller_owner, kind, column, values):
    p = f.prop(reseller, "Col", kind, choices=["EU", "US"])
    for i, raw in enumerate(values * 3):
        org = f.customer(f"K{i:02d}")
        f.manage(reseller, org)
        if raw is not None:
            f.value(p, org, **{column: raw})
    for descending in (False, True):
        sort = Sort(f"p:{p.key}", descending=descending, prop=p)
        assert walk(reseller_owner, reseller, sort, 2) == names(reseller_owner, reseller, sort=sort)


def test_name_and_since_sorts_page_through_ties(reseller, reseller_owner):
    for i in range(9):
        f.manage(reseller, f.customer("Same", slug=f"same-{i}"), activated_days_ago=i % 2)
    for sort in (Sort("name"), Sort("name", True), Sort("since"), Sort("since", True), Sort("activity")):
        whole = [p.customer_id for p in queries.customer_rows(reseller_owner, reseller, sort=sort)]
        rows = queries.customer_rows(reseller_owner, reseller, sort=sort)
        seen, cursor = [], None
        while True:
            page = queries.page_of(rows, sort, cursor=cursor, size=2)
            seen += [p.customer_id for p in page.rows]
            if not page.next_cursor:
                break
            cursor = page.next_cursor
        assert seen == whole and len(set(seen)) == 9


def test_a_cursor_from_another_sort_or_tampered_is_refused(reseller, reseller_owner):
    for i in range(3):
        f.manage(reseller, f.customer(f"N{i}"))
    rows = queries.customer_rows(reseller_owner, reseller, sort=Sort("name"))
    cursor = queries.page_of(rows, Sort("name"), size=1).next_cursor
    assert cursor
    for sort, bad in ((Sort("since"), cursor), (Sort("name"), "not-a-cursor"), (Sort("name"), cursor[:-3])):
        with pytest.raises(queries.BadCursor):
            queries.page_of(rows, sort, cursor=bad)


def test_columns_count_live_covered_products_and_hide_invoices_without_billing(reseller, reseller_owner):
    hosting = f.product()
    full, restricted = f.customer("Full"), f.customer("Restricted")
    f.holding(full, hosting, quantity=3)
    f.holding(full, hosting, quantity=2, status="trial")
    f.holding(full, hosting, quantity=9, status="cancelled")
    granted = f.holding(restricted, hosting, quantity=4)
    f.holding(restricted, hosting, quantity=7)
    f.manage(reseller, full, scopes=f.BILLING)
    f.manage(reseller, restricted, mode="restricted", products=[granted], scopes=[])
    AuditEntry.objects.create(org=full, action="x.one", created_at=timezone.now() - timedelta(hours=1))
    rows = {r.customer.name: r for r in queries.columns_for(list(queries.customer_rows(reseller_owner, reseller)), [])}
    assert (rows["Full"].products, rows["Full"].licences, rows["Full"].open_invoices) == (2, 5, 0)
    assert (rows["Restricted"].products, rows["Restricted"].licences) == (1, 4)
    assert rows["Restricted"].open_invoices is None
    assert rows["Full"].last_activity is not None and rows["Restricted"].last_activity is None


def test_a_property_sort_keeps_every_filter(reseller, reseller_owner):
    seats = f.prop(reseller, "Seats", "number")
    for i in range(8):
        org = f.customer(f"{'Match' if i % 2 else 'Other'} {i}")
        f.manage(reseller, org, scopes=f.BILLING if i < 6 else [])
        f.value(seats, org, number=Decimal(i % 3))
        Invoice.objects.create(org=org, number=org.pk, currency="CHF", due_on=date(2026, 1, 1), **_amounts())
    sort = Sort(f"p:{seats.key}", prop=seats)
    filters = Filters(q="match", open_invoices=True)
    whole = names(reseller_owner, reseller, sort=sort, filters=filters)
    assert whole == ["Match 3", "Match 1", "Match 5"]
    assert walk(reseller_owner, reseller, sort, 1, filters=filters) == whole


@pytest.mark.parametrize("descending", [False, True])
@pytest.mark.parametrize("size", [1, 2, 4])
def test_the_activity_sort_pages_like_its_whole_order(reseller, reseller_owner, other_partner, descending, size):
    orgs = [f.customer(f"A{i}") for i in range(7)]
    for org in orgs:
        f.manage(reseller, org)
    foreign = f.customer("Foreign")
    f.manage(other_partner, foreign)
    # Several entries per customer, interleaved with a foreign customer's; two customers have none.
    for org in [orgs[0], foreign, orgs[3], orgs[0], orgs[1], foreign, orgs[4], orgs[3], orgs[2], orgs[1]]:
        AuditEntry.objects.create(org=org, action="x.done")
    sort = Sort("activity", descending=descending)
    whole = names(reseller_owner, reseller, sort=sort)
    assert whole[-2:] == (["A5", "A6"] if not descending else ["A6", "A5"])
    assert whole[:5] == (["A0", "A4", "A3", "A2", "A1"] if not descending else ["A1", "A2", "A3", "A4", "A0"])
    assert walk(reseller_owner, reseller, sort, size) == whole
