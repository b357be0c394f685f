"""The prepaid wallet: crediting cashback, bounded reversals, balances, append-only entries, page and API."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import pytest
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.db.models.deletion import ProtectedError
from django.urls import reverse

from conftest import run_together
from partnerhub.access.perms import Perm
from partnerhub.access.policy import Actor
from partnerhub.api.services import create_api_key
from partnerhub.audit.models import AuditEntry
from partnerhub.billing.models import Order, OrderLine, Wallet, WalletEntry, WalletEntryKind
from partnerhub.billing.wallets import (
    balance,
    balances,
    credit_cashback,
    entries_for,
    page_of,
    remaining,
    reverse_entry,
)
from partnerhub.catalog.models import Category, Product
from partnerhub.core.errors import ServiceError

D = Decimal
TABLE = WalletEntry._meta.db_table


@pytest.fixture
def product(db):
    category = Category.objects.create(slug="shared-hosting", name="Shared hosting")
    return Product.objects.create(category=category, sku="web-hosting", name="Web hosting")


def make_line(product, *, org, user, currency="CHF", cashback="138.88") -> OrderLine:
    order = Order.objects.create(
        org=org,
        placed_by=user,
        placed_by_org=org,
        payer=org,
        currency=currency,
        subtotal=D("347.20"),
        discount_total=D("0"),
        total=D("347.20"),
        cashback_total=D(cashback),
    )
    return OrderLine.objects.create(
        order=order,
        line_no=1,
        product=product,
        kind=product.kind,
        description="Web hosting",
        quantity=35,
        unit_price=D("9.92"),
        list_total=D("347.20"),
        partner_discount=D("69.44"),
        volume_discount=D("69.44"),
        total=D("347.20"),
        cashback=D(cashback),
    )


@pytest.fixture
def line(product, acme, acme_owner):
    return make_line(product, org=acme, user=acme_owner)


@pytest.fixture
def cashback(globex, line):
    """Globex (the partner) earned 138.88 CHF of cashback on Acme's order."""
    return credit_cashback(org=globex, currency="CHF", amount=D("138.88"), order_line=line, description="O-1 cashback")


def rows():
    return list(WalletEntry.objects.values().order_by("id"))


# --- crediting -----------------------------------------------------------------------------------


def test_credit_creates_the_wallet_and_an_entry(globex, line):
    entry = credit_cashback(org=globex, currency="CHF", amount=D("138.88"), order_line=line, description="O-1")

    wallet = Wallet.objects.get()
    assert (wallet.org, wallet.currency) == (globex, "CHF")
    assert (entry.wallet, entry.kind, entry.amount, entry.order_line, entry.reverses) == (
        wallet,
        WalletEntryKind.CASHBACK,
        D("138.88"),
        line,
        None,
    )
    assert balance(globex, "CHF") == D("138.88")
    # A ledger primitive: the calling order service records the audit entry, not this.
    assert not AuditEntry.objects.exists()


def test_further_credits_reuse_the_wallet_and_add_up(globex, line, product, acme, acme_owner):
    credit_cashback(org=globex, currency="CHF", amount=D("10.05"), order_line=line, description="a")
    credit_cashback(org=globex, currency="CHF", amount=D("0.01"), order_line=None, description="b")
    eur_line = make_line(product, org=acme, user=acme_owner, currency="EUR")
    credit_cashback(org=globex, currency="EUR", amount=D("80.50"), order_line=eur_line, description="c")

    assert Wallet.objects.count() == 2
    assert balance(globex, "CHF") == D("10.06")
    assert balance(globex, "EUR") == D("80.50")
    assert balance(globex, "USD") == D("0.00")


