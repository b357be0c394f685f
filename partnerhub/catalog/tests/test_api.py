"""The catalog and program through the API: reads for everybody logged in, writes for operator staff."""

from decimal import Decimal

import pytest
from django.test import Client

from partnerhub.access.perms import Perm
from partnerhub.api.services import create_api_key
from partnerhub.api.tests.helpers import assert_problem, bearer, send
from partnerhub.catalog.models import Category, Price, Product
from partnerhub.catalog.tests.factories import make_category, make_product, make_program
from partnerhub.catalog.tests.helpers import actor, audit_actions, snapshot
from partnerhub.partners.models import Program, VolumeTier


@pytest.fixture
def shop(db):
    hosting = make_category("shared-hosting", "Shared hosting", position=1)
    domains = make_category("domains", "Domains & SSL", position=2)
    make_product(hosting, "web-hosting", prices={"CHF": "9.92", "EUR": "5.75"})
    make_product(domains, "domain-ch", kind="domain", prices={"CHF": "15"})
    make_product(hosting, "old-plan", prices={"CHF": "1"}, is_active=False)
    return hosting, domains


def test_catalog_needs_a_login(shop):
    assert_problem(Client().get("/api/v1/catalog/products"), 401)
    assert_problem(Client().get("/api/v1/catalog/categories"), 401)


def test_everybody_logged_in_reads_the_catalog(client_for, outsider, shop):
    client = client_for(outsider)
    categories = client.get("/api/v1/catalog/categories").json()["items"]
    assert [c["slug"] for c in categories] == ["shared-hosting", "domains"]

    items = client.get("/api/v1/catalog/products").json()["items"]
    assert [p["sku"] for p in items] == ["domain-ch", "web-hosting"]
    web = items[1]
    assert web["prices"] == {"CHF": "9.92", "EUR": "5.75"}
    assert web["category"] == "shared-hosting"
    assert web["is_active"] is True

    body = client.get("/api/v1/catalog/products/web-hosting").json()
    assert body["prices"]["CHF"] == "9.92"
    assert_problem(client.get("/api/v1/catalog/products/old-plan"), 404)
    assert_problem(client.get("/api/v1/catalog/products/nope"), 404)
    # Customers never see retired products, even when they ask for them.
    assert client.get("/api/v1/catalog/products?active=false").json()["items"] == []


def test_product_filters_and_pagination(client_for, outsider, shop):
    client = client_for(outsider)

    def skus(query):
        return [p["sku"] for p in client.get(f"/api/v1/catalog/products?{query}").json()["items"]]

    assert skus("currency=EUR") == ["web-hosting"]
    assert skus("kind=domain") == ["domain-ch"]
    assert skus("category=shared-hosting") == ["web-hosting"]
    assert skus("category=nothing") == []
    first = client.get("/api/v1/catalog/products?limit=1").json()
    assert [p["sku"] for p in first["items"]] == ["domain-ch"]
    second = client.get(f"/api/v1/catalog/products?limit=1&cursor={first['next_cursor']}").json()
    assert [p["sku"] for p in second["items"]] == ["web-hosting"]
    assert second["next_cursor"] is None
    assert_problem(client.get("/api/v1/catalog/products?currency=XYZ"), 422)


def test_operator_staff_see_retired_products(client_for, operator_staff, shop):
    client = client_for(operator_staff)
    skus = [p["sku"] for p in client.get("/api/v1/catalog/products").json()["items"]]
    assert skus == ["domain-ch", "old-plan", "web-hosting"]
    assert [p["sku"] for p in client.get("/api/v1/catalog/products?active=false").json()["items"]] == ["old-plan"]
    assert client.get("/api/v1/catalog/products/old-plan").json()["is_active"] is False


def test_product_list_costs_constant_queries(client_for, outsider, shop, django_assert_max_num_queries):
    for i in range(20):
        make_product(shop[0], f"extra-{i}", prices={"CHF": "1", "EUR": "1"})
    client = client_for(outsider)
    with django_assert_max_num_queries(12):
        assert len(client.get("/api/v1/catalog/products?limit=100").json()["items"]) == 22


def test_create_product(client_for, operator_staff, shop):
    body = {
        "category": "shared-hosting",
        "sku": "web-hosting-xl",
        "name": "Web hosting XL",
        "kind": "service",
        "billing_period": "yearly",
        "licence_kind": "absolute",
        "unit_label": "sites",
        "trial_days": 30,
        "prices": {"CHF": "99.995", "EUR": "80"},
    }
    response = send(client_for(operator_staff), "POST", "/api/v1/orgs/operator/catalog/products", body)

    assert response.status_code == 201, response.content
    assert response.json()["prices"] == {"CHF": "100.00", "EUR": "80.00"}
    assert Product.objects.get(sku="web-hosting-xl").billing_period == "yearly"
    assert audit_actions() == ["catalog.product_created"]


