"""The reward table of DESIGN §6 through real orders: the partnership in force prices the order."""

from __future__ import annotations

from decimal import Decimal

import pytest

from partnerhub.access.perms import Perm
from partnerhub.api.tests.helpers import send
from partnerhub.billing import wallets
from partnerhub.billing.models import CustomerProduct, Order
from partnerhub.billing.services import place_order
from partnerhub.billing.tests.shop import hosting
from partnerhub.catalog.tests.factories import make_program
from partnerhub.core.errors import ServiceError
from partnerhub.partnerships import services
from partnerhub.partnerships.services import GrantInput, order_partnership_for, ordering_for
from partnerhub.partnerships.tests.helpers import actor


@pytest.fixture
def program(operator_org):
    # Seed 001: 35 web hostings CHF 347.20 → 277.76 (−20 %) → 208.32 (−25 %).
    return make_program(operator_org, discount="20", tiers=[(30, "25")])


def _order(user, customer, product, *, access=None):
    ordered_by, partnership = ordering_for(access, customer, [product.pk])
    return place_order(
        actor(user),
        customer=customer,
        lines=[(product, 35, None)],
        currency="CHF",
        ordered_by=ordered_by,
        partnership=partnership,
    )


def test_no_partnership_no_reward(program, acme, acme_owner):
    order = _order(acme_owner, acme, hosting())
    assert (order.total, order.cashback_total, order.placed_by_org) == (Decimal("347.20"), 0, acme)
    assert order_partnership_for(acme, ordered_by="customer") is None


def test_row_1_full_with_the_customers_means_gives_cashback(program, partner, acme, acme_owner):
    services.choose_partner(actor(acme_owner), customer=acme, partner=partner, grant=GrantInput())
    order = _order(acme_owner, acme, hosting())
    assert (order.payer, order.total, order.cashback_total) == (acme, Decimal("347.20"), Decimal("138.88"))
    assert wallets.balance(partner, "CHF") == Decimal("138.88")


def test_row_2_full_with_the_partners_means_and_the_customer_ordering_gives_cashback(
    program, partner, acme, acme_owner
):
    services.choose_partner(
        actor(acme_owner), customer=acme, partner=partner, grant=GrantInput(payment_means="partner")
    )
    order = _order(acme_owner, acme, hosting())
    assert (order.payer, order.total, order.cashback_total) == (partner, Decimal("347.20"), Decimal("138.88"))
    assert wallets.balance(partner, "CHF") == Decimal("138.88")


def test_row_3_the_partner_ordering_with_its_means_pays_the_partner_price(
    program, partner, partner_admin, acme, acme_owner, client_for
):
    services.choose_partner(
        actor(acme_owner), customer=acme, partner=partner, grant=GrantInput(payment_means="partner")
    )
    product = hosting()
    # Through the API the partner's staff act on the customer with the grant (no management session).
    response = send(
        client_for(partner_admin),
        "POST",
        "/api/v1/orgs/acme/orders",
        {"currency": "CHF", "lines": [{"product_id": product.pk, "quantity": 35}]},
    )
    assert response.status_code == 201, response.content
    order = Order.objects.get()
    assert (order.payer, order.placed_by_org, order.total, order.cashback_total) == (
        partner,
        partner,
        Decimal("208.32"),
        Decimal("0.00"),
    )
    assert wallets.balance(partner, "CHF") == 0


def test_the_partner_ordering_on_the_customers_means_gives_cashback(
    program, partner, partner_admin, acme, acme_owner, client_for
):
    services.choose_partner(actor(acme_owner), customer=acme, partner=partner, grant=GrantInput())
    product = hosting()
    response = send(
        client_for(partner_admin),
        "POST",
        "/api/v1/orgs/acme/orders",
        {"currency": "CHF", "lines": [{"product_id": product.pk, "quantity": 35}]},
    )
    assert response.status_code == 201, response.content
    order = Order.objects.get()
    assert (order.payer, order.placed_by_org, order.cashback_total) == (acme, partner, Decimal("138.88"))
    assert wallets.balance(partner, "CHF") == Decimal("138.88")


def test_row_4_restricted_and_the_customer_orders_a_managed_product(program, partner, rival, acme, acme_owner):
    product = hosting()
    mine = CustomerProduct.objects.create(org=acme, product=product)
    services.choose_partner(actor(acme_owner), customer=acme, partner=rival, grant=GrantInput())
    services.choose_partner(
        actor(acme_owner),
        customer=acme,
        partner=partner,
        grant=GrantInput(mode="restricted", product_ids=frozenset({mine.pk})),
    )
    order = _order(acme_owner, acme, product)
    assert order.cashback_total == Decimal("138.88")
    assert wallets.balance(partner, "CHF") == Decimal("138.88")
    assert wallets.balance(rival, "CHF") == 0