def test_credit_refuses_bad_amounts_and_writes_nothing(globex, line):
    for amount in (D("0"), D("-1.00"), D("0.001"), D("NaN")):
        with pytest.raises((ValueError, TypeError)):
            credit_cashback(org=globex, currency="CHF", amount=amount, order_line=line, description="x")
    with pytest.raises(TypeError):
        credit_cashback(org=globex, currency="CHF", amount=1.5, order_line=line, description="x")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="currency"):
        credit_cashback(org=globex, currency="EUR", amount=D("1.00"), order_line=line, description="x")
    assert not WalletEntry.objects.exists()
    assert not Wallet.objects.exists()


def test_credit_finds_a_wallet_created_meanwhile(globex, line):
    # The unique (org, currency) constraint is what makes creation race-safe: a second row is refused.
    Wallet.objects.create(org=globex, currency="CHF")
    with pytest.raises(IntegrityError), transaction.atomic():
        Wallet.objects.create(org=globex, currency="CHF")
    credit_cashback(org=globex, currency="CHF", amount=D("1.00"), order_line=line, description="x")
    assert Wallet.objects.count() == 1


# --- reversals -----------------------------------------------------------------------------------


def test_full_reversal_brings_the_balance_back_to_zero(globex, cashback):
    reversal = reverse_entry(entry=cashback, description="O-1 refunded")

    assert (reversal.kind, reversal.amount, reversal.reverses, reversal.order_line_id) == (
        WalletEntryKind.REVERSAL,
        D("-138.88"),
        cashback,
        cashback.order_line_id,
    )
    assert reversal.wallet_id == cashback.wallet_id
    assert balance(globex, "CHF") == D("0.00")
    assert remaining(cashback) == D("0")


def test_partial_reversals_never_exceed_what_remains(globex, cashback):
    reverse_entry(entry=cashback, amount=D("38.88"), description="partial refund 1")
    reverse_entry(entry=cashback, amount=D("50.00"), description="partial refund 2")
    before = rows()

    with pytest.raises(ServiceError, match=r"50\.00"):
        reverse_entry(entry=cashback, amount=D("50.01"), description="too much")
    assert rows() == before

    reverse_entry(entry=cashback, amount=D("50.00"), description="the rest")
    assert balance(globex, "CHF") == D("0.00")
    with pytest.raises(ServiceError, match="in full"):
        reverse_entry(entry=cashback, description="again")
    with pytest.raises(ServiceError, match="in full"):
        reverse_entry(entry=cashback, amount=D("0.01"), description="again")
    assert WalletEntry.objects.count() == 4


def test_a_reversal_bounds_only_its_own_entry(globex, cashback, line):
    other = credit_cashback(org=globex, currency="CHF", amount=D("5.00"), order_line=line, description="other")
    reverse_entry(entry=cashback, description="all of the first")

    with pytest.raises(ServiceError):
        reverse_entry(entry=other, amount=D("5.01"), description="more than the second")
    reverse_entry(entry=other, amount=D("5.00"), description="all of the second")
    assert balance(globex, "CHF") == D("0.00")


@pytest.mark.parametrize("amount", [D("0"), D("-1.00")])
def test_a_reversal_needs_a_positive_amount(cashback, amount):
    before = rows()
    with pytest.raises(ServiceError):
        reverse_entry(entry=cashback, amount=amount, description="x")
    assert rows() == before


def test_an_unrounded_reversal_is_refused(cashback):
    before = rows()
    with pytest.raises(ValueError):
        reverse_entry(entry=cashback, amount=D("1.005"), description="x")
    assert rows() == before


def test_a_reversal_cannot_be_reversed(cashback):
    reversal = reverse_entry(entry=cashback, amount=D("1.00"), description="x")
    before = rows()
    with pytest.raises(ServiceError):
        reverse_entry(entry=reversal, description="undo the undo")
    assert rows() == before


def test_a_stale_entry_object_still_counts_every_reversal(cashback):
    stale = WalletEntry.objects.get(pk=cashback.pk)
    reverse_entry(entry=cashback, amount=D("100.00"), description="x")
    with pytest.raises(ServiceError):
        reverse_entry(entry=stale, amount=D("40.00"), description="y")
    assert reverse_entry(entry=stale, description="z").amount == D("-38.88")