def test_create_product_problems(client_for, operator_staff, shop):
    client = client_for(operator_staff)
    url = "/api/v1/orgs/operator/catalog/products"
    before = snapshot()
    assert_problem(send(client, "POST", url, {"category": "shared-hosting", "sku": "web-hosting", "name": "x"}), 409)
    assert_problem(send(client, "POST", url, {"category": "nothing", "sku": "new", "name": "x"}), 422)
    body = assert_problem(
        send(client, "POST", url, {"category": "domains", "sku": "n", "name": "x", "prices": {"CHF": 9.5}}), 422
    )
    assert body["errors"]
    assert_problem(
        send(client, "POST", url, {"category": "domains", "sku": "n", "name": "x", "prices": {"CHF": "-1"}}), 422
    )
    assert_problem(send(client, "POST", url, {"category": "domains", "sku": "n", "name": "x", "kind": "gadget"}), 422)
    assert_problem(send(client, "POST", url, {"category": "domains", "sku": "n", "name": "x", "surprise": 1}), 422)
    assert snapshot() == before


def test_update_product_and_retire(client_for, operator_staff, shop):
    client = client_for(operator_staff)
    url = "/api/v1/orgs/operator/catalog/products/web-hosting"
    response = send(client, "PATCH", url, {"name": "Web hosting S", "prices": {"EUR": None, "USD": "10"}})
    assert response.status_code == 200, response.content
    assert response.json()["prices"] == {"CHF": "9.92", "USD": "10.00"}
    assert response.json()["name"] == "Web hosting S"

    assert send(client, "PATCH", url, {"is_active": False}).json()["is_active"] is False
    assert not Product.objects.get(sku="web-hosting").is_active
    assert_problem(send(client, "PATCH", url, {"sku": "domain-ch"}), 409)
    assert_problem(send(client, "PATCH", "/api/v1/orgs/operator/catalog/products/nope", {"name": "x"}), 404)


def test_prices_per_currency(client_for, operator_staff, shop):
    client = client_for(operator_staff)
    url = "/api/v1/orgs/operator/catalog/products/domain-ch/prices"
    response = send(client, "PUT", f"{url}/EUR", {"amount": "12.345"})
    assert response.status_code == 200, response.content
    assert response.json() == {"sku": "domain-ch", "currency": "EUR", "amount": "12.35"}
    assert Price.objects.get(product__sku="domain-ch", currency="EUR").amount == Decimal("12.35")

    assert_problem(send(client, "PUT", f"{url}/EUR", {"amount": 12.5}), 422)
    assert_problem(send(client, "PUT", f"{url}/EUR", {"amount": "-3"}), 422)
    assert_problem(send(client, "PUT", f"{url}/XYZ", {"amount": "3"}), 422)

    assert send(client, "DELETE", f"{url}/EUR").status_code == 204
    assert not Price.objects.filter(product__sku="domain-ch", currency="EUR").exists()
    assert_problem(send(client, "DELETE", f"{url}/EUR"), 404)
    assert audit_actions() == ["catalog.price_set", "catalog.price_removed"]


def test_categories_write(client_for, operator_staff, shop):
    client = client_for(operator_staff)
    response = send(client, "POST", "/api/v1/orgs/operator/catalog/categories", {"slug": "courses", "name": "Courses"})
    assert response.status_code == 201
    assert response.json() == {"slug": "courses", "name": "Courses", "position": 0}
    assert_problem(
        send(client, "POST", "/api/v1/orgs/operator/catalog/categories", {"slug": "courses", "name": "x"}), 409
    )
    response = send(client, "PATCH", "/api/v1/orgs/operator/catalog/categories/courses", {"position": 7})
    assert response.json()["position"] == 7
    assert Category.objects.get(slug="courses").name == "Courses"
    assert_problem(send(client, "PATCH", "/api/v1/orgs/operator/catalog/categories/nope", {"position": 1}), 404)