def test_a_product_no_restricted_grant_names_goes_to_the_full_partner(program, partner, rival, acme, acme_owner):
    managed = CustomerProduct.objects.create(org=acme, product=hosting())
    services.choose_partner(actor(acme_owner), customer=acme, partner=rival, grant=GrantInput())
    services.choose_partner(
        actor(acme_owner),
        customer=acme,
        partner=partner,
        grant=GrantInput(mode="restricted", product_ids=frozenset({managed.pk})),
    )
    other = hosting("web-hosting-pro")
    _order(acme_owner, acme, other)
    assert wallets.balance(rival, "CHF") == Decimal("138.88")
    assert wallets.balance(partner, "CHF") == 0


def test_restricted_alone_and_an_unmanaged_product_gives_nothing(program, partner, acme, acme_owner):
    managed = CustomerProduct.objects.create(org=acme, product=hosting())
    services.choose_partner(
        actor(acme_owner),
        customer=acme,
        partner=partner,
        grant=GrantInput(mode="restricted", product_ids=frozenset({managed.pk})),
    )
    order = _order(acme_owner, acme, hosting("other-hosting"))
    assert order.cashback_total == 0


@pytest.mark.parametrize("how", ["revoked", "ended"])
def test_a_grant_not_in_force_stops_the_reward(program, partner, acme, acme_owner, how):
    partnership = services.choose_partner(actor(acme_owner), customer=acme, partner=partner, grant=GrantInput())
    if how == "revoked":
        services.revoke_grant(actor(acme_owner), partnership)
    else:
        services.end_partnership(actor(acme_owner), partnership)
    order = _order(acme_owner, acme, hosting())
    assert order.cashback_total == 0
    assert wallets.balance(partner, "CHF") == 0


def test_a_restricted_partner_cannot_order_for_the_customer(
    program, partner, partner_admin, acme, acme_owner, client_for
):
    managed = CustomerProduct.objects.create(org=acme, product=hosting())
    services.choose_partner(
        actor(acme_owner),
        customer=acme,
        partner=partner,
        grant=GrantInput(
            mode="restricted", product_ids=frozenset({managed.pk}), scopes=frozenset({Perm.BILLING_ORDER})
        ),
    )
    response = send(
        client_for(partner_admin),
        "POST",
        "/api/v1/orgs/acme/orders",
        {"currency": "CHF", "lines": [{"product_id": managed.product_id, "quantity": 1}]},
    )
    assert response.status_code == 403
    assert not Order.objects.exists()


def test_ordering_as_partner_needs_that_partners_full_grant(partner, rival, acme, acme_owner):
    from partnerhub.access.policy import Access

    services.choose_partner(actor(acme_owner), customer=acme, partner=rival, grant=GrantInput())
    with pytest.raises(ServiceError, match="full access"):
        ordering_for(Access(perms=frozenset({Perm.BILLING_ORDER}), via="partner", partner_id=partner.pk), acme, [])


def test_the_order_page_in_a_management_session_orders_as_the_partner(
    program, partner, partner_admin, acme, acme_owner, client_for
):
    from partnerhub.access.decorators import SESSIONS_KEY
    from partnerhub.delegation.models import ManagementSession

    partnership = services.choose_partner(
        actor(acme_owner), customer=acme, partner=partner, grant=GrantInput(payment_means="partner")
    )
    product = hosting()
    session = ManagementSession.objects.create(
        user=partner_admin, customer=acme, via="partner", acting_org=partner, partnership=partnership, reason="Order"
    )
    client = client_for(partner_admin)
    stored = client.session
    stored[SESSIONS_KEY] = {str(acme.pk): session.pk}
    stored.save()
    data = {"currency": "CHF", f"qty_{product.pk}": "35"}
    preview = client.post("/o/acme/orders/new/", data).content.decode()
    assert "208.32" in preview
    response = client.post("/o/acme/orders/new/", {**data, "confirm": "1"})
    assert response.status_code == 302, response.content
    order = Order.objects.get()
    assert (order.placed_by_org, order.payer, order.total) == (partner, partner, Decimal("208.32"))


def test_the_order_page_of_the_customer_gives_the_partner_cashback(program, partner, acme, acme_owner, client_for):
    services.choose_partner(actor(acme_owner), customer=acme, partner=partner, grant=GrantInput())
    product = hosting()
    response = client_for(acme_owner).post(
        "/o/acme/orders/new/", {"currency": "CHF", f"qty_{product.pk}": "35", "confirm": "1"}
    )
    assert response.status_code == 302, response.content
    assert wallets.balance(partner, "CHF") == Decimal("138.88")