# --- reading -------------------------------------------------------------------------------------


def test_balance_is_one_query(globex, cashback, django_assert_num_queries):
    with django_assert_num_queries(1):
        assert balance(globex, "CHF") == D("138.88")


def test_balances_per_currency_in_one_query(globex, acme, cashback, product, acme_owner, django_assert_num_queries):
    eur = make_line(product, org=acme, user=acme_owner, currency="EUR")
    credit_cashback(org=globex, currency="EUR", amount=D("80.50"), order_line=eur, description="c")
    reverse_entry(entry=cashback, amount=D("0.88"), description="r")

    with django_assert_num_queries(1):
        result = balances(globex)
    assert [(b.currency, b.balance, b.entry_count) for b in result] == [
        ("CHF", D("138.00"), 2),
        ("EUR", D("80.50"), 1),
    ]
    assert balances(acme) == []


def test_entries_for_is_the_org_and_currency_newest_first(globex, acme, cashback, line):
    own = credit_cashback(org=acme, currency="CHF", amount=D("1.00"), order_line=line, description="acme's")
    reversal = reverse_entry(entry=cashback, amount=D("1.00"), description="r")

    assert list(entries_for(globex, "CHF")) == [reversal, cashback]
    assert list(entries_for(globex)) == [reversal, cashback]
    assert list(entries_for(globex, "EUR")) == []
    assert list(entries_for(acme)) == [own]


def test_keyset_pages_walk_both_ways(globex, line):
    entries = [
        credit_cashback(org=globex, currency="CHF", amount=D("1.00"), order_line=line, description=f"#{i}")
        for i in range(7)
    ]
    newest_first = list(reversed(entries))

    first = page_of(globex, size=3)
    assert first.rows == newest_first[:3]
    assert (first.newer_than, first.older_than) == (None, newest_first[2].pk)
    second = page_of(globex, before=first.older_than, size=3)
    assert second.rows == newest_first[3:6]
    assert second.newer_than == newest_first[3].pk
    last = page_of(globex, before=second.older_than, size=3)
    assert (last.rows, last.older_than) == (newest_first[6:], None)
    back = page_of(globex, after=last.newer_than, size=3)
    assert back.rows == newest_first[3:6]


# --- append-only (database triggers, SQLite and PostgreSQL) ------------------------------------------


def assert_refused(attempt: Callable[[], object]) -> None:
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        attempt()


def test_entries_cannot_be_updated(cashback):
    before = rows()
    assert_refused(lambda: WalletEntry.objects.filter(pk=cashback.pk).update(amount=D("999.00")))

    def rewrite() -> None:
        cashback.amount = D("999.00")
        cashback.save()

    assert_refused(rewrite)

    def raw_update() -> None:
        with connection.cursor() as cursor:
            cursor.execute(f"UPDATE {TABLE} SET amount = 999 WHERE id = %s", [cashback.pk])  # noqa: S608

    assert_refused(raw_update)
    assert rows() == before


def test_entries_cannot_be_deleted(cashback):
    reverse_entry(entry=cashback, amount=D("1.00"), description="r")
    before = rows()
    # The reversal points at the cashback entry (PROTECT); the newest row has nothing pointing at it.
    newest = WalletEntry.objects.order_by("-id").first()
    assert newest is not None
    assert_refused(newest.delete)

    def raw_delete() -> None:
        with connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM {TABLE} WHERE id = %s", [cashback.pk])  # noqa: S608

    assert_refused(raw_delete)
    assert rows() == before


def test_a_wallet_with_entries_cannot_be_deleted(cashback):
    with pytest.raises(ProtectedError):
        Wallet.objects.filter(pk=cashback.wallet_id).delete()
    assert Wallet.objects.filter(pk=cashback.wallet_id).exists()


# --- the wallet page -----------------------------------------------------------------------------