def test_program_api(client_for, operator_staff, operator_org):
    client = client_for(operator_staff)
    body = client.get("/api/v1/orgs/operator/program").json()
    assert body == {
        "name": "Partner program",
        "reseller_pricing": True,
        "partner_discount_percent": "20.00",
        "volume_tiers": [],
    }

    body = send(client, "PATCH", "/api/v1/orgs/operator/program", {"partner_discount_percent": "22.5"}).json()
    assert body["partner_discount_percent"] == "22.50"
    assert body["reseller_pricing"] is True
    assert_problem(send(client, "PATCH", "/api/v1/orgs/operator/program", {"partner_discount_percent": 22.5}), 422)
    assert_problem(send(client, "PATCH", "/api/v1/orgs/operator/program", {"partner_discount_percent": "101"}), 422)

    url = "/api/v1/orgs/operator/program/volume-tiers"
    for quantity, percent in [(30, "25"), (10, "10"), (25, "20")]:
        assert send(client, "POST", url, {"min_quantity": quantity, "percent": percent}).status_code == 201
    assert_problem(send(client, "POST", url, {"min_quantity": 10, "percent": "5"}), 409)
    assert send(client, "PATCH", f"{url}/25", {"percent": "15"}).json() == {"min_quantity": 25, "percent": "15.00"}
    assert_problem(send(client, "PATCH", f"{url}/25", {"min_quantity": 30}), 409)
    assert send(client, "DELETE", f"{url}/10").status_code == 204
    assert_problem(send(client, "DELETE", f"{url}/10"), 404)
    tiers = client.get("/api/v1/orgs/operator/program").json()["volume_tiers"]
    assert tiers == [{"min_quantity": 25, "percent": "15.00"}, {"min_quantity": 30, "percent": "25.00"}]


def test_operator_api_key_with_the_permission(operator_staff, operator_org, shop):
    _key, secret = create_api_key(
        actor(operator_staff),
        org=operator_org,
        name="Catalog sync",
        perms=[Perm.OPERATOR_PROGRAM_MANAGE],
        expires_at=None,
    )
    response = send(
        Client(),
        "PUT",
        "/api/v1/orgs/operator/catalog/products/web-hosting/prices/USD",
        {"amount": "11"},
        **bearer(secret),
    )
    assert response.status_code == 200, response.content
    # The key sees retired products like its owner.
    skus = [p["sku"] for p in Client().get("/api/v1/catalog/products", headers=bearer(secret)).json()["items"]]
    assert "old-plan" in skus


def test_operator_api_key_without_the_permission(operator_staff, operator_org, shop):
    _key, secret = create_api_key(
        actor(operator_staff), org=operator_org, name="Read", perms=[Perm.ORG_VIEW], expires_at=None
    )
    before = snapshot()
    assert_problem(
        send(
            Client(),
            "PUT",
            "/api/v1/orgs/operator/catalog/products/web-hosting/prices/USD",
            {"amount": "11"},
            **bearer(secret),
        ),
        403,
    )
    assert snapshot() == before
    skus = [p["sku"] for p in Client().get("/api/v1/catalog/products", headers=bearer(secret)).json()["items"]]
    assert "old-plan" not in skus


WRITES = [
    ("POST", "/catalog/products", {"category": "domains", "sku": "new", "name": "New"}),
    ("PATCH", "/catalog/products/web-hosting", {"name": "Hacked"}),
    ("PUT", "/catalog/products/web-hosting/prices/CHF", {"amount": "0"}),
    ("DELETE", "/catalog/products/web-hosting/prices/CHF", None),
    ("POST", "/catalog/categories", {"slug": "x", "name": "X"}),
    ("PATCH", "/catalog/categories/domains", {"name": "X"}),
    ("GET", "/program", None),
    ("PATCH", "/program", {"partner_discount_percent": "90"}),
    ("POST", "/program/volume-tiers", {"min_quantity": 5, "percent": "50"}),
    ("PATCH", "/program/volume-tiers/10", {"percent": "90"}),
    ("DELETE", "/program/volume-tiers/10", None),
]


@pytest.mark.parametrize(("method", "path", "body"), WRITES)
@pytest.mark.parametrize(
    ("who", "org", "status"),
    [
        ("operator_staff", "acme", 404),  # staff are not members of acme
        ("acme_owner", "acme", 403),
        ("acme_owner", "operator", 404),
        ("globex_owner", "operator", 404),
        ("outsider", "operator", 404),
    ],
)
def test_writes_refuse_everybody_but_operator_staff(
    request, client_for, operator_org, shop, method, path, body, who, org, status
):
    request.getfixturevalue("acme")
    user = request.getfixturevalue(who)
    make_program(operator_org, tiers=[(10, "10")])
    before = snapshot()
    assert_problem(send(client_for(user), method, f"/api/v1/orgs/{org}{path}", body), status)
    assert snapshot() == before
    assert Program.objects.count() == 1 and VolumeTier.objects.count() == 1