def url(slug: str = "globex") -> str:
    return reverse("wallet_detail", args=[slug])


def test_page_shows_balances_and_entries(client_for, globex_owner, cashback):
    reverse_entry(entry=cashback, amount=D("38.88"), description="Partial refund of O-1")

    response = client_for(globex_owner).get(url())

    body = response.content.decode()
    assert response.status_code == 200
    assert "CHF 100.00" in body
    assert "O-1 cashback" in body
    assert "Partial refund of O-1" in body
    assert "CHF -38.88" in body
    assert f"reverses entry #{cashback.pk}" in body


def test_page_empty_state(client_for, globex_owner):
    response = client_for(globex_owner).get(url())
    assert response.status_code == 200
    assert "No wallet yet" in response.content.decode()
    assert not Wallet.objects.exists()


def test_page_filters_by_currency_and_ignores_bad_parameters(
    client_for, globex, globex_owner, cashback, product, acme, acme_owner
):
    eur = make_line(product, org=acme, user=acme_owner, currency="EUR")
    credit_cashback(org=globex, currency="EUR", amount=D("80.50"), order_line=eur, description="euro cashback")
    client = client_for(globex_owner)

    eur_only = client.get(url(), {"currency": "EUR"}).content.decode()
    assert "euro cashback" in eur_only and "O-1 cashback" not in eur_only
    still_eur = client.get(url(), {"currency": "EUR", "before": "abc"}).content.decode()
    assert "euro cashback" in still_eur and "O-1 cashback" not in still_eur
    unfiltered = client.get(url(), {"currency": "XXX", "before": "abc"})
    assert unfiltered.status_code == 200
    assert "euro cashback" in unfiltered.content.decode() and "O-1 cashback" in unfiltered.content.decode()


def test_page_is_paged_by_id(client_for, globex, globex_owner, line):
    for i in range(52):
        credit_cashback(org=globex, currency="CHF", amount=D("1.00"), order_line=line, description=f"entry {i:02d}")
    client = client_for(globex_owner)

    first = client.get(url()).content.decode()
    assert "entry 51" in first and "entry 02" in first and "entry 01" not in first
    oldest_shown = WalletEntry.objects.get(description="entry 02").pk
    assert f"before={oldest_shown}" in first
    second = client.get(url(), {"before": oldest_shown}).content.decode()
    assert "entry 01" in second and "entry 00" in second and "entry 02" not in second


def test_page_htmx_answers_the_entries_only(client_for, globex_owner, cashback):
    response = client_for(globex_owner).get(url(), headers={"HX-Request": "true"})
    body = response.content.decode()
    assert 'id="wallet-entries"' in body
    assert "<h1>" not in body


def test_page_needs_billing_view(client_for, acme, acme_member, globex_owner, cashback):
    before = rows()
    audit_before = AuditEntry.objects.count()

    assert client_for(acme_member).get(url("acme")).status_code == 403  # a member without billing.view
    assert client_for(acme_member).get(url("globex")).status_code == 404  # someone else's organisation
    assert client_for(globex_owner).get(url("nowhere")).status_code == 404
    anonymous = client_for(None).get(url("globex"))
    assert anonymous.status_code == 302 and anonymous["Location"].startswith(reverse("account_login"))

    assert rows() == before
    assert Wallet.objects.count() == 1
    assert AuditEntry.objects.count() == audit_before


def test_page_of_one_org_never_shows_anothers_entries(client_for, acme_owner, cashback):
    body = client_for(acme_owner).get(url("acme")).content.decode()
    assert "O-1 cashback" not in body
    assert "No wallet yet" in body


# --- the API -------------------------------------------------------------------------------------


def test_api_lists_wallets_with_string_balances(client_for, globex_owner, cashback):
    reverse_entry(entry=cashback, amount=D("0.88"), description="r")

    response = client_for(globex_owner).get("/api/v1/orgs/globex/wallets")

    assert response.status_code == 200
    assert response.json() == [{"currency": "CHF", "balance": "138.00", "entry_count": 2}]


def test_api_lists_a_wallets_entries_paginated(client_for, globex_owner, cashback):
    reversal = reverse_entry(entry=cashback, amount=D("0.88"), description="r")
    client = client_for(globex_owner)

    page = client.get("/api/v1/orgs/globex/wallets/CHF/entries", {"limit": 1}).json()
    assert [item["id"] for item in page["items"]] == [reversal.pk]
    assert page["items"][0]["amount"] == "-0.88"
    assert page["items"][0]["reverses_id"] == cashback.pk
    assert page["items"][0]["currency"] == "CHF"
    rest = client.get("/api/v1/orgs/globex/wallets/CHF/entries", {"limit": 1, "cursor": page["next_cursor"]}).json()
    assert [(item["id"], item["amount"], item["kind"]) for item in rest["items"]] == [
        (cashback.pk, "138.88", "cashback")
    ]
    assert rest["next_cursor"] is None


def test_api_entries_of_a_missing_wallet_or_unknown_currency(client_for, globex_owner, cashback):
    client = client_for(globex_owner)
    assert client.get("/api/v1/orgs/globex/wallets/EUR/entries").status_code == 404
    assert client.get("/api/v1/orgs/globex/wallets/XYZ/entries").status_code == 422


def test_api_with_a_key(client, globex, globex_owner, cashback):
    _key, secret = create_api_key(Actor(user=globex_owner), org=globex, name="Books", perms=[Perm.BILLING_VIEW])
    response = client.get("/api/v1/orgs/globex/wallets", headers={"Authorization": f"Bearer {secret}"})
    assert response.status_code == 200
    assert response.json()[0]["balance"] == "138.88"

    _key, org_only = create_api_key(Actor(user=globex_owner), org=globex, name="Other", perms=[Perm.ORG_VIEW])
    denied = client.get("/api/v1/orgs/globex/wallets", headers={"Authorization": f"Bearer {org_only}"})
    assert denied.status_code == 403


@pytest.mark.parametrize("path", ["/api/v1/orgs/{}/wallets", "/api/v1/orgs/{}/wallets/CHF/entries"])
def test_api_needs_billing_view(client_for, acme, acme_member, acme_owner, cashback, path):
    before = rows()

    member = client_for(acme_member).get(path.format("acme"))
    assert member.status_code == 403
    assert member["Content-Type"] == "application/problem+json"
    assert client_for(acme_owner).get(path.format("globex")).status_code == 404
    assert client_for(acme_owner).get(path.format("nowhere")).status_code == 404
    assert client_for(None).get(path.format("globex")).status_code == 401

    assert rows() == before


# --- concurrency (PostgreSQL: several connections, committed data) -----------------------------------

postgres_only = pytest.mark.skipif(connection.vendor != "postgresql", reason="needs concurrent connections")


@postgres_only
def test_concurrent_first_credits_create_one_wallet(flushable_db, globex, line):
    def credit() -> WalletEntry:
        return credit_cashback(org=globex, currency="CHF", amount=D("1.00"), order_line=line, description="x")

    results = run_together(credit, credit, credit, hold=0.2)

    assert all(isinstance(result, WalletEntry) for result in results), results
    assert Wallet.objects.filter(org=globex, currency="CHF").count() == 1
    assert balance(globex, "CHF") == D("3.00")


@postgres_only
def test_concurrent_reversals_never_exceed_the_entry(flushable_db, globex, cashback):
    def reverse() -> WalletEntry:
        return reverse_entry(entry=cashback, amount=D("100.00"), description="refund")

    results = run_together(reverse, reverse, hold=0.2)

    assert sum(isinstance(result, WalletEntry) for result in results) == 1
    assert sum(isinstance(result, ServiceError) for result in results) == 1
    assert balance(globex, "CHF") == D("38.88")
